/**
 * Answers no correct S3 gives: broken XML, a missing UploadId or ETag, a Content-Range
 * for other bytes, bodies longer or shorter than their Content-Length. Each ends in a typed
 * error or a byte-exact result, never a hang, a corrupt file or an upload left open.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidResponseError, NetworkError, S3RequestType, S3ResponseError, S3txError } from '../../src/index.js';
import type { FaultRule } from '../../src/local/index.js';
import { httpRequest, run } from '../helpers/client.js';
import { useLocalFixture } from '../helpers/fixture.js';
import { MiB, makeBuffer, sha256 } from '../helpers/servers.js';

const PART = 5 * MiB;
const bucket = 'malformed';
const data = makeBuffer(3 * PART - 99);
const fixture = useLocalFixture(bucket, { client: { partSize: PART, stallTimeoutMs: 2000 }, resetEachTest: true });
let n = 0;

beforeAll(async () => {
  const put = await run(fixture.client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/source`, {}, data) });
  expect(put.error).toBeNull();
});

async function download(rule: FaultRule): Promise<{ error: unknown; files: string[]; bytes: Buffer | null; ms: number }> {
  const dir = join(fixture.folder.path, `get-${++n}`);
  await mkdir(dir);
  fixture.server.faults.add(rule);
  const started = Date.now();
  const result = await run(fixture.client, {
    type: S3RequestType.GET_OBJECT,
    request: httpRequest(fixture.server.host, 'GET', `/${bucket}/source`),
    recvFilepath: join(dir, 'target'),
  });
  const files = await readdir(dir);
  return { error: result.error, files, bytes: files.includes('target') ? await readFile(join(dir, 'target')) : null, ms: Date.now() - started };
}

async function upload(rule: FaultRule): Promise<{ error: unknown; uploadsLeft: boolean; ms: number }> {
  fixture.server.faults.add(rule);
  const started = Date.now();
  const result = await run(fixture.client, {
    type: S3RequestType.PUT_OBJECT,
    request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/up-${++n}`, {}, data),
  });
  const ms = Date.now() - started;
  fixture.server.faults.clear();
  const list = await run(fixture.client, {
    type: S3RequestType.DEFAULT,
    operationName: 'ListMultipartUploads',
    request: httpRequest(fixture.server.host, 'GET', `/${bucket}?uploads`),
  });
  return { error: result.error, uploadsLeft: list.body.toString().includes('<Upload>'), ms };
}

describe('malformed answers to a download', () => {
  it('a Content-Range for other bytes than were asked for is an InvalidResponseError, and no file is left', async () => {
    const result = await download({
      operation: 'GetObject',
      range: `bytes=${PART}-`,
      times: Infinity,
      action: { type: 'respond', status: 206, headers: { 'content-range': `bytes 0-9/${data.length}` }, body: '0123456789' },
    });
    expect(result.error).toBeInstanceOf(InvalidResponseError);
    expect(String((result.error as Error).message)).toMatch(/Content-Range|range/i);
    expect(result.files).toEqual([]);
    expect(result.ms).toBeLessThan(15_000);
  });

  it('a body shorter than its Content-Length, every time, is a NetworkError after the retries, and no file is left', async () => {
    const result = await download({ operation: 'GetObject', range: `bytes=${PART}-`, times: Infinity, action: { type: 'reset-response', afterBytes: 1000 } });
    expect(result.error).toBeInstanceOf(NetworkError);
    expect(result.files).toEqual([]);
    expect(fixture.server.requests.filter((request) => request.headers.range?.startsWith(`bytes=${PART}-`)).length).toBe(6);
  });

  it('bytes past the Content-Length never reach the file: the download is byte-exact', async () => {
    const result = await download({ operation: 'GetObject', range: `bytes=${PART}-`, action: { type: 'extra-bytes', count: 4096 } });
    expect(result.error).toBeNull();
    expect(sha256(result.bytes!)).toBe(sha256(data));
  });

  it('a 206 without a Content-Range is an InvalidResponseError', async () => {
    const result = await download({
      operation: 'GetObject',
      range: `bytes=${PART}-`,
      times: Infinity,
      action: { type: 'respond', status: 206, body: 'x'.repeat(100) },
    });
    expect(result.error).toBeInstanceOf(InvalidResponseError);
    expect(result.files).toEqual([]);
  });
});

describe('malformed answers to an upload', () => {
  it('CreateMultipartUpload answered with broken XML is an InvalidResponseError', async () => {
    const result = await upload({
      operation: 'CreateMultipartUpload',
      action: { type: 'respond', status: 200, body: '<InitiateMultipartUploadResult><UploadId>abc</Upl' },
    });
    expect(result.error).toBeInstanceOf(InvalidResponseError);
    expect(result.uploadsLeft).toBe(false);
  });

  it('CreateMultipartUpload answered without an UploadId is an InvalidResponseError', async () => {
    const result = await upload({
      operation: 'CreateMultipartUpload',
      action: { type: 'respond', status: 200, body: '<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>' },
    });
    expect(result.error).toBeInstanceOf(InvalidResponseError);
    expect((result.error as Error).message).toContain('UploadId');
  });

  it('an UploadPart answered without an ETag fails the upload with an InvalidResponseError and aborts it', async () => {
    const result = await upload({ operation: 'UploadPart', partNumber: 2, action: { type: 'respond', status: 200 } });
    expect(result.error).toBeInstanceOf(InvalidResponseError);
    expect((result.error as Error).message).toContain('ETag');
    expect(result.uploadsLeft).toBe(false);
    expect(fixture.server.requests.filter((request) => request.operation === 'CompleteMultipartUpload')).toEqual([]);
  });

  it('CompleteMultipartUpload answered 200 with broken XML is a typed error and the upload is aborted', async () => {
    const result = await upload({
      operation: 'CompleteMultipartUpload',
      times: Infinity,
      action: { type: 'respond', status: 200, body: '<CompleteMultipartUploadRes' },
    });
    expect(result.error).toBeInstanceOf(S3txError);
    expect(result.uploadsLeft).toBe(false);
  });

  it('an error status with a body that is not XML is an S3ResponseError named by its status, retried', async () => {
    const result = await upload({
      operation: 'UploadPart',
      partNumber: 3,
      times: 2,
      action: { type: 'respond', status: 503, body: '<html>bad gateway</html>' },
    });
    expect(result.error).toBeNull();
    expect(fixture.server.requests.filter((request) => request.operation === 'UploadPart' && request.partNumber === 3).length).toBe(3);
    fixture.server.faults.add({ operation: 'UploadPart', partNumber: 1, times: Infinity, action: { type: 'respond', status: 500, body: 'not xml' } });
    const failed = await run(fixture.client, {
      type: S3RequestType.PUT_OBJECT,
      request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/status-only`, {}, data),
    });
    expect(failed.error).toBeInstanceOf(S3ResponseError);
    expect(failed.error).toMatchObject({ statusCode: 500, s3Code: 'InternalServerError' });
  });
});
