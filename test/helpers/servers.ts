/**
 * Real servers for the tests, on ephemeral loopback ports: the project's local S3
 * server, and s3rver (an independent implementation) behind a recording proxy.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { startLocalS3, type LocalS3 } from '../../src/local/index.js';

export const MiB = 1024 * 1024;
export const ACCESS_KEY = 'S3RVER';
export const SECRET_KEY = 'S3RVER';

/** A request as either test server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingMessage['headers'];
  /** Which connection carried it, numbered from 1. */
  connection: number;
  remoteAddress: string | undefined;
}

export interface TestServer {
  name: 's3rver' | 'local';
  /** Host header value: `127.0.0.1:PORT`. */
  host: string;
  port: number;
  readonly requests: RecordedRequest[];
  /** Most requests the server handled at the same time. */
  readonly maxConcurrent: number;
  /** The local server itself, for its fault plan and request log. */
  local: LocalS3 | null;
  resetStats(): void;
  close(): Promise<void>;
}

/** The project's own server, with the credentials the tests sign with. */
export async function startLocalTestServer(): Promise<TestServer> {
  const local = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  return {
    name: 'local',
    host: local.host,
    port: local.port,
    get requests() {
      return local.requests.map((r) => ({
        method: r.method,
        url: Object.keys(r.query).length > 0 ? `${r.path}?${new URLSearchParams(r.query).toString()}` : r.path,
        headers: r.headers,
        connection: r.connection,
        remoteAddress: undefined,
      }));
    },
    get maxConcurrent() {
      return local.maxConcurrent;
    },
    local,
    resetStats: () => local.resetRequests(),
    close: () => local.close(),
  };
}

/** Starts s3rver, and in front of it a proxy that records every request; tests talk to the proxy. */
export async function startTestServer(): Promise<TestServer> {
  const connections = new WeakMap<Socket, number>();
  let connectionCount = 0;
  const folder = await mkdtemp(join(tmpdir(), 's3tx-test-s3rver-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: folder });
  const { port: upstreamPort } = await s3rver.run();
  let active = 0;
  const state: TestServer & { requests: RecordedRequest[]; maxConcurrent: number } = {
    name: 's3rver',
    host: '',
    port: 0,
    requests: [],
    maxConcurrent: 0,
    local: null,
    resetStats() {
      state.requests = [];
      state.maxConcurrent = 0;
    },
    close: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3rver.close();
      await rm(folder, { recursive: true, force: true });
    },
  };

  const proxy: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!connections.has(req.socket)) connections.set(req.socket, ++connectionCount);
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      connection: connections.get(req.socket)!,
      remoteAddress: req.socket.remoteAddress,
    };
    state.requests.push(recorded);
    active++;
    state.maxConcurrent = Math.max(state.maxConcurrent, active);
    res.on('close', () => active--);
    const upstream = httpRequest({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      // s3rver declares one byte for an empty range and sends none: headers must not wait for it.
      res.flushHeaders();
      upstreamRes.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    // A client that gives up must not leave s3rver waiting for the rest of a body.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  proxy.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
  state.port = (proxy.address() as AddressInfo).port;
  state.host = `127.0.0.1:${state.port}`;
  return state;
}

/** A file of `size` bytes in which every 64 KiB block differs, so misplaced bytes are caught. */
export async function makeFile(path: string, size: number): Promise<void> {
  const block = randomBytes(64 * 1024);
  const file = await open(path, 'w');
  try {
    for (let offset = 0; offset < size; offset += block.length) {
      block.writeUInt32BE(offset / block.length, 0);
      await file.write(block, 0, Math.min(block.length, size - offset), offset);
    }
  } finally {
    await file.close();
  }
}

export function makeBuffer(size: number): Buffer {
  const data = randomBytes(size);
  for (let offset = 0; offset + 4 <= size; offset += 64 * 1024) data.writeUInt32BE(offset, offset);
  return data;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function tempFolder(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 's3tx-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Whether `value` is what the XML reader promises: an element of text, or a plain object (no
 * prototype tricks) whose values are elements or arrays of them, to any depth. Names why not.
 */
export function xmlTreeProblem(value: unknown, at = 'document'): string | null {
  if (typeof value === 'string') return null;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const problem = xmlTreeProblem(item, `${at}[${index}]`);
      if (problem) return problem;
    }
    return null;
  }
  if (value === null || typeof value !== 'object') return `${at} is ${value === null ? 'null' : typeof value}`;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return `${at} is not a plain object`;
  for (const [name, child] of Object.entries(value)) {
    if (name === '' || name === '__proto__') return `${at} has the element name ${JSON.stringify(name)}`;
    const problem = xmlTreeProblem(child, `${at}.${name}`);
    if (problem) return problem;
  }
  return null;
}
