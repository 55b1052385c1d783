import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FileIoError, NetworkError } from '../src/core/errors.js';
import { Transport, type ResponseSink } from '../src/http/transport.js';
import { startLocalS3 } from '../src/local/index.js';

interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A TCP server that reads request heads (and Content-Length bodies) and lets the test write whatever bytes it likes back. */
async function scriptedServer(respond: (request: Received, socket: Socket) => void, atHead: (path: string) => boolean = () => false) {
  const sockets = new Set<Socket>();
  let opened = 0;
  let mostAtOnce = 0;
  const requests: Received[] = [];
  const server: Server = createServer((socket) => {
    opened++;
    sockets.add(socket);
    mostAtOnce = Math.max(mostAtOnce, sockets.size);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (data) => {
      pending += data.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const [line, ...lines] = pending.slice(0, end).split('\r\n');
        const headers: Record<string, string> = Object.fromEntries(
          lines.map((header) => [header.slice(0, header.indexOf(':')).toLowerCase(), header.slice(header.indexOf(':') + 1).trim()]),
        );
        const [method, path] = line!.split(' ');
        // A request answered at its head (the test says which) has its body left unread, as a server refusing it would.
        if (atHead(path!)) {
          pending = '';
          respond({ method: method!, path: path!, headers, body: '' }, socket);
          break;
        }
        const length = Number(headers['content-length'] ?? 0);
        if (pending.length < end + 4 + length) break;
        const body = pending.slice(end + 4, end + 4 + length);
        pending = pending.slice(end + 4 + length);
        const request = { method: method!, path: path!, headers, body };
        requests.push(request);
        respond(request, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    get opened() {
      return opened;
    },
    get mostAtOnce() {
      return mostAtOnce;
    },
    get openNow() {
      return sockets.size;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A sink that keeps every chunk as given (as a caller may) and can offer a destination. */
class Sink implements ResponseSink {
  statusCode = 0;
  headers: Record<string, string | string[] | undefined> = {};
  chunks: Buffer[] = [];
  received = 0;
  constructor(readonly into: Buffer | null = null) {}
  onResponseStart(statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.statusCode = statusCode;
    this.headers = headers;
  }
  onResponseData(chunk: Buffer): void {
    this.chunks.push(chunk);
    if (this.into && chunk.buffer !== this.into.buffer) chunk.copy(this.into, this.received);
    this.received += chunk.length;
  }
  destination(): Buffer | null {
    return this.into;
  }
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  respond: (request: Received, socket: Socket) => void,
  options: { connections?: number; stallTimeoutMs?: number; atHead?: (path: string) => boolean } = {},
) {
  const server = await scriptedServer(respond, options.atHead);
  const transport = new Transport({
    connections: options.connections ?? 4,
    stallTimeoutMs: options.stallTimeoutMs ?? 5000,
    tlsConnectionOptions: null,
    localAddresses: [],
  });
  cleanups.push(
    () => server.close(),
    () => transport.close(),
  );
  const get = async (path: string, sink = new Sink(), method = 'GET') => {
    await transport.send({ origin: server.origin, method, path, headers: { host: 'test' } }, sink).done;
    return sink;
  };
  return { server, transport, get };
}

const answer = (socket: Socket, body: Buffer, extra = '') =>
  socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n`), body]));

describe('transport: s3tx connections for requests without a body or with one in memory', () => {
  it('reads a body straight into the destination: the sink sees views of it, past the bytes that came with the head', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const { get } = await setup((_, socket) => answer(socket, body));
    const destination = Buffer.alloc(body.length);
    const sink = await get('/object', new Sink(destination));
    expect(destination.equals(body)).toBe(true);
    const inPlace = sink.chunks.filter((chunk) => chunk.buffer === destination.buffer);
    expect(inPlace.length).toBeGreaterThan(0);
    expect(inPlace.reduce((sum, chunk) => sum + chunk.length, 0)).toBeGreaterThan(body.length - 64 * 1024);
  });

  it('gives a sink without a destination chunks it may keep: none is overwritten by later reads', async () => {
    const body = randomBytes(1024 * 1024 + 5);
    const { get } = await setup((_, socket) => answer(socket, body));
    for (let i = 0; i < 3; i++) expect((await get('/object')).body.equals(body)).toBe(true);
  });

  it('reuses one connection for requests in turn, and honours Connection: close', async () => {
    let close = false;
    const { server, get } = await setup((_, socket) => {
      answer(socket, Buffer.from('ok'), close ? 'Connection: close\r\n' : '');
      if (close) socket.end();
    });
    for (let i = 0; i < 5; i++) expect((await get(`/${i}`)).body.toString()).toBe('ok');
    expect(server.opened).toBe(1);
    close = true;
    await get('/a');
    await get('/b');
    expect(server.opened).toBe(2);
  });

  it('sends a body already in memory after its head, and keeps the connection only when the body was surely read', async () => {
    const { server, transport } = await setup((request, socket) => answer(socket, Buffer.from(`got ${request.body.length}`)));
    const put = async (path: string, body: Buffer) => {
      const sink = new Sink();
      await transport.send({ origin: server.origin, method: 'PUT', path, headers: { host: 'test' }, body }, sink).done;
      return sink.body.toString();
    };
    const big = randomBytes(3 * 1024 * 1024);
    expect(await put('/a', big)).toBe(`got ${big.length}`);
    expect(await put('/b', Buffer.from('small'))).toBe('got 5');
    expect(server.requests.map((request) => [request.headers['content-length'], request.body === big.toString('latin1')])).toEqual([
      [String(big.length), true],
      ['5', false],
    ]);
    expect(server.opened).toBe(1);
  });

  it('sends an incremental body piece by piece, waiting for a piece not yet there, and keeps the connection', async () => {
    const { server, transport } = await setup((request, socket) => answer(socket, Buffer.from(`got ${request.body.length}`)));
    const big = randomBytes(3 * 1024 * 1024);
    let release!: () => void;
    const later = new Promise<void>((resolve) => (release = resolve));
    const body = {
      length: 3 + big.length + 4,
      async *pieces() {
        yield Buffer.from('abc');
        yield big;
        await later;
        yield Buffer.from('tail');
      },
    };
    const sink = new Sink();
    const exchange = transport.send({ origin: server.origin, method: 'PUT', path: '/a', headers: { host: 'test' }, body }, sink);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.requests).toHaveLength(0);
    release();
    await exchange.done;
    expect(sink.body.toString()).toBe(`got ${body.length}`);
    expect(server.requests[0]!.headers['content-length']).toBe(String(body.length));
    expect(server.requests[0]!.body === `abc${big.toString('latin1')}tail`).toBe(true);
    await transport.send({ origin: server.origin, method: 'PUT', path: '/b', headers: { host: 'test' }, body: Buffer.from('x') }, new Sink()).done;
    expect(server.opened).toBe(1);
  });

  it('fails an exchange with the error its incremental body throws, and never reuses that connection', async () => {
    const { server, transport } = await setup((request, socket) => answer(socket, Buffer.from(`got ${request.body.length}`)));
    const failure = new FileIoError('cannot read the part', null);
    const body = {
      length: 10,
      async *pieces() {
        yield Buffer.from('abc');
        throw failure;
      },
    };
    await expect(transport.send({ origin: server.origin, method: 'PUT', path: '/a', headers: { host: 'test' }, body }, new Sink()).done).rejects.toBe(failure);
    const next = new Sink();
    await transport.send({ origin: server.origin, method: 'PUT', path: '/b', headers: { host: 'test' }, body: Buffer.from('x') }, next).done;
    expect(next.body.toString()).toBe('got 1');
    expect(server.opened).toBe(2);
  });

  it('drops a connection whose upload was answered with an error before its body was read', async () => {
    // A server may answer an upload with an error before it has read the body, and still say keep-alive;
    // what is left of the body must never be taken for the start of the next exchange. The client cannot
    // tell how much was read, so an error to a request with a body closes the connection.
    const { server, transport } = await setup((_, socket) => socket.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
    const sink = new Sink();
    await transport.send({ origin: server.origin, method: 'PUT', path: '/x', headers: { host: 'test' }, body: Buffer.alloc(10, 0x61) }, sink).done;
    expect(sink.statusCode).toBe(403);
    const next = new Sink();
    await transport.send({ origin: server.origin, method: 'PUT', path: '/y', headers: { host: 'test' }, body: Buffer.alloc(10, 0x61) }, next).done;
    expect(next.statusCode).toBe(403);
    expect(server.opened).toBe(2);
  });

  it('opens at most `connections` sockets and queues the rest in order', async () => {
    const { server, get } = await setup((request, socket) => setTimeout(() => answer(socket, Buffer.from(request.path)), 20), { connections: 3 });
    const sinks = await Promise.all(Array.from({ length: 12 }, (_, i) => get(`/${i}`)));
    expect(sinks.map((sink) => sink.body.toString())).toEqual(Array.from({ length: 12 }, (_, i) => `/${i}`));
    expect(server.mostAtOnce).toBe(3);
    expect(server.opened).toBe(3);
  });

  it('skips an interim 100 response, decodes a chunked body, and gives HEAD and 204 answers no body', async () => {
    const { get } = await setup((request, socket) => {
      if (request.method === 'HEAD') return socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      if (request.path === '/empty') return socket.write('HTTP/1.1 204 No Content\r\n\r\n');
      socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Internal Error\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      setTimeout(() => socket.write('6\r\n world\r\n0\r\n\r\n'), 10);
    });
    const chunked = await get('/chunked', new Sink(Buffer.alloc(100)));
    expect(chunked.statusCode).toBe(500);
    expect(chunked.body.toString()).toBe('hello world');
    const head = await get('/object', new Sink(), 'HEAD');
    expect(head.headers['content-length']).toBe('1000');
    expect(head.body.length).toBe(0);
    expect((await get('/empty')).statusCode).toBe(204);
  });

  it('fails with a NetworkError when the server closes mid-body or goes quiet, and recovers on a new connection', async () => {
    let mode = 'cut';
    const { server, get } = await setup(
      (_, socket) => {
        if (mode === 'cut') return socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly some');
        if (mode === 'quiet') return socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n');
        answer(socket, Buffer.from('fine'));
      },
      { stallTimeoutMs: 300 },
    );
    await expect(get('/a')).rejects.toThrow(/closed the connection before the response ended/);
    mode = 'quiet';
    const quiet = get('/b');
    await expect(quiet).rejects.toBeInstanceOf(NetworkError);
    await expect(quiet).rejects.toThrow(/nothing was sent or received for 300 ms/);
    mode = 'fine';
    expect((await get('/c')).body.toString()).toBe('fine');
    expect(server.opened).toBe(3);
  });

  it('sends a GET again on a new connection when the server drops it unanswered on a reused one; never a POST, nor on a new connection', async () => {
    // Each connection answers its first request and closes on the second unread, as a server shutting an idle connection would.
    const served = new Map<Socket, number>();
    const { server, get } = await setup((request, socket) => {
      const count = (served.get(socket) ?? 0) + 1;
      served.set(socket, count);
      if (count === 1) answer(socket, Buffer.from(request.path));
      else socket.destroy();
    });
    expect((await get('/a')).body.toString()).toBe('/a');
    expect((await get('/b')).body.toString()).toBe('/b');
    expect(server.opened).toBe(2);
    expect(server.requests.map((request) => request.path)).toEqual(['/a', '/b', '/b']);
    // The server may have acted on a POST before it closed.
    await expect(get('/c', new Sink(), 'POST')).rejects.toBeInstanceOf(NetworkError);
    expect(server.opened).toBe(2);

    const { server: dropping, get: getDropped } = await setup((_, socket) => socket.destroy());
    await expect(getDropped('/x')).rejects.toBeInstanceOf(NetworkError);
    expect(dropping.opened).toBe(1);
  });

  it('refuses a response that breaks HTTP/1.1 and never reuses its connection', async () => {
    let bad = true;
    const { server, get } = await setup((_, socket) =>
      bad ? socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nab') : answer(socket, Buffer.from('ok')),
    );
    await expect(get('/a')).rejects.toThrow(/invalid Content-Length/);
    bad = false;
    expect((await get('/b')).body.toString()).toBe('ok');
    expect(server.opened).toBe(2);
  });

  it('aborts a waiting or running exchange with the reason given, and a late abort does not touch the next exchange', async () => {
    let arrived!: () => void;
    const hangArrived = new Promise<void>((resolve) => (arrived = resolve));
    const { server, transport } = await setup((request, socket) => (request.path === '/hang' ? arrived() : answer(socket, Buffer.from('ok'))), {
      connections: 1,
    });
    const send = (path: string) => transport.send({ origin: server.origin, method: 'GET', path, headers: { host: 'test' } }, new Sink());
    const hanging = send('/hang');
    await hangArrived;
    const waiting = send('/wait');
    waiting.abort(new Error('not needed'));
    await expect(waiting.done).rejects.toThrow('not needed');
    hanging.abort(new Error('stop'));
    await expect(hanging.done).rejects.toThrow('stop');
    const first = send('/1');
    await first.done;
    const second = send('/2');
    first.abort(new Error('too late'));
    await second.done;
    expect(server.requests.map((request) => request.path)).toEqual(['/hang', '/1', '/2']);
  });

  it('lets the process exit while connections idle, and close() ends them', async () => {
    // A process that leaves its transport open must still exit once its requests are done.
    const script = `
      import { createServer } from 'node:net';
      import { Transport } from ${JSON.stringify(fileURLToPath(new URL('../dist/http/transport.js', import.meta.url)))};
      const server = createServer((socket) => socket.unref().on('data', () => socket.write('HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok'))).listen(0, '127.0.0.1');
      server.unref();
      await new Promise((resolve) => server.once('listening', resolve));
      const transport = new Transport({ connections: 2, stallTimeoutMs: 5000, tlsConnectionOptions: null, localAddresses: [] });
      const sink = { onResponseStart() {}, onResponseData(chunk) { process.stdout.write(chunk); } };
      await transport.send({ origin: 'http://127.0.0.1:' + server.address().port, method: 'GET', path: '/', headers: { host: 'x' } }, sink).done;`;
    // The idle timeout is 30 s; a child still running after 8 s was held open by a connection.
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 8000 });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('ok');
    expect(child.status).toBe(0);

    const { server, transport, get } = await setup((_, socket) => answer(socket, Buffer.from('ok')));
    await get('/a');
    await transport.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.openNow).toBe(0);
  });
});

describe('transport: bodies that stream go over the same connections', () => {
  const put = (transport: Transport, origin: string, path: string, body: Readable, headers: Record<string, string> = {}) => {
    const sink = new Sink();
    const exchange = transport.send({ origin, method: 'PUT', path, headers: { host: 'test', ...headers }, body }, sink);
    return { sink, exchange, done: exchange.done.then(() => sink) };
  };

  it('writes a stream of known length whole, with its Content-Length, and reuses the connection after', async () => {
    const { server, transport } = await setup((request, socket) => answer(socket, Buffer.from(`got ${request.body.length}`)));
    const data = randomBytes(5 * 1024 * 1024 + 3);
    // Chunks of every size, one empty: the pieces a file or a caller's stream gives.
    const chunks = [data.subarray(0, 1), data.subarray(1, 1), data.subarray(1, 70_000), data.subarray(70_000)];
    const sink = await put(transport, server.origin, '/a', Readable.from(chunks), { 'content-length': String(data.length) }).done;
    expect(sink.body.toString()).toBe(`got ${data.length}`);
    expect(server.requests[0]!.headers['content-length']).toBe(String(data.length));
    expect(server.requests[0]!.headers['transfer-encoding']).toBeUndefined();
    expect(server.requests[0]!.body === data.toString('latin1')).toBe(true);
    expect((await put(transport, server.origin, '/b', Readable.from([Buffer.from('xy')]), { 'content-length': '2' }).done).body.toString()).toBe('got 2');
    expect(server.opened).toBe(1);
  });

  it('frames a stream without a length as chunked, which a server decodes to the bytes sent', async () => {
    // What goes on the wire, byte for byte: an empty piece must not end the body early.
    let wire = '';
    const received = new Promise<string>((resolve) => {
      const raw = createServer((socket) =>
        socket.on('data', (data) => {
          wire += data.toString('latin1');
          if (wire.endsWith('\r\n0\r\n\r\n')) {
            socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
            resolve(wire);
          }
        }),
      ).listen(0, '127.0.0.1', () => {
        const port = (raw.address() as { port: number }).port;
        const transport = new Transport({ connections: 1, stallTimeoutMs: 5000, tlsConnectionOptions: null, localAddresses: [] });
        cleanups.push(
          () => new Promise<void>((done) => raw.close(() => done())),
          () => transport.close(),
        );
        void put(transport, `http://127.0.0.1:${port}`, '/c', Readable.from([Buffer.from('hello'), Buffer.alloc(0), Buffer.from(' wide world')]));
      });
    });
    const request = await received;
    expect(request).toMatch(/\r\ntransfer-encoding: chunked\r\n/);
    expect(request).not.toMatch(/content-length/i);
    expect(request.slice(request.indexOf('\r\n\r\n') + 4)).toBe('5\r\nhello\r\nb\r\n wide world\r\n0\r\n\r\n');

    // And s3tx's local server, which decodes chunked bodies, stores exactly what was streamed.
    const local = await startLocalS3({ anonymous: true });
    const transport = new Transport({ connections: 2, stallTimeoutMs: 5000, tlsConnectionOptions: null, localAddresses: [] });
    cleanups.push(
      () => local.close(),
      () => transport.close(),
    );
    const send = async (method: string, path: string, body?: Readable, headers: Record<string, string> = {}) => {
      const sink = new Sink();
      await transport.send({ origin: local.endpoint, method, path, headers: { host: new URL(local.endpoint).host, ...headers }, body }, sink).done;
      return sink;
    };
    expect((await send('PUT', '/bucket')).statusCode).toBe(200);
    const data = randomBytes(3 * 1024 * 1024 + 11);
    const pieces = Array.from({ length: 40 }, (_, i) => data.subarray(Math.floor((i * data.length) / 40), Math.floor(((i + 1) * data.length) / 40)));
    const stored = await send('PUT', '/bucket/chunked', Readable.from(pieces), { 'x-amz-decoded-content-length': String(data.length) });
    expect([stored.statusCode, stored.body.toString()]).toEqual([200, '']);
    const back = await send('GET', '/bucket/chunked');
    expect(back.statusCode).toBe(200);
    expect(back.body.equals(data)).toBe(true);
  });

  it('fails a stream shorter or longer than its Content-Length with a FileIoError, and the next request opens a new connection', async () => {
    const { server, transport } = await setup((request, socket) => answer(socket, Buffer.from(`got ${request.body.length}`)));
    const short = put(transport, server.origin, '/short', Readable.from([Buffer.from('abc')]), { 'content-length': '10' });
    await expect(short.done).rejects.toBeInstanceOf(FileIoError);
    await expect(short.done).rejects.toThrow(/ended after 3 bytes of its Content-Length of 10/);
    expect((await put(transport, server.origin, '/next', Readable.from([Buffer.from('x')]), { 'content-length': '1' }).done).body.toString()).toBe('got 1');
    expect(server.opened).toBe(2);
    // Past its length in its second piece, before the server has the bytes declared: none of the excess leaves.
    const long = put(transport, server.origin, '/long', Readable.from([Buffer.from('abc'), Buffer.from('def')]), { 'content-length': '5' });
    await expect(long.done).rejects.toBeInstanceOf(FileIoError);
    await expect(long.done).rejects.toThrow(/longer than its Content-Length of 5/);
    expect((await put(transport, server.origin, '/after', Readable.from([Buffer.from('yz')]), { 'content-length': '2' }).done).body.toString()).toBe('got 2');
    expect(server.opened).toBe(3);
    expect(server.requests.map((request) => request.path)).toEqual(['/next', '/after']);
  });

  it("fails with the stream's own error when it errors mid-way, and destroys a stream whose exchange is aborted", async () => {
    const { server, transport } = await setup((request, socket) => answer(socket, Buffer.from(`got ${request.body.length}`)));
    const failure = new FileIoError('the disk went away', null);
    const broken = Readable.from(
      (async function* () {
        yield Buffer.from('abc');
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw failure;
      })(),
    );
    await expect(put(transport, server.origin, '/broken', broken, { 'content-length': '10' }).done).rejects.toBe(failure);
    expect(broken.destroyed).toBe(true);

    let more!: () => void;
    const endless = new Readable({ read: () => more?.() });
    endless.push(Buffer.from('abc'));
    const aborted = put(transport, server.origin, '/aborted', endless, { 'content-length': '1000' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    aborted.exchange.abort(new Error('cancelled'));
    await expect(aborted.done).rejects.toThrow('cancelled');
    expect(endless.destroyed).toBe(true);
    expect((await put(transport, server.origin, '/fine', Readable.from([Buffer.from('ok')]), { 'content-length': '2' }).done).body.toString()).toBe('got 2');
    expect(server.requests.map((request) => request.path)).toEqual(['/fine']);
  });

  it('sends a stream the caller paused, and fails at once, typed, on one destroyed without an error or failing with a plain error', async () => {
    const { server, transport } = await setup((request, socket) => answer(socket, Buffer.from(`got ${request.body.length}`)));
    const paused = new PassThrough();
    paused.end(Buffer.from('paused body'));
    paused.pause();
    const sent = await put(transport, server.origin, '/paused', paused, { 'content-length': '11' }).done;
    expect(sent.body.toString()).toBe('got 11');

    const cut = new Readable({ read() {} });
    cut.push(Buffer.from('abc'));
    setTimeout(() => cut.destroy(), 20);
    const started = Date.now();
    const closed = await put(transport, server.origin, '/cut', cut, { 'content-length': '10' }).done.catch((error: unknown) => error);
    expect(closed).toBeInstanceOf(FileIoError);
    expect(Date.now() - started).toBeLessThan(2000);

    const plain = Readable.from(
      (async function* () {
        yield Buffer.from('abc');
        throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
      })(),
    );
    const failed = await put(transport, server.origin, '/plain', plain, { 'content-length': '10' }).done.catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(FileIoError);
    expect((failed as Error).message).toContain('ENOENT');
  });

  it('closes the connection after an answer that comes before the stream is all written', async () => {
    // A server refusing an upload at its head (403) without reading its body, as S3 does.
    const { server, transport } = await setup(
      (request, socket) => {
        if (request.path === '/early') socket.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\ndenied');
        else answer(socket, Buffer.from(`got ${request.body.length}`));
      },
      { atHead: (path) => path === '/early' },
    );
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const stream = Readable.from(
      (async function* () {
        await held;
        yield Buffer.alloc(100, 0x61);
      })(),
    );
    const early = await put(transport, server.origin, '/early', stream, { 'content-length': '100' }).done;
    expect([early.statusCode, early.body.toString()]).toEqual([403, 'denied']);
    expect(stream.destroyed).toBe(true);
    release();
    expect((await put(transport, server.origin, '/next', Readable.from([Buffer.from('x')]), { 'content-length': '1' }).done).body.toString()).toBe('got 1');
    expect(server.opened).toBe(2);
  });
});
