/**
 * One HTTP/1.1 connection of s3tx's own, carrying one request at a time, whatever
 * its body: none, one in memory, one in pieces, or a stream (a file, a caller's
 * Readable) written as it comes with Content-Length or chunked framing. Every
 * request takes this one path, so what a network needs of a connection (TLS,
 * bound addresses, timeouts) is written once.
 * It exists for speed: the socket reads (through Node's `onread`) straight into
 * memory the response's sink names, so a ranged GET's bytes go from the kernel
 * into the part's buffer with no copy in JavaScript, no per-read allocation and
 * no stream machinery in between. Bytes that arrive with the head, error bodies
 * and chunked bodies go through a small scratch buffer instead.
 */
import type net from 'node:net';
import { Readable, finished } from 'node:stream';
import { FileIoError, S3txError } from '../core/errors.js';
import { dial, type Dialed, type DialOptions } from './dial.js';
import { ChunkedDecoder, ProtocolError, UNSAFE_HEADER_VALUE, bodyFraming, parseResponseHead, type BodyFraming } from './h1-parser.js';
import { isProxyAnswer, proxyRefusal, type ProxyEndpoint } from './proxy.js';

/** Stops one exchange with a reason. */
export interface ExchangeController {
  abort(reason: Error): void;
}

/** The receiving end of an exchange. */
export interface ExchangeHandler {
  onRequestStart(controller: ExchangeController): void;
  onResponseStart(controller: ExchangeController, statusCode: number, headers: Record<string, string | string[] | undefined>): void;
  /** Memory the body may be read into directly; `onResponseData` then receives views of it. */
  destination(): Buffer | null;
  onResponseData(controller: ExchangeController, chunk: Buffer): void;
  onResponseEnd(): void;
  onResponseError(controller: ExchangeController | null, error: Error): void;
}

/**
 * A body of known length in memory, sent in pieces of which the later ones may not be ready yet
 * (an aws-chunked trailer waits for its checksum): each is written once it is there, and the next
 * asked for once the socket has taken it.
 */
export interface IncrementalBody {
  readonly length: number;
  /** The body from its first byte, piece by piece; each call starts again. */
  pieces(): AsyncIterable<Buffer>;
}

export interface H1Request {
  method: string;
  /** Path and query string, already encoded. */
  path: string;
  headers: Record<string, string>;
  /**
   * A body in memory, written right after the head, or a stream written as it comes: with the
   * `content-length` header it must give exactly that many bytes; without, it goes chunked.
   */
  body?: RequestBody | null;
}

export type RequestBody = Buffer | IncrementalBody | Readable;

/** Whether `body` is an IncrementalBody rather than a Buffer or a stream. */
export function isIncremental(body: unknown): body is IncrementalBody {
  return typeof (body as IncrementalBody | null)?.pieces === 'function';
}

export interface ConnectOptions extends DialOptions {
  /** Fail an exchange that waits this long for the next bytes of its response. */
  stallTimeoutMs: number;
}

/** What the pool learns from a connection. */
export interface ConnectionEvents {
  /** The exchange is over and the connection can take another. */
  idle(connection: H1Connection): void;
  /** The socket is gone; the connection must not be used again. */
  closed(connection: H1Connection): void;
  /**
   * The server closed this reused connection without a byte of answer to `request`, which can
   * safely go again: a server that shuts an idle connection as a request arrives never read it.
   */
  replay(request: H1Request, handler: ExchangeHandler): void;
}

/** Head bytes a response may have; also the size of each connection's scratch buffer. */
const SCRATCH_SIZE = 64 * 1024;
/** Interim (1xx) answers taken before the real one: S3 sends at most one 100 Continue. */
const MAX_INTERIM = 4;
/** How long an unused connection is kept when the server gives no Keep-Alive hint. */
const DEFAULT_IDLE_MS = 30_000;
const METHODS_WITH_PAYLOAD = new Set(['POST', 'PUT', 'PATCH']);
/** Requests that change nothing on the server, so sending one twice is harmless. */
const REPLAYABLE = new Set(['GET', 'HEAD']);
/** Socket errors of a server that closed its end. */
const PEER_CLOSED = new Set(['ECONNRESET', 'EPIPE']);

type Phase = 'connecting' | 'idle' | 'head' | 'body' | 'closed';

export class H1Connection {
  /** The socket, once dialled. */
  #socket: net.Socket | null = null;
  /** Abandons the dial when the connection closes before it is made. */
  readonly #dialing = new AbortController();
  /**
   * For an http endpoint behind a proxy: the origin each request line starts with (absolute-form),
   * and the proxy, whose own refusals are told from the server's answers.
   */
  readonly #forward: { origin: string; proxy: ProxyEndpoint } | null;
  readonly #events: ConnectionEvents;
  readonly #stallTimeoutMs: number;
  readonly #scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
  #phase: Phase = 'connecting';
  #handler: ExchangeHandler | null = null;
  #request: H1Request | null = null;
  /** Exchanges completed on this connection. */
  #served = 0;
  /** Aborts the current exchange only: a late abort must not reach the next one. */
  #controller: ExchangeController = { abort: () => {} };
  /** Head bytes gathered in the scratch buffer so far. */
  #headBytes = 0;
  /** Interim answers of the current exchange so far. */
  #interim = 0;
  /**
   * Fails the exchange when its head, begun, is not whole within the stall timeout: the socket's
   * own timer is reset by every byte, so a head dripped a byte at a time would never end.
   */
  #headTimer: NodeJS.Timeout | null = null;
  #framing: BodyFraming = { kind: 'none' };
  /** Body bytes still to come, for a Content-Length body. */
  #remaining = 0;
  #received = 0;
  #destination: Buffer | null = null;
  #chunked: ChunkedDecoder | null = null;
  #reusable = true;
  /** An incremental body has pieces not yet handed to the socket. */
  #bodyPending = false;
  /** Wakes an incremental body's writer, or resumes a paused stream, when the socket drains or closes. */
  #writable: (() => void) | null = null;
  /** The stream the current request's body is read from, until it has given all it should. */
  #stream: Readable | null = null;
  /** Stops reading `#stream`: its listeners go, and the stream is destroyed unless it ended. */
  #release: (() => void) | null = null;
  #idleMs = DEFAULT_IDLE_MS;
  /** A request waiting for the connection (and its TLS handshake) to be made. */
  #pending: { head: string; body: RequestBody | null } | null = null;

  constructor(options: ConnectOptions, events: ConnectionEvents) {
    this.#events = events;
    this.#stallTimeoutMs = options.stallTimeoutMs;
    const { proxy, protocol, hostname, port } = options;
    this.#forward = proxy && protocol === 'http:' ? { origin: `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`, proxy } : null;
    const onread = { buffer: () => this.#nextBuffer(), callback: (bytes: number, buffer: Buffer) => this.#onRead(bytes, buffer) };
    dial(options, onread, this.#dialing.signal).then(
      (dialed) => this.#attach(dialed),
      (error: Error) => this.#fail(error),
    );
  }

  /** The socket is made: requests may go. */
  #attach({ socket, onread }: Dialed): void {
    if (this.#phase === 'closed') return void socket.destroy();
    // Gone between the dial and now (an error in the same tick as the connect): the exchange fails as on any close.
    if (socket.destroyed) return this.#fail(new Error('the connection closed before the request was sent'), true);
    this.#socket = socket;
    socket.setTimeout(this.#stallTimeoutMs);
    if (!onread) socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('timeout', () => this.#onTimeout());
    socket.on('error', (error: NodeJS.ErrnoException) => this.#fail(error, PEER_CLOSED.has(error.code ?? '')));
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => this.#wakeWriter());
    socket.on('close', () => this.#fail(new Error('the connection closed before the response ended'), true));
    if (this.#pending !== null) this.#write(this.#pending.head, this.#pending.body);
    this.#pending = null;
  }

  get busy(): boolean {
    return this.#handler !== null;
  }

  /** Sends `request` and routes its response to `handler`; the connection must not be busy. */
  start(request: H1Request, handler: ExchangeHandler): void {
    this.#handler = handler;
    this.#request = request;
    this.#controller = { abort: (reason) => this.#handler === handler && this.#fail(reason) };
    this.#phase = 'head';
    this.#headBytes = 0;
    this.#interim = 0;
    this.#reusable = true;
    this.#bodyPending = false;
    this.#socket?.ref();
    this.#socket?.setTimeout(this.#stallTimeoutMs);
    handler.onRequestStart(this.#controller);
    if (this.#handler !== handler) return;
    const forward = this.#forward;
    let head = `${request.method} ${forward ? forward.origin : ''}${request.path} HTTP/1.1\r\n`;
    const authorization = forward?.proxy.authorization();
    if (authorization) head += `proxy-authorization: ${authorization}\r\n`;
    for (const [name, value] of Object.entries(request.headers)) {
      if (UNSAFE_HEADER_VALUE.test(value)) return this.#fail(new ProtocolError(`header ${name} has a line break or NUL in its value`));
      head += `${name}: ${value}\r\n`;
    }
    const body = request.body ?? null;
    if (body instanceof Readable) {
      this.#stream = body;
      if (!('content-length' in request.headers)) head += 'transfer-encoding: chunked\r\n';
    } else if (!('content-length' in request.headers) && (body || METHODS_WITH_PAYLOAD.has(request.method))) {
      head += `content-length: ${body?.length ?? 0}\r\n`;
    }
    head += '\r\n';
    if (this.#socket) this.#write(head, body);
    else this.#pending = { head, body };
  }

  /** Hands a request to the socket: head and body (or its first piece) leave in the same write where they fit. */
  #write(head: string, body: RequestBody | null): void {
    const socket = this.#socket!;
    if (!body) return void socket.write(head, 'latin1');
    if (body instanceof Readable) {
      socket.write(head, 'latin1');
      const declared = this.#request!.headers['content-length'];
      return this.#flow(body, declared === undefined ? null : Number(declared), this.#handler!);
    }
    socket.cork();
    socket.write(head, 'latin1');
    if (isIncremental(body)) return void this.#pump(body, this.#handler!);
    socket.write(body);
    socket.uncork();
  }

  /**
   * Writes a stream's chunks to the socket as they come, each as given (no copy), pausing the
   * stream while the socket's buffer is full. With a declared `length` the stream must give
   * exactly that: a byte past it fails the exchange before it is written, and an end short of it
   * fails it too; either way the connection closes, as the server is mid-body. Without one, each
   * chunk is framed as HTTP/1.1 chunked coding, and the last chunk follows the stream's end.
   * Event-driven rather than `for await`: a 1 GiB file is 16,384 chunks of 64 KiB, each
   * written in the 'data' callback with no promise in between.
   */
  #flow(stream: Readable, length: number | null, handler: ExchangeHandler): void {
    // A declared length of 0 is all sent with the head.
    this.#bodyPending = length !== 0;
    const socket = this.#socket!;
    let sent = 0;
    const live = () => this.#handler === handler && this.#stream === stream;
    const onData = (chunk: Buffer | Uint8Array | string) => {
      if (!live()) return release();
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (bytes.length === 0) return;
      sent += bytes.length;
      let taken: boolean;
      if (length === null) {
        socket.cork();
        socket.write(`${bytes.length.toString(16)}\r\n`, 'latin1');
        socket.write(bytes);
        taken = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else {
        if (sent > length) return this.#fail(new FileIoError(`the body stream is longer than its Content-Length of ${length}`, null));
        taken = socket.write(bytes);
        // Every byte declared is on its way: an answer from now on is to a request sent whole.
        if (sent === length) this.#bodyPending = false;
      }
      if (!taken) {
        stream.pause();
        this.#writable = () => stream.resume();
      }
    };
    // The stream's end, its error, or its close before either (destroyed without an error): 'finished' reports all three.
    const onFinished = (error?: Error | null) => {
      if (!live()) return release();
      if (error) {
        if (error instanceof S3txError) return this.#fail(error);
        const closed = (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE';
        return this.#fail(new FileIoError(closed ? `the body stream closed after ${sent} bytes` : `reading the body failed: ${error.message}`, error));
      }
      if (length !== null && sent < length)
        return this.#fail(new FileIoError(`the body stream ended after ${sent} bytes of its Content-Length of ${length}`, null));
      if (length === null) socket.write('0\r\n\r\n', 'latin1');
      this.#bodyPending = false;
      release();
    };
    const stopWatching = finished(stream, { writable: false }, onFinished);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (this.#stream === stream) {
        this.#stream = null;
        this.#release = null;
      }
      stream.off('data', onData);
      stopWatching();
      // An error after the exchange is over is nobody's, and must not be an unhandled one.
      stream.on('error', () => {});
      if (!stream.readableEnded) stream.destroy();
    };
    this.#release = release;
    stream.on('data', onData);
    // A stream the caller paused flows only when asked to.
    stream.resume();
  }

  /** Writes an incremental body's pieces as they come, until it ends or the exchange does. */
  async #pump(body: IncrementalBody, handler: ExchangeHandler): Promise<void> {
    this.#bodyPending = true;
    const socket = this.#socket!;
    let corked = true;
    try {
      for await (const piece of body.pieces()) {
        if (this.#handler !== handler) return;
        const taken = socket.write(piece);
        if (corked) socket.uncork();
        corked = false;
        if (!taken) await new Promise<void>((resolve) => (this.#writable = resolve));
      }
      if (this.#handler === handler) this.#bodyPending = false;
    } catch (error) {
      if (this.#handler === handler) this.#fail(error as Error);
    } finally {
      if (corked) socket.uncork();
    }
  }

  /** Closes an idle connection. */
  close(): void {
    if (!this.busy) this.#fail(new Error('closed'));
  }

  /**
   * Where the next read goes: the sink's destination while it has room, the scratch buffer for a
   * head, else fresh memory, as a sink may keep the chunks it is given.
   */
  #nextBuffer(): Buffer {
    return this.#readTarget() ?? Buffer.allocUnsafeSlow(SCRATCH_SIZE);
  }

  /** Memory the next bytes must land in (the head's scratch, the sink's destination), or null where any will do. */
  #readTarget(): Buffer | null {
    if (this.#phase === 'head') return this.#scratch.subarray(this.#headBytes);
    if (this.#phase !== 'body') return this.#scratch;
    const destination = this.#destination;
    if (destination && this.#remaining > 0 && this.#received < destination.length) {
      return destination.subarray(this.#received, this.#received + Math.min(destination.length - this.#received, this.#remaining));
    }
    return null;
  }

  /**
   * Bytes from a socket that reads through 'data' (TLS inside a proxy's tunnel): each chunk goes
   * where `onread` would have read it, copied into the head's scratch or the destination, and as
   * it is otherwise.
   */
  #onData(chunk: Buffer): void {
    for (let offset = 0; offset < chunk.length && this.#phase !== 'closed';) {
      const target = this.#readTarget();
      if (target === null) {
        this.#onRead(chunk.length - offset, offset === 0 ? chunk : chunk.subarray(offset));
        return;
      }
      const bytes = chunk.copy(target, 0, offset);
      offset += bytes;
      this.#onRead(bytes, target);
      if (bytes === 0) return;
    }
  }

  /** Always true: the socket keeps reading, as only the response asked for may arrive. */
  #onRead(bytes: number, buffer: Buffer): boolean {
    try {
      if (this.#phase === 'head') {
        this.#headBytes += bytes;
        this.#readHead();
        // A head that came whole in one read, as nearly all do, needs no deadline; one begun and not ended does.
        if (this.#phase === 'head' && (this.#headBytes > 0 || this.#interim > 0) && this.#headTimer === null) this.#startHeadTimer();
      } else if (this.#phase === 'body') {
        this.#readBody(buffer.subarray(0, bytes));
      } else {
        // Bytes no request asked for: the connection is out of step with the server.
        this.#fail(new ProtocolError('the server sent bytes while no request was waiting'));
      }
    } catch (error) {
      this.#fail(error as Error);
    }
    return true;
  }

  #readHead(): void {
    for (;;) {
      const head = parseResponseHead(this.#scratch.subarray(0, this.#headBytes));
      if (!head) {
        if (this.#headBytes === SCRATCH_SIZE) throw new ProtocolError(`the response head is larger than ${SCRATCH_SIZE} bytes`);
        return;
      }
      const after = this.#scratch.subarray(head.length, this.#headBytes);
      if (head.statusCode >= 100 && head.statusCode < 200) {
        if (head.statusCode === 101) throw new ProtocolError('the server switched protocols, which s3tx never asks for');
        if (++this.#interim > MAX_INTERIM) throw new ProtocolError(`the server sent more than ${MAX_INTERIM} interim (1xx) answers`);
        // An interim response (100 Continue and the like): the real one follows, within the same head deadline.
        this.#headBytes = after.copy(this.#scratch);
        continue;
      }
      this.#clearHeadTimer();
      if (this.#forward && isProxyAnswer(head.statusCode, head.headers)) throw proxyRefusal(this.#forward.proxy, head.statusCode);
      this.#framing = bodyFraming(this.#request!.method, head);
      // An answer to a request whose body the server may not have read (an error, or bytes still queued
      // or not yet written here) leaves the connection at an unknown point of the stream.
      const bodyUnread = !!this.#request!.body && (head.statusCode >= 300 || this.#socket!.writableLength > 0 || this.#bodyPending);
      this.#reusable = head.keepAlive && this.#framing.kind !== 'close' && !bodyUnread;
      this.#idleMs = idleTimeout(head.headers['keep-alive']);
      this.#remaining = this.#framing.kind === 'length' ? this.#framing.length : 0;
      this.#received = 0;
      this.#chunked = this.#framing.kind === 'chunked' ? new ChunkedDecoder() : null;
      this.#phase = 'body';
      const handler = this.#handler!;
      handler.onResponseStart(this.#controller, head.statusCode, head.headers);
      if (this.#handler !== handler) return;
      this.#destination = this.#framing.kind === 'length' ? handler.destination() : null;
      if (this.#framing.kind === 'none' || (this.#framing.kind === 'length' && this.#remaining === 0)) {
        if (after.length > 0) this.#reusable = false;
        return this.#complete();
      }
      // Body bytes that came with the head: copied out of the scratch buffer unless they go to the destination.
      if (after.length > 0) this.#readBody(this.#destination ? after : Buffer.from(after));
      return;
    }
  }

  #readBody(data: Buffer): void {
    const framing = this.#framing;
    if (framing.kind === 'chunked') {
      const used = this.#chunked!.feed(data, (chunk) => this.#emit(chunk));
      if (!this.#chunked!.done) return;
      if (used < data.length) this.#reusable = false;
      return this.#complete();
    }
    if (framing.kind === 'close') return this.#emit(data);
    const take = Math.min(data.length, this.#remaining);
    this.#remaining -= take;
    if (take > 0) this.#emit(take === data.length ? data : data.subarray(0, take));
    if (this.#handler === null) return;
    if (take < data.length) this.#reusable = false;
    if (this.#remaining === 0) this.#complete();
  }

  #emit(chunk: Buffer): void {
    this.#received += chunk.length;
    this.#handler?.onResponseData(this.#controller, chunk);
  }

  #complete(): void {
    const handler = this.#handler!;
    // A stream answered before it ended (its bytes all sent, or the connection closing below) is read no further.
    this.#stopStream();
    this.#handler = null;
    this.#destination = null;
    this.#phase = 'idle';
    this.#served++;
    handler.onResponseEnd();
    if (!this.#reusable) return this.#fail(new Error('closed'));
    this.#socket!.setTimeout(this.#idleMs);
    this.#socket!.unref();
    this.#events.idle(this);
  }

  #startHeadTimer(): void {
    const ms = this.#stallTimeoutMs;
    this.#headTimer = setTimeout(() => this.#fail(new Error(`the response head did not arrive whole within ${ms} ms`)), ms).unref();
  }

  #clearHeadTimer(): void {
    if (this.#headTimer === null) return;
    clearTimeout(this.#headTimer);
    this.#headTimer = null;
  }

  /** Lets go of the current request's stream, destroying it unless it ended; one never started is destroyed too. */
  #stopStream(): void {
    const stream = this.#stream;
    if (!stream) return;
    this.#writable = null;
    if (this.#release) return this.#release();
    this.#stream = null;
    stream.destroy();
  }

  #wakeWriter(): void {
    const wake = this.#writable;
    this.#writable = null;
    wake?.();
  }

  #onTimeout(): void {
    if (this.busy) this.#fail(new Error(`nothing was sent or received for ${this.#stallTimeoutMs} ms`));
    else this.#fail(new Error('idle'));
  }

  #onEnd(): void {
    // A body delimited by the end of the connection is complete now.
    if (this.#phase === 'body' && this.#framing.kind === 'close') this.#complete();
    else this.#fail(new Error('the server closed the connection before the response ended'), true);
  }

  /**
   * The one way out: the socket closes and the exchange in progress, if any, fails with `error`,
   * unless the server closed (`peerClosed`) a reused connection before answering a request that
   * may go again. That is the race every keep-alive client meets, as servers close idle
   * connections on their own schedule; the retry policy would recover too, but after a backoff
   * and at the cost of a retry.
   */
  #fail(error: Error, peerClosed = false): void {
    const handler = this.#handler;
    const request = this.#request;
    const replay = peerClosed && this.#phase === 'head' && this.#headBytes === 0 && this.#served > 0 && request !== null && REPLAYABLE.has(request.method);
    this.#handler = null;
    this.#request = null;
    this.#destination = null;
    this.#clearHeadTimer();
    this.#stopStream();
    this.#wakeWriter();
    if (this.#phase === 'closed') return void handler?.onResponseError(null, error);
    this.#phase = 'closed';
    this.#dialing.abort(error);
    this.#socket?.destroy();
    this.#events.closed(this);
    if (handler && request && replay) this.#events.replay(request, handler);
    else handler?.onResponseError(null, error);
  }
}

/** How long to keep an idle connection: a second less than the server's Keep-Alive hint, at most the default. */
export function idleTimeout(keepAlive: string | string[] | undefined): number {
  const hint = /\btimeout=(\d+)/i.exec(String(keepAlive ?? ''));
  if (!hint) return DEFAULT_IDLE_MS;
  return Math.max(1000, Math.min(DEFAULT_IDLE_MS, Number(hint[1]) * 1000 - 1000));
}
