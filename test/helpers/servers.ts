/**
 * Real servers for the tests, on ephemeral loopback ports: s3rver in-process, and a
 * fault proxy in front of it that records every request and can answer with an
 * error, reset the connection or stall, as S3 sometimes does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export const MiB = 1024 * 1024;
export const ACCESS_KEY = 'S3RVER';
export const SECRET_KEY = 'S3RVER';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  socket: Socket;
}

/** What a fault rule does to a matching request. */
export type Fault =
  | { kind: 'status'; status: number; code: string }
  | { kind: 'reset-after'; bytes: number }
  | { kind: 'stall-after'; bytes: number; ms: number }
  /** Forward the request without its Range header, as a server without range support would answer. */
  | { kind: 'ignore-range' };

export interface FaultRule {
  match: (request: RecordedRequest) => boolean;
  fault: Fault;
  /** How many matching requests it applies to. */
  times: number;
}

export interface TestServer {
  /** Host header value: `127.0.0.1:PORT`. */
  host: string;
  port: number;
  requests: RecordedRequest[];
  /** Most requests the server handled at the same time. */
  maxConcurrent: number;
  faults: FaultRule[];
  resetStats(): void;
  close(): Promise<void>;
}

/** Starts s3rver, and in front of it a recording proxy with fault injection; tests talk to the proxy. */
export async function startTestServer(): Promise<TestServer> {
  const folder = await mkdtemp(join(tmpdir(), 's3tx-test-s3rver-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: folder });
  const { port: upstreamPort } = await s3rver.run();
  let active = 0;
  const state: TestServer = {
    host: '',
    port: 0,
    requests: [],
    maxConcurrent: 0,
    faults: [],
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
    const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, socket: req.socket };
    state.requests.push(recorded);
    active++;
    state.maxConcurrent = Math.max(state.maxConcurrent, active);
    res.on('close', () => active--);
    const rule = state.faults.find((candidate) => candidate.times > 0 && candidate.match(recorded));
    if (rule) rule.times--;
    const fault = rule?.fault;
    if (fault?.kind === 'status') {
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': 'application/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>injected by the test</Message><RequestId>TEST</RequestId></Error>`,
        );
      });
      return;
    }
    const headers = { ...req.headers };
    if (fault?.kind === 'ignore-range') delete headers.range;
    const upstream = httpRequest({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      res.flushHeaders();
      if (!fault || fault.kind === 'ignore-range') {
        upstreamRes.pipe(res);
        return;
      }
      let sent = 0;
      let stalled = false;
      upstreamRes.on('data', (chunk: Buffer) => {
        if (stalled) return;
        const room = fault.bytes - sent;
        if (chunk.length < room) {
          sent += chunk.length;
          res.write(chunk);
          return;
        }
        res.write(chunk.subarray(0, Math.max(0, room)));
        stalled = true;
        if (fault.kind === 'reset-after') {
          req.socket.destroy();
        } else {
          upstreamRes.pause();
          setTimeout(() => req.socket.destroy(), fault.ms).unref();
        }
      });
      upstreamRes.on('end', () => {
        if (!stalled) res.end();
      });
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
