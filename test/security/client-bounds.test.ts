/**
 * What a hostile or broken server can make the client read: error bodies are kept to 64 KiB and
 * then the connection is dropped, a response head must arrive whole within the stall timeout, a few
 * interim answers at most, and no size beyond 2^53 - 1 is taken (it would be rounded). Each request
 * fails with a typed error in bounded time. The servers here are raw sockets on 127.0.0.1 that stop
 * by themselves.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AwsCredentialsProvider,
  InvalidResponseError,
  NetworkError,
  S3Client,
  S3RequestType,
  S3ResponseError,
  createDefaultS3SigningConfig,
} from '../../src/index.js';
import { httpRequest, newClient, run } from '../helpers/client.js';
import { useLocalFixture } from '../helpers/fixture.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, tempFolder } from '../helpers/servers.js';

const STALL_MS = 1000;
/** No hostile server here runs longer than this, whatever the client does. */
const SERVER_LIMIT_MS = 12_000;

interface Hostile {
  host: string;
  /** Bytes the server managed to hand to its sockets. */
  written: number;
  /** Requests (heads) it received. */
  requests: number;
  close(): Promise<void>;
}

/** A server that reads a request head (and a Content-Length body), then answers as `answer` does, for at most SERVER_LIMIT_MS. */
async function hostile(answer: (socket: Socket, stats: Hostile, stop: () => boolean) => void): Promise<Hostile> {
  const sockets = new Set<Socket>();
  const started = Date.now();
  const stats = { host: '', written: 0, requests: 0 } as Hostile;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    let head = Buffer.alloc(0);
    let bodyLeft = -1;
    socket.on('data', (data: Buffer) => {
      if (bodyLeft < 0) {
        head = Buffer.concat([head, data]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        stats.requests++;
        const length = /content-length: *(\d+)/i.exec(head.subarray(0, end).toString('latin1'));
        bodyLeft = Number(length?.[1] ?? 0) - (head.length - end - 4);
      } else {
        bodyLeft -= data.length;
      }
      if (bodyLeft <= 0) {
        bodyLeft = Infinity;
        answer(socket, stats, () => socket.destroyed || Date.now() - started > SERVER_LIMIT_MS);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stats.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  stats.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return stats;
}

/** Writes `chunk` again and again, as fast as the socket takes it, until `stop`. */
function flood(socket: Socket, stats: Hostile, stop: () => boolean, chunk: Buffer): void {
  const pump = () => {
    while (!stop()) {
      stats.written += chunk.length;
      if (!socket.write(chunk)) return void socket.once('drain', pump);
    }
    socket.destroy();
  };
  pump();
}

/** Writes `text` one byte every `ms`, until `stop`. */
function drip(socket: Socket, stop: () => boolean, text: string, ms: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (stop()) {
      clearInterval(timer);
      return void socket.destroy();
    }
    socket.write(text[at++ % text.length]!);
  }, ms);
  socket.once('close', () => clearInterval(timer));
}

let client: S3Client;
let servers: Hostile[] = [];
let folder: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  client = newClient({ stallTimeoutMs: STALL_MS, maxRetries: 1 });
  folder = await tempFolder();
});
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});
afterAll(async () => {
  await client.close();
  await folder.remove();
});

async function serve(answer: Parameters<typeof hostile>[0]): Promise<Hostile> {
  const server = await hostile(answer);
  servers.push(server);
  return server;
}

/** A PUT of a small file through the whole engine, its body streamed from the file; the elapsed time with the outcome. */
async function timedPutFromFile(host: string): Promise<{ error: unknown; ms: number }> {
  const file = join(folder.path, `put-${servers.length}.bin`);
  await writeFile(file, makeBuffer(1000));
  const started = Date.now();
  const { error } = await run(client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(host, 'PUT', '/b/k'), sendFilepath: file });
  return { error, ms: Date.now() - started };
}

/** Answers `100 Continue` every 50 ms, and nothing else. */
function continueForever(socket: Socket, _stats: Hostile, stop: () => boolean): void {
  const timer = setInterval(() => (stop() ? (clearInterval(timer), socket.destroy()) : socket.write('HTTP/1.1 100 Continue\r\n\r\n')), 50);
  socket.once('close', () => clearInterval(timer));
}

/** A GET of a small object through the whole engine; the elapsed time with the outcome. */
async function timedGet(host: string): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const { error } = await run(client, { type: S3RequestType.GET_OBJECT, request: httpRequest(host, 'GET', '/b/k') });
  return { error, ms: Date.now() - started };
}

describe('error bodies are bounded', () => {
  it('an endless 404 body is cut at 64 KiB: the GET fails with S3ResponseError 404 at once, its connection closed', async () => {
    const server = await serve((socket, stats, stop) => {
      socket.write('HTTP/1.1 404 Not Found\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n');
      const piece = Buffer.from(`10000\r\n${'<Error><Code>NoSuchKey</Code></Error>'.padEnd(65536, ' ')}\r\n`);
      flood(socket, stats, stop, piece);
    });
    const { error, ms } = await timedGet(server.host);
    expect(error).toBeInstanceOf(S3ResponseError);
    expect((error as S3ResponseError).statusCode).toBe(404);
    expect((error as S3ResponseError).s3Code).toBe('NoSuchKey');
    expect((error as S3ResponseError).body!.length).toBeLessThanOrEqual(64 * 1024);
    expect(ms).toBeLessThan(5000);
    // What the kernel's socket buffers hold beyond the 64 KiB read, not gigabytes.
    expect(server.written).toBeLessThan(32 * MiB);
  });

  it('an endless 500 body to a PUT read from a file (the streaming path) fails within its retries, each attempt cut at 64 KiB', async () => {
    const server = await serve((socket, stats, stop) => {
      socket.write('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 99999999999\r\n\r\n');
      flood(socket, stats, stop, Buffer.alloc(65536, 0x20));
    });
    const { error, ms } = await timedPutFromFile(server.host);
    expect(error).toBeInstanceOf(S3ResponseError);
    expect((error as S3ResponseError).statusCode).toBe(500);
    expect(server.requests).toBe(2);
    expect(ms).toBeLessThan(6000);
    expect(server.written).toBeLessThan(64 * MiB);
  });

  it('a 200 with a body to a request that expects none (UploadPart, PutObject) is refused past 64 KiB', async () => {
    const server = await serve((socket, stats, stop) => {
      socket.write('HTTP/1.1 200 OK\r\nETag: "e"\r\nTransfer-Encoding: chunked\r\n\r\n');
      flood(socket, stats, stop, Buffer.from(`10000\r\n${'x'.repeat(65536)}\r\n`));
    });
    const started = Date.now();
    const { error } = await run(client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', '/b/k', {}, Buffer.from('hello')) });
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('a response head arrives whole in bounded time', () => {
  it('a head dripped one byte every 200 ms fails with a NetworkError after the stall timeout of each attempt', async () => {
    const server = await serve((socket, _stats, stop) =>
      drip(socket, stop, 'HTTP/1.1 200 OK\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 200),
    );
    const { error, ms } = await timedGet(server.host);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/head did not arrive whole within 1000 ms/);
    expect(server.requests).toBe(2);
    // Two attempts of a 1 s head deadline, and one backoff.
    expect(ms).toBeLessThan(4000);
  });

  it('the same drip to a PUT read from a file (the streaming path) fails in bounded time too', async () => {
    const server = await serve((socket, _stats, stop) => drip(socket, stop, 'HTTP/1.1 200 OK\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 200));
    const { error, ms } = await timedPutFromFile(server.host);
    expect(error).toBeInstanceOf(NetworkError);
    expect(ms).toBeLessThan(4000);
  });

  it('an endless run of 100 Continue answers fails after a few of them, not when the server tires', async () => {
    const server = await serve(continueForever);
    const { error, ms } = await timedGet(server.host);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/more than 4 interim/);
    expect(ms).toBeLessThan(4000);
  });

  it('endless 100 Continue answers to a PUT read from a file (the streaming path) fail in bounded time too', async () => {
    const server = await serve(continueForever);
    const { error, ms } = await timedPutFromFile(server.host);
    expect(error).toBeInstanceOf(NetworkError);
    expect(ms).toBeLessThan(4000);
  });

  it('100 Continue answers sent as fast as the socket takes them are refused just the same', async () => {
    const server = await serve((socket, stats, stop) => flood(socket, stats, stop, Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'.repeat(100))));
    const { error, ms } = await timedGet(server.host);
    expect(error).toBeInstanceOf(NetworkError);
    expect(ms).toBeLessThan(4000);
  });
});

describe('sizes beyond 2^53 - 1 are refused, never rounded', () => {
  const bucket = 'sizes';
  const fixture = useLocalFixture(bucket, { client: { partSize: 5 * MiB, stallTimeoutMs: 2000 }, resetEachTest: true });
  const HUGE = '9007199254740993';

  let s3: S3Client;

  beforeAll(async () => {
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: fixture.server.endpoint,
      signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS_KEY, SECRET_KEY) }),
    });
    const put = await run(fixture.client, {
      type: S3RequestType.PUT_OBJECT,
      request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/k`, {}, makeBuffer(12 * MiB)),
    });
    expect(put.error).toBeNull();
  });
  afterAll(() => s3.close());

  it('HeadObject with Content-Length 2^53 + 1 is an InvalidResponseError from headObject()', async () => {
    fixture.server.faults.add({ operation: 'HeadObject', times: Infinity, action: { type: 'respond', status: 200, headers: { 'content-length': HUGE } } });
    const error = await s3.headObject({ bucket, key: 'k' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as Error).message).toContain(HUGE);
  });

  it('a GET that asks HeadObject first (checksum validation) refuses the same size', async () => {
    fixture.server.faults.add({ operation: 'HeadObject', times: Infinity, action: { type: 'respond', status: 200, headers: { 'content-length': HUGE } } });
    const { error } = await run(fixture.client, {
      type: S3RequestType.GET_OBJECT,
      request: httpRequest(fixture.server.host, 'GET', `/${bucket}/k`),
      checksumConfig: { validateResponse: true },
    });
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as Error).message).toContain(`HeadObject answered without a valid Content-Length: "${HUGE}"`);
  });

  it('a Content-Length written as "1e3" or "0x10" is no size', async () => {
    for (const text of ['1e3', '0x10', '12.0', '-1']) {
      fixture.server.faults.clear();
      fixture.server.faults.add({ operation: 'HeadObject', times: Infinity, action: { type: 'respond', status: 200, headers: { 'content-length': text } } });
      const error = await s3.headObject({ bucket, key: 'k' }).catch((caught: unknown) => caught);
      expect(error, text).toBeInstanceOf(InvalidResponseError);
    }
  });

  it('a listing that gives an object the size 2^53 + 1 is an InvalidResponseError', async () => {
    const body = `<ListBucketResult><Name>${bucket}</Name><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>${HUGE}</Size></Contents></ListBucketResult>`;
    fixture.server.faults.add({ operation: 'ListObjectsV2', action: { type: 'respond', status: 200, body } });
    const listed = async () => {
      for await (const _ of s3.listObjects({ bucket })) {
        // Drained for its error.
      }
    };
    await expect(listed()).rejects.toBeInstanceOf(InvalidResponseError);
  });

  it('a ranged GET whose Content-Range total is 2^53 + 1 is an InvalidResponseError', async () => {
    fixture.server.faults.add({
      operation: 'GetObject',
      times: Infinity,
      action: { type: 'respond', status: 206, headers: { 'content-range': `bytes 0-9/${HUGE}` }, body: '0123456789' },
    });
    const { error } = await run(fixture.client, { type: S3RequestType.GET_OBJECT, request: httpRequest(fixture.server.host, 'GET', `/${bucket}/k`) });
    expect(error).toBeInstanceOf(InvalidResponseError);
  });
});
