import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3ResponseError, S3RequestType } from '../src/index.js';
import type { FaultRule, RecordedRequest } from '../src/local/index.js';
import { httpRequest, run } from './helpers/client.js';
import { useLocalFixture } from './helpers/fixture.js';
import { MiB, makeBuffer, sha256 } from './helpers/servers.js';

const bucket = 'retries';
const data = makeBuffer(40 * MiB + 7);
// A short stall timeout, so that a stalled connection is noticed within the test.
const fixture = useLocalFixture(bucket, { client: { stallTimeoutMs: 1000 }, resetEachTest: true });

const part = (n: number) => (r: RecordedRequest) => r.operation === 'UploadPart' && r.partNumber === n;
const range = (start: number) => (r: RecordedRequest) => r.operation === 'GetObject' && (r.headers.range ?? '').startsWith(`bytes=${start}-`);
const operation = (name: string) => (r: RecordedRequest) => r.operation === name;
const count = (match: (r: RecordedRequest) => boolean) => fixture.server.requests.filter(match).length;
const fault = (rule: FaultRule) => fixture.server.faults.add(rule);

beforeAll(async () => {
  expect(
    (await run(fixture.client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/source`, {}, data) })).error,
  ).toBeNull();
});

function upload(key: string) {
  return run(fixture.client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/${key}`, {}, data) });
}

function download(recvFilepath?: string, headers: Record<string, string> = {}) {
  return run(fixture.client, {
    type: S3RequestType.GET_OBJECT,
    request: httpRequest(fixture.server.host, 'GET', `/${bucket}/source`, headers),
    ...(recvFilepath ? { recvFilepath } : {}),
  });
}

async function uploadsLeft(): Promise<string> {
  return (
    await run(fixture.client, {
      type: S3RequestType.DEFAULT,
      operationName: 'ListMultipartUploads',
      request: httpRequest(fixture.server.host, 'GET', `/${bucket}?uploads`),
    })
  ).body.toString();
}

describe('servers that differ from S3', () => {
  it('a server that ignores Range and answers 200 with the whole object is streamed through in order', async () => {
    fault({ operation: 'GetObject', times: 2, action: { type: 'ignore-range' } });
    const inMemory = await download();
    expect(inMemory.error).toBeNull();
    expect(inMemory.headers[0]?.statusCode).toBe(200);
    expect(sha256(inMemory.body)).toBe(sha256(data));
    expect(inMemory.progress).toBe(data.length);
    const target = join(fixture.folder.path, 'whole.bin');
    const toFile = await download(target);
    expect(toFile.error).toBeNull();
    expect(sha256(await readFile(target))).toBe(sha256(data));
    expect(count(operation('GetObject'))).toBe(2);
  });

  it("a caller's range is cut out of a whole-object answer", async () => {
    fault({ operation: 'GetObject', action: { type: 'ignore-range' } });
    const result = await download(undefined, { range: `bytes=${MiB + 3}-${3 * MiB}` });
    expect(result.error).toBeNull();
    expect(sha256(result.body)).toBe(sha256(data.subarray(MiB + 3, 3 * MiB + 1)));
  });
});

describe('retries, part by part', () => {
  it('503 SlowDown on one UploadPart retries that part alone and the upload completes', async () => {
    fault({ operation: 'UploadPart', partNumber: 3, times: 2, action: { type: 'error', status: 503, code: 'SlowDown' } });
    const result = await upload('slowdown');
    expect(result.error).toBeNull();
    expect(count(part(3))).toBe(3);
    for (const other of [1, 2, 4, 5]) expect(count(part(other))).toBe(1);
    expect(
      sha256((await run(fixture.client, { type: S3RequestType.GET_OBJECT, request: httpRequest(fixture.server.host, 'GET', `/${bucket}/slowdown`) })).body),
    ).toBe(sha256(data));
  });

  it('500 InternalError on CompleteMultipartUpload is retried', async () => {
    fault({ operation: 'CompleteMultipartUpload', action: { type: 'error', status: 500, code: 'InternalError' } });
    const result = await upload('complete-retried');
    expect(result.error).toBeNull();
    expect(count(operation('CompleteMultipartUpload'))).toBe(2);
  });

  it('CompleteMultipartUpload answered 200 with an error document is an error, and is retried', async () => {
    fault({ operation: 'CompleteMultipartUpload', action: { type: 'error', status: 200, code: 'InternalError' } });
    const result = await upload('complete-200-error');
    expect(result.error).toBeNull();
    expect(count(operation('CompleteMultipartUpload'))).toBe(2);
  });

  it('CompleteMultipartUpload answered 200 with an error that will repeat fails the upload and aborts it', async () => {
    fault({ operation: 'CompleteMultipartUpload', action: { type: 'error', status: 200, code: 'InvalidPart' } });
    const result = await upload('complete-200-invalid');
    expect(result.error).toMatchObject({ s3Code: 'InvalidPart', statusCode: 200, operationName: 'CompleteMultipartUpload' });
    expect(count(operation('AbortMultipartUpload'))).toBe(1);
    expect(await uploadsLeft()).not.toContain('<Upload>');
  });

  it('a connection reset halfway through a GET part retries that range only', async () => {
    fault({ operation: 'GetObject', range: `bytes=${16 * MiB}-`, action: { type: 'reset-response', afterBytes: 4 * MiB } });
    const result = await download();
    expect(result.error).toBeNull();
    expect(sha256(result.body)).toBe(sha256(data));
    expect(count(range(16 * MiB))).toBe(2);
    expect(count(range(8 * MiB))).toBe(1);
  });

  it('a connection reset halfway through an UploadPart body retries that part only', async () => {
    fault({ operation: 'UploadPart', partNumber: 2, action: { type: 'reset-request', afterBytes: 4 * MiB } });
    const result = await upload('reset-request');
    expect(result.error).toBeNull();
    expect(count(part(2))).toBe(2);
    expect(count(part(1))).toBe(1);
  });

  it('a connection that stalls mid-body is dropped after the stall timeout and its part retried', async () => {
    fault({ operation: 'GetObject', range: `bytes=${24 * MiB}-`, action: { type: 'stall', afterBytes: MiB, ms: 5000 } });
    const target = join(fixture.folder.path, 'stalled.bin');
    const started = Date.now();
    const result = await download(target);
    expect(result.error).toBeNull();
    expect(Date.now() - started).toBeLessThan(4000);
    expect(count(range(24 * MiB))).toBe(2);
    expect(sha256(await readFile(target))).toBe(sha256(data));
  });

  it('an object replaced after the first part of a download fails the download with 412 instead of mixing versions', async () => {
    expect((await upload('replaced')).error).toBeNull();
    fault({ operation: 'GetObject', key: 'replaced', action: { type: 'replace-object' } });
    const dir = join(fixture.folder.path, 'replaced');
    await mkdir(dir);
    const result = await run(fixture.client, {
      type: S3RequestType.GET_OBJECT,
      request: httpRequest(fixture.server.host, 'GET', `/${bucket}/replaced`),
      recvFilepath: join(dir, 'target'),
    });
    expect(result.error).toMatchObject({ s3Code: 'PreconditionFailed', code: 'AWS_ERROR_S3_INVALID_RESPONSE_STATUS', statusCode: 412 });
    expect(await readdir(dir)).toEqual([]);
  });

  it('a part that fails every attempt fails the upload with the last S3 error after 5 retries, and the upload is aborted', async () => {
    fault({ operation: 'UploadPart', partNumber: 2, times: Infinity, action: { type: 'error', status: 503, code: 'SlowDown' } });
    const result = await upload('persistent');
    expect(result.error).toBeInstanceOf(S3ResponseError);
    expect(result.error).toMatchObject({ s3Code: 'SlowDown', code: 'AWS_ERROR_S3_SLOW_DOWN', statusCode: 503, operationName: 'UploadPart' });
    expect(result.done[0]).toMatchObject({ statusCode: 503, errorOperationName: 'UploadPart' });
    expect(count(part(2))).toBe(6);
    expect(count(operation('AbortMultipartUpload'))).toBe(1);
    expect(await uploadsLeft()).not.toContain('<Upload>');
  });

  it('a part that fails every attempt fails a download to a file and leaves no file', async () => {
    fault({ operation: 'GetObject', range: `bytes=${8 * MiB}-`, times: Infinity, action: { type: 'error', status: 500, code: 'InternalError' } });
    const dir = join(fixture.folder.path, 'persistent-get');
    await mkdir(dir);
    const result = await download(join(dir, 'target.bin'));
    expect(result.error).toMatchObject({ s3Code: 'InternalError', code: 'AWS_ERROR_S3_INTERNAL_ERROR', statusCode: 500 });
    expect(count(range(8 * MiB))).toBe(6);
    expect(await readdir(dir)).toEqual([]);
  });

  it('an error S3 will repeat is not retried', async () => {
    fault({ operation: 'GetObject', range: `bytes=${8 * MiB}-`, times: Infinity, action: { type: 'error', status: 403, code: 'AccessDenied' } });
    const result = await download();
    expect(result.error).toMatchObject({ s3Code: 'AccessDenied', statusCode: 403 });
    expect(count(range(8 * MiB))).toBe(1);
  });
});
