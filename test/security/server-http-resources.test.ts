/**
 * What an unauthenticated client can make the local server hold: memory in its request log,
 * connections with a head or a body that never ends, and file descriptors. Each is bounded, and
 * a server run under `ulimit -n 256` keeps serving signed requests while 400 idle connections
 * are held open against it. Raw sockets to 127.0.0.1, bounded in count and time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3, type RecordedRequest } from '../../src/local/index.js';
import { BodyTimeoutError, H1ServerConnection } from '../../src/local/h1-server.js';
import { raw } from '../helpers/raw.js';
import { Wire } from '../helpers/wire.js';
import { ACCESS_KEY, SECRET_KEY } from '../helpers/servers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Where a request's padding goes: padding headers of 1 KiB each, one Authorization header (which
 * the log leaves out), or the path.
 */
type Padding = 'headers' | 'authorization' | 'path';

/** An unsigned (or badly signed) request whose head carries `bytes` of padding, placed as `padding` says. */
function paddedRequest(host: string, path: string, bytes: number, padding: Padding = 'headers'): string {
  if (padding === 'path') return `GET ${path}-${'p'.repeat(bytes)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
  if (padding === 'authorization') return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: AWS4-HMAC-SHA256 ${'p'.repeat(bytes)}\r\n\r\n`;
  let head = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (let i = 0; i < bytes / KiB; i++) head += `x-pad-${i}: ${'p'.repeat(KiB - 12)}\r\n`;
  return `${head}\r\n`;
}

/** The text a log record keeps for its request: path, query and headers. */
function recordBytes(record: RecordedRequest): number {
  let bytes = record.path.length;
  for (const [name, value] of Object.entries(record.query)) bytes += name.length + value.length;
  for (const [name, value] of Object.entries(record.headers)) bytes += name.length + value.length;
  return bytes;
}

/** Sends `count` padded unsigned requests, `parallel` at a time, each on its own connection (a 403 or 400 closes it). */
async function sendPadded(port: number, host: string, count: number, bytes: number, padding: Padding = 'headers', parallel = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const wire = new Wire(port);
        wire.send(paddedRequest(host, `/log/padded-${next++}`, bytes, padding));
        await wire.until(() => false);
      }
    }),
  );
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the request log, before authentication', { timeout: 30_000 }, () => {
  it('keeps at most 8 KiB of headers per request, however many were sent', async () => {
    const server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    try {
      await sendPadded(server.port, server.host, 1, 60 * KiB);
      const [record] = server.requests;
      expect(record!.status).toBe(403);
      const headerBytes = Object.entries(record!.headers).reduce((sum, [name, value]) => sum + name.length + value.length, 0);
      expect(headerBytes).toBeLessThanOrEqual(8 * KiB);
      expect(record!.headers.host).toBe(server.host);
    } finally {
      await server.close();
    }
  });

  it('holds its records to requestLogBytes in all, dropping the oldest', async () => {
    const server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, requestLogBytes: 256 * KiB });
    try {
      await sendPadded(server.port, server.host, 100, 8 * KiB);
      const total = server.requests.reduce((sum, record) => sum + recordBytes(record), 0);
      expect(total).toBeLessThanOrEqual(256 * KiB);
      expect(server.requests.length).toBeGreaterThan(10);
      expect(server.requests.some((record) => record.path === '/log/padded-99')).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('keeps nothing with requestLogSize 0, and serves as it would otherwise', async () => {
    const server = await startLocalS3({ anonymous: true, requestLogSize: 0 });
    try {
      expect((await raw(server.host, 'PUT', '/unlogged', { anonymous: true })).status).toBe(200);
      expect((await raw(server.host, 'PUT', '/unlogged/key', { anonymous: true, body: 'hello' })).status).toBe(200);
      const missing = await raw(server.host, 'HEAD', '/unlogged/missing', { anonymous: true });
      expect([missing.status, missing.body.length]).toEqual([404, 0]);
      expect(server.requests).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('counts a record whose head it does not copy for the whole head, hidden headers too', async () => {
    const server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, requestLogBytes: 256 * KiB });
    try {
      // 12 KiB heads, below the size past which a record's strings are copied: each record holds its head.
      await sendPadded(server.port, server.host, 100, 12 * KiB, 'authorization');
      expect(server.requests.length).toBeLessThanOrEqual(256 / 12);
      expect(server.requests.some((record) => record.path === '/log/padded-99')).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('connections that never finish a request', { timeout: 15_000 }, () => {
  let server: LocalS3;

  beforeAll(async () => {
    server = await startLocalS3({ anonymous: true, headerTimeoutMs: 300, bodyTimeoutMs: 300 });
    expect((await raw(server.host, 'PUT', '/slow', { anonymous: true })).status).toBe(200);
  });
  afterAll(() => server.close());

  it('closes a connection whose head has not ended within the header timeout, 408', async () => {
    const partial = new Wire(server.port);
    partial.send(`GET /slow/a HTTP/1.1\r\nHost: ${server.host}\r\n`);
    // A byte every 100 ms keeps the socket busy: the deadline holds for the whole head regardless.
    const trickle = new Wire(server.port);
    const started = Date.now();
    const head = `GET /slow/a HTTP/1.1\r\nHost: ${server.host}\r\nx-slow: ${'s'.repeat(100)}`;
    for (let at = 0; at < head.length && !trickle.closed && Date.now() - started < 3000; at++) {
      trickle.send(head[at]!);
      await wait(100);
    }
    expect(trickle.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await partial.until(() => false)).toMatch(/^HTTP\/1\.1 408/);
    const silent = new Wire(server.port);
    await silent.until(() => false);
    expect(silent.closed).toBe(true);
  });

  it('answers a body that stops arriving RequestTimeout after the body timeout, and closes', async () => {
    const wire = new Wire(server.port);
    wire.send(`PUT /slow/body HTTP/1.1\r\nHost: ${server.host}\r\nContent-Length: 100\r\n\r\n0123456789`);
    const started = Date.now();
    const text = await wire.until(() => false);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(text).toMatch(/^HTTP\/1\.1 400/);
    expect(text).toContain('<Code>RequestTimeout</Code>');
    expect(wire.closed).toBe(true);
  });

  it('keeps reading a body that arrives slowly but never stops for the body timeout', async () => {
    const wire = new Wire(server.port);
    const body = Buffer.alloc(2 * MiB, 0x61);
    wire.send(`PUT /slow/big HTTP/1.1\r\nHost: ${server.host}\r\nContent-Length: ${body.length}\r\n\r\n`);
    for (let at = 0; at < body.length; at += 256 * KiB) {
      wire.send(body.subarray(at, at + 256 * KiB));
      await wait(100);
    }
    expect(await wire.until((text) => text.includes('\r\n\r\n'))).toMatch(/^HTTP\/1\.1 200/);
    wire.socket.destroy();
  });

  it('times out a body stalled after a response the client was slow to read', async () => {
    // More than loopback's socket buffers hold, so that the server's writes stop while the client does not read.
    expect((await raw(server.host, 'PUT', '/slow/large', { anonymous: true, body: Buffer.alloc(32 * MiB, 0x6c) })).status).toBe(200);
    const wire = new Wire(server.port);
    wire.socket.pause();
    // The PUT waits on the connection until the GET's response has gone; then its body stops after 10 of 100 bytes.
    wire.send(
      `GET /slow/large HTTP/1.1\r\nHost: ${server.host}\r\n\r\nPUT /slow/after HTTP/1.1\r\nHost: ${server.host}\r\nContent-Length: 100\r\n\r\n0123456789`,
    );
    // Past the body timeout with the server the one waiting: no fault of the client's, and no reason to stop watching.
    await wait(800);
    wire.socket.resume();
    await Promise.race([wire.until(() => false), wait(5000)]);
    expect(wire.closed).toBe(true);
    expect(wire.text.length).toBeGreaterThan(32 * MiB);
    expect(wire.text.slice(-1000)).toContain('<Code>RequestTimeout</Code>');
  });
});

describe('a body the server stopped reading for longer than the body timeout', { timeout: 15_000 }, () => {
  it('is timed out once the server reads again and the client sends nothing more', async () => {
    const timeouts = { idleMs: 300, headerMs: 300, bodyMs: 300 };
    let failed: Error | null = null;
    const server = createNetServer(
      (socket) =>
        new H1ServerConnection(socket, 1, timeouts, (exchange) => {
          // Nobody reads the body for longer than the body timeout: the server's doing, not the client's.
          setTimeout(() => exchange.readBody({ piece: () => {}, end: () => exchange.end(), abort: (error) => (failed = error) }), 800);
        }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const wire = new Wire((server.address() as AddressInfo).port);
    try {
      wire.send('PUT /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789');
      const started = Date.now();
      while (!failed && Date.now() - started < 3000) await wait(50);
      expect(failed).toBeInstanceOf(BodyTimeoutError);
      expect(Date.now() - started).toBeGreaterThan(1000);
    } finally {
      wire.socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('a kept-alive connection after a response the client was slow to read', { timeout: 15_000 }, () => {
  it('is still closed once it has been idle for the idle timeout', async () => {
    const body = Buffer.alloc(32 * MiB, 0x6b);
    const timeouts = { idleMs: 300, headerMs: 300, bodyMs: 300 };
    const server = createNetServer((socket) => new H1ServerConnection(socket, 1, timeouts, (exchange) => exchange.end(body)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const wire = new Wire((server.address() as AddressInfo).port);
    try {
      wire.socket.pause();
      wire.send('GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await wait(800);
      wire.socket.resume();
      await Promise.race([wire.until(() => false), wait(5000)]);
      expect(wire.closed).toBe(true);
      expect(wire.text.length).toBeGreaterThan(body.length);
      expect(wire.text).toMatch(/^HTTP\/1\.1 200[^]*connection: keep-alive/);
    } finally {
      wire.socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the cap on open connections', { timeout: 15_000 }, () => {
  it('answers connections past maxConnections 503 and closes them; a freed slot serves again', async () => {
    const server = await startLocalS3({ anonymous: true, maxConnections: 5 });
    try {
      const held = Array.from({ length: 5 }, () => new Wire(server.port));
      await wait(100);
      const extra = new Wire(server.port);
      expect(await extra.until(() => false)).toMatch(/^HTTP\/1\.1 503/);
      expect(held.every((wire) => !wire.closed)).toBe(true);
      held[0]!.socket.destroy();
      await wait(100);
      expect((await raw(server.host, 'PUT', '/capped', { anonymous: true })).status).toBe(200);
      for (const wire of held) wire.socket.destroy();
    } finally {
      await server.close();
    }
  });
});

describe('closing a TLS server', { timeout: 15_000 }, () => {
  it('drops a connection still in its handshake at once, rather than waiting out the handshake timeout', async () => {
    const tls = {
      cert: readFileSync(new URL('../fixtures/tls/server.crt', import.meta.url)),
      key: readFileSync(new URL('../fixtures/tls/server.key', import.meta.url)),
    };
    const server = await startLocalS3({ anonymous: true, tls });
    // A TCP connection that never sends its ClientHello.
    const silent = new Wire(server.port);
    await wait(100);
    const started = Date.now();
    const closed = await Promise.race([server.close().then(() => true), wait(3000).then(() => false)]);
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    await silent.until(() => false);
    expect(silent.closed).toBe(true);
  });
});

describe('a server in a child process', { timeout: 60_000 }, () => {
  let folder: string;
  let bundle: string;

  // The server as it is now, bundled from the sources, so that no stale dist/ is measured.
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 's3tx-security-'));
    bundle = join(folder, 'local.mjs');
    await build({ entryPoints: ['src/local/index.ts'], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'silent' });
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  /**
   * Starts the bundled server with `options` in `node` run by `shell` (a bash command line that
   * ends in `exec node "$@"`); on a line "gc" on its stdin it collects and reports its memory.
   */
  async function child(shell: string, options: object): Promise<{ process: ChildProcess; port: number; memory: () => Promise<NodeJS.MemoryUsage> }> {
    const script = `
      import { startLocalS3 } from ${JSON.stringify(bundle)};
      const server = await startLocalS3(${JSON.stringify({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, ...options })});
      console.log(JSON.stringify({ port: server.port }));
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', () => { globalThis.gc(); console.log(JSON.stringify(process.memoryUsage())); });
    `;
    const proc = spawn('bash', ['-c', shell, 'bash', '--expose-gc', '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const waiters: Array<() => void> = [];
    let partial = '';
    proc.stdout!.setEncoding('utf8').on('data', (text: string) => {
      partial += text;
      const complete = partial.split('\n');
      partial = complete.pop()!;
      lines.push(...complete);
      for (const wake of waiters.splice(0)) wake();
    });
    proc.once('exit', () => {
      for (const wake of waiters.splice(0)) wake();
    });
    const nextLine = async () => {
      while (lines.length === 0) {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the server exited (${proc.exitCode ?? proc.signalCode})`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return JSON.parse(lines.shift()!);
    };
    const { port } = (await nextLine()) as { port: number };
    return {
      process: proc,
      port,
      memory: async () => {
        proc.stdin!.write('gc\n');
        return (await nextLine()) as NodeJS.MemoryUsage;
      },
    };
  }

  // Every string parsed out of a head (a header value, the path) is a slice of it in V8, and holds all of it:
  // the padding in a header the log leaves out, or in the path it cuts, counts as much as padding it keeps.
  it.each<Padding>(['headers', 'authorization', 'path'])(
    'holds its memory while 3,000 unsigned requests with 60 KiB heads are logged, padded in %s',
    async (padding) => {
      const server = await child('exec node "$@"', {});
      try {
        const before = await server.memory();
        await sendPadded(server.port, `127.0.0.1:${server.port}`, 3000, 60 * KiB, padding);
        const after = await server.memory();
        const grown = (after.heapUsed + after.external - before.heapUsed - before.external) / MiB;
        console.log(
          `server heap+external ${((before.heapUsed + before.external) / MiB).toFixed(1)} -> ${((after.heapUsed + after.external) / MiB).toFixed(1)} MiB, rss ${(before.rss / MiB).toFixed(0)} -> ${(after.rss / MiB).toFixed(0)} MiB`,
        );
        // 3,000 records of 8 KiB of headers at most are 24 MiB (34 MiB of heap measured); all 60 KiB of each were 186.
        expect(grown).toBeLessThan(64);
      } finally {
        server.process.kill();
      }
    },
  );

  it('under ulimit -n 256, answers connections past its cap 503, does not crash, and serves once the idle ones time out', async () => {
    const server = await child('ulimit -n 256 && exec node "$@"', { headerTimeoutMs: 2000 });
    const wires: Wire[] = [];
    try {
      for (let i = 0; i < 400; i++) {
        wires.push(new Wire(server.port));
        if (i % 50 === 49) await wait(50);
      }
      await wait(500);
      const refused = wires.filter((wire) => wire.text.startsWith('HTTP/1.1 503') && wire.closed).length;
      const open = wires.filter((wire) => !wire.closed).length;
      expect(refused).toBeGreaterThan(100);
      expect(open + refused).toBe(400);
      expect(server.process.exitCode).toBe(null);
      await Promise.all(wires.map((wire) => wire.until(() => false)));
      expect(server.process.exitCode).toBe(null);
      const host = `127.0.0.1:${server.port}`;
      expect((await raw(host, 'PUT', '/after-the-flood')).status).toBe(200);
      expect((await raw(host, 'PUT', '/after-the-flood/key', { body: 'hello' })).status).toBe(200);
    } finally {
      for (const wire of wires) wire.socket.destroy();
      server.process.kill();
    }
  });
});
