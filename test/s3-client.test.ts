import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AwsCredentialsProvider,
  InvalidArgumentError,
  S3ResponseError,
  S3RequestType,
  createDefaultS3SigningConfig,
  type S3Client,
  type S3RequestOptions,
} from '../src/index.js';
import { httpRequest, newClient, run, streamOf } from './helpers/client.js';
import {
  MiB,
  SECRET_KEY,
  makeBuffer,
  makeFile,
  sha256,
  sha256File,
  startLocalTestServer,
  startTestServer,
  tempFolder,
  type TestServer,
} from './helpers/servers.js';
import { verifySigV4 } from './helpers/sigv4.js';

describe.each([
  ['s3rver', startTestServer],
  ['the local server', startLocalTestServer],
] as const)('against %s', (serverName, startServer) => {
  let server: TestServer;
  let client: S3Client;
  let folder: { path: string; remove: () => Promise<void> };
  const bucket = 'roundtrip';

  beforeAll(async () => {
    server = await startServer();
    client = newClient();
    folder = await tempFolder();
    const created = await run(client, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', `/${bucket}`) });
    expect(created.error).toBeNull();
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await folder?.remove();
  });

  function put(key: string, options: { body?: unknown; sendFilepath?: string; headers?: Record<string, string> } = {}) {
    return run(client, {
      type: S3RequestType.PUT_OBJECT,
      request: httpRequest(server.host, 'PUT', `/${bucket}/${key}`, options.headers, options.body),
      ...(options.sendFilepath ? { sendFilepath: options.sendFilepath } : {}),
    });
  }

  function get(key: string, options: { headers?: Record<string, string>; recvFilepath?: string; client?: S3Client } = {}) {
    return run(options.client ?? client, {
      type: S3RequestType.GET_OBJECT,
      request: httpRequest(server.host, 'GET', `/${bucket}/${key}`, options.headers),
      ...(options.recvFilepath ? { recvFilepath: options.recvFilepath } : {}),
    });
  }

  /** Compares by length and digest: a failing toEqual on megabytes would print them all. */
  function expectSameBytes(actual: Buffer, expected: Buffer): void {
    expect(actual.length).toBe(expected.length);
    expect(sha256(actual)).toBe(sha256(expected));
  }

  const SIZES: Array<[string, number]> = [
    ['0 B', 0],
    ['1 B', 1],
    ['5 MiB - 1', 5 * MiB - 1],
    ['exactly one part', 8 * MiB],
    ['one part + 1', 8 * MiB + 1],
  ];

  describe('round trips', () => {
    for (const [name, size] of SIZES) {
      it(`${name}: uploaded from a file, a Buffer and a stream, downloaded to onBody and to a file, byte for byte`, async () => {
        const data = makeBuffer(size);
        const source = join(folder.path, `source-${size}`);
        await writeFile(source, data);
        const uploads = [
          await put(`file-${size}`, { sendFilepath: source }),
          await put(`buffer-${size}`, { body: data }),
          await put(`stream-${size}`, { body: streamOf(data) }),
        ];
        for (const upload of uploads) {
          expect(upload.error).toBeNull();
          expect(upload.progress).toBe(size);
          expect(upload.done[0]?.statusCode).toBe(200);
        }
        for (const key of [`file-${size}`, `buffer-${size}`, `stream-${size}`]) {
          const download = await get(key);
          expect(download.error).toBeNull();
          expect(download.body.length).toBe(size);
          expect(sha256(download.body)).toBe(sha256(data));
          expect(download.progress).toBe(size);
          expect(download.headers).toHaveLength(1);
          expect(download.headers[0]?.statusCode).toBe(200);
          expect(download.headers[0]?.headers).toContainEqual(['content-length', String(size)]);

          const target = join(folder.path, `${key}.downloaded`);
          const toFile = await get(key, { recvFilepath: target });
          expect(toFile.error).toBeNull();
          expect(toFile.body.length).toBe(0);
          expectSameBytes(await readFile(target), data);
        }
      });
    }

    it('a stream with a declared Content-Length above the threshold is uploaded in parts', async () => {
      const data = makeBuffer(20 * MiB + 3);
      server.resetStats();
      const upload = await put('stream-with-length', { body: streamOf(data, 1 << 20), headers: { 'content-length': String(data.length) } });
      expect(upload.error).toBeNull();
      expect(server.requests.filter((r) => r.method === 'PUT' && r.url.includes('partNumber='))).toHaveLength(3);
      expect(sha256((await get('stream-with-length')).body)).toBe(sha256(data));
    });

    it('at least 100 MiB: multipart upload from a file and ranged download to a file run over several connections at once', async () => {
      const size = 100 * MiB + 12345;
      const source = join(folder.path, 'large');
      await makeFile(source, size);
      server.resetStats();
      const upload = await put('large', { sendFilepath: source });
      expect(upload.error).toBeNull();
      const uploadParts = server.requests.filter((r) => r.method === 'PUT' && r.url.includes('partNumber='));
      expect(uploadParts).toHaveLength(13);
      expect(server.requests.some((r) => r.method === 'POST' && r.url.includes('uploads'))).toBe(true);
      // A transfer to an endpoint on this machine starts at 4 parts in flight (LOOPBACK_PARTS_IN_FLIGHT); a transfer
      // this short lasts an epoch or two of the controller's measurement, so it doubles once at most.
      expect(server.maxConcurrent).toBeGreaterThanOrEqual(2);
      expect(server.maxConcurrent).toBeLessThanOrEqual(8);
      expect(new Set(uploadParts.map((r) => r.connection)).size).toBeGreaterThanOrEqual(2);

      server.resetStats();
      const target = join(folder.path, 'large.downloaded');
      const download = await get('large', { recvFilepath: target });
      expect(download.error).toBeNull();
      expect(download.progress).toBe(size);
      const ranged = server.requests.filter((r) => r.method === 'GET');
      expect(ranged).toHaveLength(13);
      expect(ranged.every((r) => /^bytes=\d+-\d+$/.test(String(r.headers.range)))).toBe(true);
      // Every part after the first is pinned to the version the first one saw.
      expect(ranged.slice(1).every((r) => typeof r.headers['if-match'] === 'string')).toBe(true);
      expect(server.maxConcurrent).toBeGreaterThanOrEqual(2);
      expect(server.maxConcurrent).toBeLessThanOrEqual(8);
      expect(await sha256File(target)).toBe(await sha256File(source));

      const inMemory = await get('large');
      expect(inMemory.error).toBeNull();
      expect(inMemory.offsets[0]).toBe(0);
      expect(inMemory.body.length).toBe(size);
      expect(sha256(inMemory.body)).toBe(await sha256File(source));

      // The same object from a Buffer and from a stream of unknown length.
      const data = await readFile(source);
      expect((await put('large-buffer', { body: data })).error).toBeNull();
      expect((await put('large-stream', { body: streamOf(data, 1 << 20) })).error).toBeNull();
      expect(sha256((await get('large-buffer')).body)).toBe(sha256(data));
      expect(sha256((await get('large-stream')).body)).toBe(sha256(data));
    });

    it('a stream whose Content-Length disagrees with its bytes fails without storing anything', async () => {
      const short = await put('short-stream', { body: streamOf(makeBuffer(1000)), headers: { 'content-length': '2000' } });
      expect(short.error).toMatchObject({ code: 'ERR_S3TX_FILE_IO' });
      expect((short.error as Error).message).toContain('ended after 1000 bytes');
      const long = await put('long-stream', { body: streamOf(makeBuffer(3000)), headers: { 'content-length': '2000' } });
      expect((long.error as Error).message).toContain('longer');
      const shortParts = await put('short-multipart-stream', { body: streamOf(makeBuffer(20 * MiB)), headers: { 'content-length': String(30 * MiB) } });
      expect((shortParts.error as Error).message).toContain('ended after');
      const longParts = await put('long-multipart-stream', { body: streamOf(makeBuffer(30 * MiB)), headers: { 'content-length': String(20 * MiB) } });
      expect((longParts.error as Error).message).toContain('longer');
      expect((await get('short-multipart-stream')).error).toMatchObject({ s3Code: 'NoSuchKey' });
      expect((await get('long-multipart-stream')).error).toMatchObject({ s3Code: 'NoSuchKey' });
      const empty = await put('empty-stream', { body: streamOf(Buffer.alloc(0)), headers: { 'content-length': '0' } });
      expect(empty.error).toBeNull();
      expect((await get('short-stream')).error).toMatchObject({ s3Code: 'NoSuchKey' });
      expect((await get('empty-stream')).body.length).toBe(0);
    });

    it('a stream of unknown length larger than one part becomes a multipart upload', async () => {
      const data = makeBuffer(17 * MiB);
      server.resetStats();
      const upload = await put('unknown-length', { body: streamOf(data, 777_777) });
      expect(upload.error).toBeNull();
      expect(server.requests.filter((r) => r.url.includes('partNumber='))).toHaveLength(3);
      expect(sha256((await get('unknown-length')).body)).toBe(sha256(data));
    });

    it('a stream ending exactly on a part boundary sends no empty part', async () => {
      const data = makeBuffer(16 * MiB);
      server.resetStats();
      const upload = await put('boundary', { body: streamOf(data, 1 << 20) });
      expect(upload.error).toBeNull();
      expect(server.requests.filter((r) => r.url.includes('partNumber='))).toHaveLength(2);
      expect(sha256((await get('boundary')).body)).toBe(sha256(data));
    });

    it('a per-request part size splits the transfer accordingly', async () => {
      const data = makeBuffer(12 * MiB);
      server.resetStats();
      const upload = await run(client, {
        type: S3RequestType.PUT_OBJECT,
        request: httpRequest(server.host, 'PUT', `/${bucket}/small-parts`, {}, data),
        partSize: 5 * MiB,
      });
      expect(upload.error).toBeNull();
      expect(server.requests.filter((r) => r.url.includes('partNumber='))).toHaveLength(3);
      server.resetStats();
      const download = await run(client, {
        type: S3RequestType.GET_OBJECT,
        request: httpRequest(server.host, 'GET', `/${bucket}/small-parts`),
        partSize: 1 * MiB,
      });
      expect(sha256(download.body)).toBe(sha256(data));
      expect(server.requests.filter((r) => r.method === 'GET')).toHaveLength(12);
    });
  });

  describe('ranged GET from the caller', () => {
    const data = makeBuffer(20 * MiB + 100);
    beforeAll(async () => {
      expect((await put('ranged', { body: data })).error).toBeNull();
    });

    it("splits the caller's range into parts and answers 206 with the range's headers", async () => {
      const result = await get('ranged', { headers: { range: `bytes=1000-${17 * MiB}` } });
      expect(result.error).toBeNull();
      expectSameBytes(result.body, data.subarray(1000, 17 * MiB + 1));
      expect(result.headers[0]?.statusCode).toBe(206);
      expect(result.headers[0]?.headers).toContainEqual(['content-range', `bytes 1000-${17 * MiB}/${data.length}`]);
      expect(result.done[0]?.statusCode).toBe(206);
    });

    it('serves an open-ended range to the end of the object', async () => {
      const result = await get('ranged', { headers: { Range: `bytes=${12 * MiB}-` } });
      expectSameBytes(result.body, data.subarray(12 * MiB));
    });

    it('serves a suffix range after learning the size with HEAD', async () => {
      server.resetStats();
      const result = await get('ranged', { headers: { range: `bytes=-${9 * MiB}` } });
      expect(result.error).toBeNull();
      expectSameBytes(result.body, data.subarray(data.length - 9 * MiB));
      expect(server.requests[0]?.method).toBe('HEAD');
    });

    it('writes a range to a file', async () => {
      const target = join(folder.path, 'range.bin');
      const result = await get('ranged', { headers: { range: 'bytes=5-9' }, recvFilepath: target });
      expect(result.error).toBeNull();
      expect(await readFile(target)).toEqual(data.subarray(5, 10));
    });

    it('fails with InvalidRange past the end of the object', async () => {
      const result = await get('ranged', { headers: { range: `bytes=${data.length + 10}-` } });
      expect(result.error).toBeInstanceOf(S3ResponseError);
      expect(result.error).toMatchObject({ s3Code: 'InvalidRange', statusCode: 416 });
    });
  });

  describe('errors from S3', () => {
    it('NoSuchKey is an S3ResponseError with the response for onDone, and finishedFuture settles first', async () => {
      const result = await get('does-not-exist');
      expect(result.error).toBeInstanceOf(S3ResponseError);
      const error = result.error as S3ResponseError;
      expect(error.s3Code).toBe('NoSuchKey');
      expect(error.statusCode).toBe(404);
      expect(error.operationName).toBe('GetObject');
      expect(error.body?.toString()).toContain('<Code>NoSuchKey</Code>');
      expect(result.done).toHaveLength(1);
      expect(result.done[0]).toMatchObject({ error, statusCode: 404, errorOperationName: 'GetObject', didValidateChecksum: false });
      expect(result.done[0]?.errorBody?.toString()).toContain('NoSuchKey');
      expect(result.done[0]?.errorHeaders?.length).toBeGreaterThan(0);
      expect(result.settledBeforeDone).toBe(true);
    });

    it('a failed download to a file leaves neither the target nor a temporary file', async () => {
      const dir = join(folder.path, 'failed-download');
      await mkdir(dir);
      const result = await get('does-not-exist', { recvFilepath: join(dir, 'target.bin') });
      expect(result.error).toMatchObject({ s3Code: 'NoSuchKey' });
      expect(await readdir(dir)).toEqual([]);
    });

    it('an unknown access key fails with InvalidAccessKeyId and 403, and the secret appears nowhere', async () => {
      const secret = 'never-show-this-secret-0123456789';
      const stranger = newClient({
        signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic('AKIDUNKNOWN', secret) }),
      });
      try {
        const result = await get('anything', { client: stranger });
        expect(result.error).toMatchObject({ s3Code: 'InvalidAccessKeyId', statusCode: 403 });
        const error = result.error as S3ResponseError;
        const shown = [error.message, String(error.stack), JSON.stringify(error), error.body?.toString(), JSON.stringify(error.headers)].join('\n');
        expect(shown).not.toContain(secret);
      } finally {
        await stranger.close();
      }
    });

    it('a bucket that does not exist fails an upload with NoSuchBucket from CreateMultipartUpload', async () => {
      const result = await run(client, {
        type: S3RequestType.PUT_OBJECT,
        request: httpRequest(server.host, 'PUT', '/no-such-bucket/key', {}, makeBuffer(9 * MiB)),
      });
      expect(result.error).toMatchObject({ s3Code: 'NoSuchBucket', statusCode: 404, operationName: 'CreateMultipartUpload' });
      expect(result.done[0]?.errorOperationName).toBe('CreateMultipartUpload');
    });
  });

  describe('DEFAULT requests', () => {
    beforeAll(async () => {
      expect((await put('listed/a.txt', { body: 'hello' })).error).toBeNull();
      expect((await put('listed/b.txt', { body: 'world!' })).error).toBeNull();
    });

    it("ListObjectsV2 returns S3's XML through onBody", async () => {
      const result = await run(client, {
        type: S3RequestType.DEFAULT,
        operationName: 'ListObjectsV2',
        request: httpRequest(server.host, 'GET', `/${bucket}?list-type=2&prefix=listed%2F`),
      });
      expect(result.error).toBeNull();
      const xml = result.body.toString();
      expect(xml).toContain('<Key>listed/a.txt</Key>');
      expect(xml).toContain('<Key>listed/b.txt</Key>');
      expect(result.headers[0]?.statusCode).toBe(200);
    });

    it('HeadObject reports the size in its headers', async () => {
      const result = await run(client, {
        type: S3RequestType.DEFAULT,
        operationName: 'HeadObject',
        request: httpRequest(server.host, 'HEAD', `/${bucket}/listed/b.txt`),
      });
      expect(result.error).toBeNull();
      expect(result.headers[0]?.headers).toContainEqual(['content-length', '6']);
      expect(result.body.length).toBe(0);
    });

    it('DeleteObject removes the object', async () => {
      const result = await run(client, {
        type: S3RequestType.DEFAULT,
        operationName: 'DeleteObject',
        request: httpRequest(server.host, 'DELETE', `/${bucket}/listed/a.txt`),
      });
      expect(result.error).toBeNull();
      expect(result.done[0]?.statusCode).toBe(204);
      expect((await get('listed/a.txt')).error).toMatchObject({ s3Code: 'NoSuchKey' });
    });

    it('HeadObject of a missing key fails with 404 and no body', async () => {
      const result = await run(client, {
        type: S3RequestType.DEFAULT,
        operationName: 'HeadObject',
        request: httpRequest(server.host, 'HEAD', `/${bucket}/missing`),
      });
      expect(result.error).toMatchObject({ statusCode: 404, s3Code: 'NotFound', operationName: 'HeadObject' });
    });

    it('PutObject as DEFAULT sends a file body', async () => {
      const source = join(folder.path, 'default-put');
      await writeFile(source, 'from a file');
      const result = await run(client, {
        type: S3RequestType.DEFAULT,
        operationName: 'PutObject',
        request: httpRequest(server.host, 'PUT', `/${bucket}/default-put`),
        sendFilepath: source,
      });
      expect(result.error).toBeNull();
      expect((await get('default-put')).body.toString()).toBe('from a file');
    });
  });

  describe('cancel', () => {
    /** Starts a request, cancels it when its first part completes, and waits until it has shut down. */
    async function cancelAtFirstProgress(options: S3RequestOptions): Promise<void> {
      let cancelled = false;
      const request = client.makeRequest({
        ...options,
        onProgress: () => {
          if (!cancelled) {
            cancelled = true;
            request.cancel();
          }
        },
      });
      await expect(request.finishedFuture).rejects.toMatchObject({ code: 'AWS_ERROR_S3_CANCELED' });
      await request.shutdownEvent;
    }

    it('cancelling an upload mid-transfer sends AbortMultipartUpload and fails with AWS_ERROR_S3_CANCELED', async () => {
      const source = join(folder.path, 'cancel-upload');
      await makeFile(source, 64 * MiB);
      server.resetStats();
      await cancelAtFirstProgress({
        type: S3RequestType.PUT_OBJECT,
        request: httpRequest(server.host, 'PUT', `/${bucket}/cancelled-upload`),
        sendFilepath: source,
      });
      const uploadId = /uploadId=([^&]+)/.exec(server.requests.find((r) => r.url.includes('uploadId='))?.url ?? '')?.[1];
      expect(uploadId).toBeTruthy();
      expect(server.requests.some((r) => r.method === 'DELETE' && r.url.includes(`uploadId=${uploadId}`))).toBe(true);
      expect(server.requests.some((r) => r.method === 'POST' && r.url.includes('uploadId=') && !r.url.includes('uploads'))).toBe(false);
      expect((await get('cancelled-upload')).error).toMatchObject({ s3Code: 'NoSuchKey' });
      if (serverName !== 's3rver') {
        // s3rver answers AbortMultipartUpload NotImplemented; the local server shows nothing is left.
        const uploads = await run(client, {
          type: S3RequestType.DEFAULT,
          operationName: 'ListMultipartUploads',
          request: httpRequest(server.host, 'GET', `/${bucket}?uploads`),
        });
        expect(uploads.body.toString()).toContain('<ListMultipartUploadsResult');
        expect(uploads.body.toString()).not.toContain('<Upload>');
      }
    });

    it('cancelling a download to a file leaves no file behind', async () => {
      const source = join(folder.path, 'cancel-download-source');
      await makeFile(source, 64 * MiB);
      expect((await put('cancel-download', { sendFilepath: source })).error).toBeNull();
      const dir = join(folder.path, 'cancel-download');
      await mkdir(dir);
      const target = join(dir, 'target.bin');
      await cancelAtFirstProgress({
        type: S3RequestType.GET_OBJECT,
        request: httpRequest(server.host, 'GET', `/${bucket}/cancel-download`),
        recvFilepath: target,
      });
      expect(existsSync(target)).toBe(false);
      expect(await readdir(dir)).toEqual([]);
    });

    /** Delays (in event-loop turns after the last byte) that land before, during and after a transfer's commit. */
    const LATE_CANCEL_TURNS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 15];

    /** Runs a 12 MiB transfer, cancels it `turns` event-loop turns after its last byte, and says how it ended. */
    async function cancelAfterLastByte(options: S3RequestOptions, turns: number): Promise<string> {
      let moved = 0;
      const request = client.makeRequest({
        ...options,
        onProgress: (bytes) => {
          moved += bytes;
          if (moved < 12 * MiB) return;
          let left = turns;
          const later = () => (left-- > 0 ? setImmediate(later) : request.cancel());
          later();
        },
      });
      const outcome = await request.finishedFuture.then(
        () => 'done',
        (error: { code?: string }) => error.code ?? 'error',
      );
      await request.shutdownEvent;
      return outcome;
    }

    it('a cancel while the finished file is being put in place reports what happened: a file means success', async () => {
      const source = join(folder.path, 'late-cancel-source');
      await makeFile(source, 12 * MiB);
      expect((await put('late-cancel-download', { sendFilepath: source })).error).toBeNull();
      const dir = join(folder.path, 'late-cancel-download');
      await mkdir(dir);
      const outcomes: string[] = [];
      for (const turns of LATE_CANCEL_TURNS) {
        const target = join(dir, `target-${turns}.bin`);
        const outcome = await cancelAfterLastByte(
          { type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', `/${bucket}/late-cancel-download`), recvFilepath: target },
          turns,
        );
        outcomes.push(outcome);
        if (outcome === 'done') expect(await sha256File(target)).toBe(await sha256File(source));
        else expect([outcome, existsSync(target)]).toEqual(['AWS_ERROR_S3_CANCELED', false]);
      }
      expect((await readdir(dir)).filter((name) => !/^target-\d+\.bin$/.test(name))).toEqual([]);
      // Some cancels came in time, some too late.
      expect(outcomes).toContain('done');
      expect(outcomes).toContain('AWS_ERROR_S3_CANCELED');
    });

    it('a cancel while CompleteMultipartUpload is on its way reports what happened: an object means success', async () => {
      const source = join(folder.path, 'late-cancel-upload');
      await makeFile(source, 12 * MiB);
      const expected = await sha256File(source);
      const outcomes: string[] = [];
      for (const turns of LATE_CANCEL_TURNS) {
        const key = `late-cancel-upload-${turns}`;
        const outcome = await cancelAfterLastByte(
          { type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', `/${bucket}/${key}`), sendFilepath: source },
          turns,
        );
        outcomes.push(outcome);
        const stored = await get(key);
        if (outcome === 'done') expect(sha256(stored.body)).toBe(expected);
        else expect([outcome, stored.error]).toMatchObject(['AWS_ERROR_S3_CANCELED', { s3Code: 'NoSuchKey' }]);
      }
      expect(outcomes).toContain('done');
      expect(outcomes).toContain('AWS_ERROR_S3_CANCELED');
    });

    it('cancel after the end changes nothing', async () => {
      const request = client.makeRequest({ type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', `/${bucket}/late-cancel`, {}, 'x') });
      await request.finishedFuture;
      request.cancel();
      await request.shutdownEvent;
      expect((await get('late-cancel')).body.toString()).toBe('x');
    });
  });

  describe('bad input is refused at the call, before anything is sent', () => {
    function refused(make: () => unknown): InvalidArgumentError {
      const before = server.requests.length;
      let caught: unknown;
      try {
        make();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect(server.requests.length).toBe(before);
      return caught as InvalidArgumentError;
    }
    const getRequest = () => httpRequest(server.host, 'GET', `/${bucket}/x`);

    it('a type outside the enum', () => {
      expect(refused(() => client.makeRequest({ type: 7 as S3RequestType, request: getRequest() })).option).toBe('type');
    });

    it('DEFAULT without operationName', () => {
      const error = refused(() => client.makeRequest({ type: S3RequestType.DEFAULT, request: getRequest() }));
      expect(error.option).toBe('operationName');
      expect(error.message).toContain('required');
    });

    it('sizes that are zero, negative or too large, and a threshold under the part size', () => {
      expect(refused(() => client.makeRequest({ type: S3RequestType.GET_OBJECT, request: getRequest(), partSize: 0 })).option).toBe('partSize');
      expect(refused(() => client.makeRequest({ type: S3RequestType.GET_OBJECT, request: getRequest(), partSize: -1 })).option).toBe('partSize');
      expect(
        refused(() =>
          client.makeRequest({ type: S3RequestType.PUT_OBJECT, request: getRequest(), partSize: 6 * 1024 * MiB, multipartUploadThreshold: 7 * 1024 * MiB }),
        ).option,
      ).toBe('partSize');
      expect(
        refused(() => client.makeRequest({ type: S3RequestType.PUT_OBJECT, request: getRequest(), partSize: 16 * MiB, multipartUploadThreshold: 8 * MiB }))
          .option,
      ).toBe('multipartUploadThreshold');
    });

    it('a sendFilepath that does not exist or is a folder', () => {
      const missing = refused(() => client.makeRequest({ type: S3RequestType.PUT_OBJECT, request: getRequest(), sendFilepath: join(folder.path, 'nope') }));
      expect(missing.option).toBe('sendFilepath');
      expect(missing.message).toContain('no file');
      const dir = refused(() => client.makeRequest({ type: S3RequestType.PUT_OBJECT, request: getRequest(), sendFilepath: folder.path }));
      expect(dir.message).toContain('folder');
    });

    it('a recvFilepath in a folder that does not exist, or that is a folder', () => {
      expect(
        refused(() => client.makeRequest({ type: S3RequestType.GET_OBJECT, request: getRequest(), recvFilepath: join(folder.path, 'no-dir', 'f') })).option,
      ).toBe('recvFilepath');
      expect(refused(() => client.makeRequest({ type: S3RequestType.GET_OBJECT, request: getRequest(), recvFilepath: folder.path })).option).toBe(
        'recvFilepath',
      );
    });

    it('a body for a GET_OBJECT, or a recvFilepath for a PUT_OBJECT, which would go unused', async () => {
      const source = join(folder.path, 'unused-body');
      await writeFile(source, 'x');
      expect(refused(() => client.makeRequest({ type: S3RequestType.GET_OBJECT, request: getRequest(), sendFilepath: source })).option).toBe('sendFilepath');
      expect(
        refused(() => client.makeRequest({ type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', `/${bucket}/x`, {}, 'body') })).option,
      ).toBe('request.body');
      expect(refused(() => client.makeRequest({ type: S3RequestType.PUT_OBJECT, request: getRequest(), recvFilepath: join(folder.path, 'out') })).option).toBe(
        'recvFilepath',
      );
    });

    it('both a body and a sendFilepath', async () => {
      const source = join(folder.path, 'both');
      await writeFile(source, 'x');
      const error = refused(() =>
        client.makeRequest({ type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', `/${bucket}/x`, {}, 'body'), sendFilepath: source }),
      );
      expect(error.option).toBe('sendFilepath');
    });

    it('a request without a usable Host, a malformed Range, a callback that is not a function', () => {
      expect(refused(() => client.makeRequest({ type: S3RequestType.GET_OBJECT, request: httpRequest('a b', 'GET', '/x') })).option).toBe(
        'request.headers.host',
      );
      expect(
        refused(() => client.makeRequest({ type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', '/b/x', { range: 'bytes=1-2,4-5' }) }))
          .option,
      ).toBe('request.headers.range');
      expect(refused(() => client.makeRequest({ type: S3RequestType.GET_OBJECT, request: getRequest(), onBody: 'no' as never })).option).toBe('onBody');
      expect(refused(() => client.makeRequest({ type: S3RequestType.GET_OBJECT, request: { method: 'GET', path: 'no-slash', headers: {} } })).option).toBe(
        'request.path',
      );
    });

    it('a header that would break the request head: a line break or NUL in a value, a name that is not a token', () => {
      for (const headers of <Record<string, string>[]>[{ 'x-amz-meta-a': 'one\r\nx-injected: yes' }, { 'x-amz-meta-a': 'nul\0' }, { 'bad name': 'x' }]) {
        const error = refused(() => client.makeRequest({ type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', '/b/x', headers) }));
        expect(error.option).toBe('request.headers');
      }
    });

    it('a part larger than the memory limit', () => {
      const small = newClient({ memoryLimit: 16 * MiB });
      try {
        expect(refused(() => small.makeRequest({ type: S3RequestType.GET_OBJECT, request: getRequest(), partSize: 32 * MiB })).option).toBe('partSize');
      } finally {
        void small.close();
      }
    });

    it('a checksum algorithm without a location, or a location without an algorithm', () => {
      expect(refused(() => client.makeRequest({ type: S3RequestType.PUT_OBJECT, request: getRequest(), checksumConfig: { algorithm: 1 } })).option).toBe(
        'checksumConfig.location',
      );
      expect(refused(() => client.makeRequest({ type: S3RequestType.PUT_OBJECT, request: getRequest(), checksumConfig: { location: 2 } })).option).toBe(
        'checksumConfig.algorithm',
      );
    });
  });

  describe('memory limit', () => {
    it('parts in flight never need more than the memory limit: 2 parts of 8 MiB at a time under 16 MiB', async () => {
      const data = makeBuffer(40 * MiB);
      const source = join(folder.path, 'memory-bound');
      await writeFile(source, data);
      const bounded = newClient({ memoryLimit: 16 * MiB });
      try {
        server.resetStats();
        const upload = await run(bounded, {
          type: S3RequestType.PUT_OBJECT,
          request: httpRequest(server.host, 'PUT', `/${bucket}/memory-bound`),
          sendFilepath: source,
        });
        expect(upload.error).toBeNull();
        expect(server.maxConcurrent).toBeLessThanOrEqual(2);
        server.resetStats();
        const download = await run(bounded, { type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', `/${bucket}/memory-bound`) });
        expect(sha256(download.body)).toBe(sha256(data));
        expect(server.maxConcurrent).toBeLessThanOrEqual(2);
        expect(server.requests.filter((r) => r.method === 'GET')).toHaveLength(5);
      } finally {
        await bounded.close();
      }
    });
  });

  describe('signing', () => {
    // The local server verifies signatures itself and keeps Authorization out of its log.
    it.skipIf(serverName !== 's3rver')('every request and every part carries a valid SigV4 signature over host, date and the unsigned payload', async () => {
      const data = makeBuffer(17 * MiB);
      server.resetStats();
      expect((await put('signed/key%20with%20spaces%2Bplus%E2%9C%93', { body: data })).error).toBeNull();
      expect((await get('signed/key%20with%20spaces%2Bplus%E2%9C%93', { headers: { range: 'bytes=100-' } })).error).toBeNull();
      expect(server.requests.length).toBeGreaterThanOrEqual(7);
      for (const request of server.requests) {
        expect(request.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
        expect(verifySigV4(request, SECRET_KEY), `${request.method} ${request.url}`).toBe(true);
        expect(verifySigV4(request, 'wrong-secret')).toBe(false);
      }
    });

    it("a per-request signing config overrides the client's", async () => {
      server.resetStats();
      const result = await run(client, {
        type: S3RequestType.DEFAULT,
        operationName: 'ListObjectsV2',
        request: httpRequest(server.host, 'GET', `/${bucket}?list-type=2`),
        signingConfig: { credentialProvider: AwsCredentialsProvider.newStatic('AKIDOTHER', 'other-secret') },
      });
      expect(result.error).toMatchObject({ s3Code: 'InvalidAccessKeyId' });
      if (serverName === 's3rver') {
        expect(String(server.requests[0]?.headers.authorization)).toContain('Credential=AKIDOTHER/');
        expect(verifySigV4(server.requests[0]!, 'other-secret')).toBe(true);
      }
    });

    it('a client without signing config sends anonymous requests', async () => {
      const anonymous = newClient({ signingConfig: undefined });
      try {
        server.resetStats();
        await run(anonymous, { type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', `/${bucket}/anything`) });
        expect(server.requests[0]?.headers.authorization).toBeUndefined();
      } finally {
        await anonymous.close();
      }
    });
  });
});
