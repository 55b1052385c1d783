/**
 * Load: many transfers on one client within a memory limit, a transfer far larger than its
 * memory limit, and a hundred transfers cancelled at random moments. The client runs in a
 * child process where its peak RSS is measured; the server runs here.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestCanceledError, S3RequestType, type S3Request } from '../../src/index.js';
import { startLocalS3 } from '../../src/local/index.js';
import { syntheticByte } from '../../src/local/sink-storage.js';
import { httpRequest, newClient, run } from '../helpers/client.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, makeFile, sha256, sha256File, tempFolder } from '../helpers/servers.js';

const CHILD = fileURLToPath(new URL('../fixtures/load-child.mjs', import.meta.url));

interface Transfer {
  error: string | null;
  sha256: string | null;
  ms: number;
}

async function child<T>(args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD, ...args], {
    env: { ...process.env, ACCESS_KEY, SECRET_KEY },
    maxBuffer: 64 * MiB,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

let folder: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  folder = await tempFolder();
});

afterAll(async () => {
  await folder?.remove();
});

describe('load', () => {
  it('200 concurrent transfers of 64 KiB and 64 MiB objects share a 256 MiB limit: byte-exact, RSS bounded, none starved', async () => {
    const server = await startLocalS3({ root: join(folder.path, 'store'), credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    try {
      const small = join(folder.path, 'small.bin');
      const big = join(folder.path, 'big.bin');
      await makeFile(small, 64 * 1024);
      await makeFile(big, 64 * MiB);
      const client = newClient();
      await run(client, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', '/mixed') });
      await client.close();

      const result = await child<{ puts: Transfer[]; gets: Transfer[]; big: boolean[]; peakRss: number; memoryLimit: number }>([
        'mixed',
        server.host,
        'mixed',
        small,
        big,
        '200',
      ]);
      expect(result.memoryLimit).toBe(256 * MiB);
      expect(result.puts.filter((put) => put.error)).toEqual([]);
      expect(result.gets.filter((get) => get.error)).toEqual([]);
      const [smallSum, bigSum] = [await sha256File(small), await sha256File(big)];
      result.gets.forEach((get, i) => expect(get.sha256, `object ${i}`).toBe(result.big[i] ? bigSum : smallSum));
      expect(result.peakRss).toBeLessThan(256 * MiB + 150 * MiB);

      // Fairness: the small transfers are not held back until the big ones are done.
      for (const transfers of [result.puts, result.gets]) {
        const lastBig = Math.max(...transfers.filter((_, i) => result.big[i]).map((t) => t.ms));
        const smallTimes = transfers.filter((_, i) => !result.big[i]).map((t) => t.ms);
        const before = smallTimes.filter((ms) => ms < lastBig).length;
        expect(before / smallTimes.length).toBeGreaterThan(0.9);
      }
    } finally {
      await server.close();
    }
  }, 300_000);

  it('a 4 GiB download and a 4 GiB upload within a 64 MiB memory limit complete, never more than the limit in parts', async () => {
    const server = await startLocalS3({ sink: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    try {
      const client = newClient();
      await run(client, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', '/sink') });
      await client.close();
      const size = 4 * 1024 * MiB;
      server.resetRequests();
      const get = await child<Transfer & { peakRss: number; memoryLimit: number }>(['huge', server.host, String(size), 'get']);
      expect(get.memoryLimit).toBe(64 * MiB);
      expect(get.error).toBeNull();
      // The synthetic object's bytes, hashed here the way the server produced them.
      const pattern = Buffer.alloc(MiB + 7);
      for (let i = 0; i < pattern.length; i++) pattern[i] = syntheticByte(i);
      const hash = createHash('sha256');
      for (let offset = 0; offset < size; offset += pattern.length) hash.update(pattern.subarray(0, Math.min(pattern.length, size - offset)));
      expect(get.sha256).toBe(hash.digest('hex'));
      // Eight 8 MiB parts fit in 64 MiB: never more requests at once.
      expect(server.maxConcurrent).toBeLessThanOrEqual(8);

      server.resetRequests();
      const put = await child<Transfer & { peakRss: number }>(['huge', server.host, String(size), 'put']);
      expect(put.error).toBeNull();
      const uploaded = server.requests.filter((request) => request.operation === 'UploadPart').reduce((total, request) => total + request.bytesIn, 0);
      expect(uploaded).toBe(size);
      expect(server.maxConcurrent).toBeLessThanOrEqual(8);

      // Part buffers stay within the limit; the rest is Node itself (about 55 MiB). The GET's sockets read into
      // the part buffers and the PUT's write them whole (peaks of 91-96 and 93 MiB on Node 20, 103-104 and 106 on 24).
      expect(get.peakRss).toBeLessThan(64 * MiB + 80 * MiB);
      expect(put.peakRss).toBeLessThan(64 * MiB + 80 * MiB);
    } finally {
      await server.close();
    }
  }, 300_000);

  it('100 transfers cancelled at random moments all settle, leave no upload, no file and nothing open', async () => {
    const server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    const client = newClient({ partSize: 5 * MiB });
    try {
      await run(client, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', '/cancel') });
      const data = makeBuffer(12 * MiB + 5);
      await run(client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', '/cancel/source', {}, data) });
      const targets = join(folder.path, 'cancelled');
      await mkdir(targets);
      let seed = 3;
      const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;

      const requests: S3Request[] = [];
      for (let i = 0; i < 100; i++) {
        const kind = i % 3;
        requests.push(
          kind === 0
            ? client.makeRequest({ type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', `/cancel/up-${i}`, {}, data) })
            : kind === 1
              ? client.makeRequest({
                  type: S3RequestType.GET_OBJECT,
                  request: httpRequest(server.host, 'GET', '/cancel/source'),
                  recvFilepath: join(targets, `down-${i}`),
                })
              : client.makeRequest({ type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', '/cancel/source'), onBody: () => {} }),
        );
      }
      const cancelled = requests.map(
        (request) =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              request.cancel();
              resolve();
            }, random() * 400),
          ),
      );
      const outcomes = await Promise.all(
        requests.map((request) =>
          request.finishedFuture.then(
            () => 'done',
            (error: unknown) => error,
          ),
        ),
      );
      await Promise.all(cancelled);
      await Promise.all(requests.map((request) => request.shutdownEvent));

      const failures = outcomes.filter((outcome) => outcome !== 'done');
      // Some were cancelled, and a cancelled transfer fails with the typed cancel error and nothing else.
      expect(failures.length).toBeGreaterThan(10);
      for (const failure of failures) expect(failure).toBeInstanceOf(RequestCanceledError);
      // Each finished download left its whole file; a cancelled one left nothing, not even a temporary file.
      const files = await readdir(targets);
      const finishedDownloads = outcomes.filter((outcome, i) => i % 3 === 1 && outcome === 'done').length;
      expect(files.filter((name) => !/^down-\d+$/.test(name))).toEqual([]);
      expect(files.length).toBe(finishedDownloads);
      for (const name of files) expect(sha256(await readFile(join(targets, name)))).toBe(sha256(data));

      const uploads = await run(client, {
        type: S3RequestType.DEFAULT,
        operationName: 'ListMultipartUploads',
        request: httpRequest(server.host, 'GET', '/cancel?uploads'),
      });
      expect(uploads.body.toString()).not.toContain('<Upload>');
    } finally {
      await client.close();
      await server.close();
    }
    // Nothing of the client or the server is left open once both are closed.
    const deadline = Date.now() + 3000;
    const open = () => process.getActiveResourcesInfo().filter((name) => name !== 'PipeWrap' && name !== 'TTYWrap' && name !== 'ProcessWrap');
    while (open().some((name) => name !== 'Timeout') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(open().filter((name) => name !== 'Timeout')).toEqual([]);
  }, 120_000);
});
