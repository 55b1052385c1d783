import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ResponseError, S3RequestType, type S3Client } from '../src/index.js';
import { httpRequest, newClient, run } from './helpers/client.js';
import { MiB, makeBuffer, sha256, startTestServer, tempFolder, type RecordedRequest, type TestServer } from './helpers/servers.js';

let server: TestServer;
let client: S3Client;
let folder: { path: string; remove: () => Promise<void> };
const bucket = 'retries';
const data = makeBuffer(40 * MiB + 7);

const isPart = (n: number) => (r: RecordedRequest) => r.method === 'PUT' && r.url.includes(`partNumber=${n}&`);
const isRange = (start: number) => (r: RecordedRequest) => r.method === 'GET' && String(r.headers.range).startsWith(`bytes=${start}-`);
const count = (match: (r: RecordedRequest) => boolean) => server.requests.filter(match).length;

beforeAll(async () => {
  server = await startTestServer();
  // A short stall timeout, so that a stalled connection is noticed within the test.
  client = newClient({ stallTimeoutMs: 1000 });
  folder = await tempFolder();
  expect(
    (await run(client, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', `/${bucket}`) })).error,
  ).toBeNull();
  expect((await run(client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', `/${bucket}/source`, {}, data) })).error).toBeNull();
});

beforeEach(() => {
  server.faults = [];
  server.resetStats();
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await folder?.remove();
});

function upload(key: string) {
  return run(client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', `/${bucket}/${key}`, {}, data) });
}

function download(recvFilepath?: string) {
  return run(client, {
    type: S3RequestType.GET_OBJECT,
    request: httpRequest(server.host, 'GET', `/${bucket}/source`),
    ...(recvFilepath ? { recvFilepath } : {}),
  });
}

describe('servers that differ from S3', () => {
  it('a server that ignores Range and answers 200 with the whole object is streamed through in order', async () => {
    server.faults.push({ match: (r) => r.method === 'GET', fault: { kind: 'ignore-range' }, times: 2 });
    const inMemory = await download();
    expect(inMemory.error).toBeNull();
    expect(inMemory.headers[0]?.statusCode).toBe(200);
    expect(sha256(inMemory.body)).toBe(sha256(data));
    expect(inMemory.progress).toBe(data.length);
    const target = join(folder.path, 'whole.bin');
    const toFile = await download(target);
    expect(toFile.error).toBeNull();
    expect(sha256(await readFile(target))).toBe(sha256(data));
    expect(count((r) => r.method === 'GET')).toBe(2);
  });

  it("a caller's range is cut out of a whole-object answer", async () => {
    server.faults.push({ match: (r) => r.method === 'GET', fault: { kind: 'ignore-range' }, times: 1 });
    const result = await run(client, {
      type: S3RequestType.GET_OBJECT,
      request: httpRequest(server.host, 'GET', `/${bucket}/source`, { range: `bytes=${MiB + 3}-${3 * MiB}` }),
    });
    expect(result.error).toBeNull();
    expect(sha256(result.body)).toBe(sha256(data.subarray(MiB + 3, 3 * MiB + 1)));
  });
});

describe('retries, part by part', () => {
  it('503 SlowDown on one UploadPart retries that part alone and the upload completes', async () => {
    server.faults.push({ match: isPart(3), fault: { kind: 'status', status: 503, code: 'SlowDown' }, times: 2 });
    const result = await upload('slowdown');
    expect(result.error).toBeNull();
    expect(count(isPart(3))).toBe(3);
    for (const other of [1, 2, 4, 5]) expect(count(isPart(other))).toBe(1);
    expect(sha256((await run(client, { type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', `/${bucket}/slowdown`) })).body)).toBe(
      sha256(data),
    );
  });

  it('500 InternalError on CompleteMultipartUpload is retried', async () => {
    server.faults.push({
      match: (r) => r.method === 'POST' && r.url.includes('uploadId='),
      fault: { kind: 'status', status: 500, code: 'InternalError' },
      times: 1,
    });
    const result = await upload('complete-retried');
    expect(result.error).toBeNull();
    expect(count((r) => r.method === 'POST' && r.url.includes('uploadId='))).toBe(2);
  });

  it('CompleteMultipartUpload answered 200 with an error document is an error, and is retried', async () => {
    server.faults.push({
      match: (r) => r.method === 'POST' && r.url.includes('uploadId='),
      fault: { kind: 'status', status: 200, code: 'InternalError' },
      times: 1,
    });
    const result = await upload('complete-200-error');
    expect(result.error).toBeNull();
    expect(count((r) => r.method === 'POST' && r.url.includes('uploadId='))).toBe(2);
  });

  it('CompleteMultipartUpload answered 200 with an error that will repeat fails the upload and aborts it', async () => {
    server.faults.push({
      match: (r) => r.method === 'POST' && r.url.includes('uploadId='),
      fault: { kind: 'status', status: 200, code: 'InvalidPart' },
      times: 1,
    });
    const result = await upload('complete-200-invalid');
    expect(result.error).toMatchObject({ code: 'InvalidPart', statusCode: 200, operationName: 'CompleteMultipartUpload' });
    expect(count((r) => r.method === 'DELETE' && r.url.includes('uploadId='))).toBe(1);
  });

  it('a connection reset halfway through a GET part retries that range only', async () => {
    server.faults.push({ match: isRange(16 * MiB), fault: { kind: 'reset-after', bytes: 4 * MiB }, times: 1 });
    const result = await download();
    expect(result.error).toBeNull();
    expect(sha256(result.body)).toBe(sha256(data));
    expect(count(isRange(16 * MiB))).toBe(2);
    expect(count(isRange(8 * MiB))).toBe(1);
  });

  it('a connection that stalls mid-body is dropped after the stall timeout and its part retried', async () => {
    server.faults.push({ match: isRange(24 * MiB), fault: { kind: 'stall-after', bytes: MiB, ms: 30_000 }, times: 1 });
    const target = join(folder.path, 'stalled.bin');
    const started = Date.now();
    const result = await download(target);
    expect(result.error).toBeNull();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(count(isRange(24 * MiB))).toBe(2);
    expect(sha256(await readFile(target))).toBe(sha256(data));
  });

  it('a part that fails every attempt fails the upload with the last S3 error after 5 retries, and the upload is aborted', async () => {
    server.faults.push({ match: isPart(2), fault: { kind: 'status', status: 503, code: 'SlowDown' }, times: 100 });
    const result = await upload('persistent');
    expect(result.error).toBeInstanceOf(S3ResponseError);
    expect(result.error).toMatchObject({ code: 'SlowDown', statusCode: 503, operationName: 'UploadPart' });
    expect(result.done[0]).toMatchObject({ statusCode: 503, errorOperationName: 'UploadPart' });
    expect(count(isPart(2))).toBe(6);
    expect(count((r) => r.method === 'DELETE' && r.url.includes('uploadId='))).toBe(1);
  });

  it('a part that fails every attempt fails a download to a file and leaves no file', async () => {
    server.faults.push({ match: isRange(8 * MiB), fault: { kind: 'status', status: 500, code: 'InternalError' }, times: 100 });
    const target = join(folder.path, 'persistent-get', 'target.bin');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(folder.path, 'persistent-get')));
    const result = await download(target);
    expect(result.error).toMatchObject({ code: 'InternalError', statusCode: 500 });
    expect(count(isRange(8 * MiB))).toBe(6);
    expect(await readdir(join(folder.path, 'persistent-get'))).toEqual([]);
  });

  it('an error S3 will repeat is not retried', async () => {
    server.faults.push({ match: isRange(8 * MiB), fault: { kind: 'status', status: 403, code: 'AccessDenied' }, times: 100 });
    const result = await download();
    expect(result.error).toMatchObject({ code: 'AccessDenied', statusCode: 403 });
    expect(count(isRange(8 * MiB))).toBe(1);
  });
});
