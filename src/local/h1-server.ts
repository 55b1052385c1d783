/**
 * The local server's HTTP/1.1, on the sockets of a net or tls server. Request bodies reach the
 * operations as the pieces the socket read, untouched. node:http, which this replaces, copied
 * every body chunk into fresh memory and passed it through a second stream: the copy alone was a
 * fifth of the server's CPU in a 2 GiB upload, and the server was the slowest part of every upload bench.
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { ChunkedDecoder, HEAD_END, HTTP_TOKEN, ProtocolError, finalCoding, keepsAlive, parseHeaderLines } from '../client/h1-parser.js';

/** Longest request head accepted, request line and headers together. */
const MAX_HEAD = 64 * 1024;
const REQUEST_LINE = /^(\S+) (\S+) HTTP\/1\.([01])$/;
/** The bytes an HTTP token (a method name) may start with. */
const TOKEN_BYTE = Array.from({ length: 256 }, (_, byte) => HTTP_TOKEN.test(String.fromCharCode(byte)));
/** Headers a request may carry once; a repeat is dropped, as node:http does. */
const SINGLE_HEADERS = new Set(['authorization', 'content-length', 'content-type', 'host', 'user-agent']);

/** Where a request body goes: each piece as read, then its end, or why it will not end. */
export interface BodyHandlers {
  piece(data: Buffer): void;
  end(): void;
  abort(error: Error): void;
}

// What the connection tells its exchange, kept off the exchange's public face.
const kPiece = Symbol('piece');
const kBodyEnd = Symbol('bodyEnd');
const kClose = Symbol('close');

/** A date header's value, computed once a second. */
let dateText = '';
let dateSecond = -1;
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/**
 * One request and its response. Emits 'finish' once the response has been handed to the socket,
 * 'drain' when a write that returned false can be followed by more, and 'close' at the end of its
 * life, whether it finished or its connection dropped.
 */
export class Exchange extends EventEmitter {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Which connection carried it, numbered from 1. */
  readonly connection: number;
  readonly socket: Socket;
  statusCode = 200;
  #responseHeaders: Record<string, string | number> = {};
  #headersSent = false;
  #chunkedResponse = false;
  #finished = false;
  #closed = false;
  #keepAlive: boolean;
  /** Body pieces read before anyone asked for them; null once handlers are set. */
  #queued: Buffer[] | null = [];
  #bodyEnded = false;
  #handlers: BodyHandlers | null = null;
  #owner: H1ServerConnection;

  constructor(owner: H1ServerConnection, method: string, url: string, headers: IncomingHttpHeaders, keepAlive: boolean) {
    super();
    this.#owner = owner;
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.#keepAlive = keepAlive;
    this.connection = owner.number;
    this.socket = owner.socket;
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  /** Whether the connection stays open for another request; false once a response said it will close. */
  get keepAlive(): boolean {
    return this.#keepAlive;
  }

  /** Takes the request body; pieces read before this call come first. Once per request. */
  readBody(handlers: BodyHandlers): void {
    if (this.#handlers) throw new Error('the request body is already being read');
    this.#handlers = handlers;
    const queued = this.#queued ?? [];
    this.#queued = null;
    for (const piece of queued) handlers.piece(piece);
    if (this.#bodyEnded) handlers.end();
    else if (this.#closed) handlers.abort(closedEarly());
    else this.#owner.resume();
  }

  /** Stops reading the socket until {@link resumeBody}: the body's reader is behind. */
  pauseBody(): void {
    this.socket.pause();
  }

  resumeBody(): void {
    this.#owner.resume();
  }

  /** Reads the rest of the body and drops it; resolves once it has ended or cannot. */
  discardBody(): Promise<void> {
    return new Promise((resolve) => this.readBody({ piece: () => {}, end: resolve, abort: () => resolve() }));
  }

  setHeader(name: string, value: string | number): void {
    this.#responseHeaders[name.toLowerCase()] = value;
  }

  writeHead(status: number, headers: Record<string, string | number> = {}): void {
    if (this.#headersSent) throw new Error('the response head was already sent');
    this.statusCode = status;
    const all: Record<string, string | number> = { ...this.#responseHeaders };
    for (const [name, value] of Object.entries(headers)) all[name.toLowerCase()] = value;
    if (String(all['connection'] ?? '').toLowerCase() === 'close') this.#keepAlive = false;
    all['date'] ??= httpDate();
    if (this.#keepAlive) {
      all['connection'] = 'keep-alive';
      all['keep-alive'] = `timeout=${Math.floor(this.#owner.idleMs / 1000)}`;
    } else {
      all['connection'] = 'close';
    }
    if (this.#bodyAllowed() && all['content-length'] === undefined) {
      this.#chunkedResponse = true;
      all['transfer-encoding'] = 'chunked';
    }
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (const [name, value] of Object.entries(all)) head += `${name}: ${value}\r\n`;
    this.#headersSent = true;
    this.socket.write(`${head}\r\n`, 'latin1');
  }

  /** Writes body bytes; false when the socket's buffer is full ('drain' follows). */
  write(data: Buffer | string, callback?: () => void): boolean {
    if (!this.#headersSent) this.writeHead(this.statusCode);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (!this.#bodyAllowed() || bytes.length === 0) {
      if (callback) process.nextTick(callback);
      return true;
    }
    if (!this.#chunkedResponse) return this.socket.write(bytes, callback);
    this.socket.cork();
    this.socket.write(`${bytes.length.toString(16)}\r\n`, 'latin1');
    this.socket.write(bytes);
    const more = this.socket.write('\r\n', 'latin1', callback);
    this.socket.uncork();
    return more;
  }

  /** Ends the response, with `data` as its last bytes; 'finish' follows once the socket has them. */
  end(data?: Buffer | string): void {
    if (this.#finished) return;
    if (!this.#headersSent) {
      const length = data === undefined ? 0 : Buffer.byteLength(data);
      this.writeHead(this.statusCode, this.#bodyAllowed() ? { 'content-length': length } : {});
    }
    if (data !== undefined) this.write(data);
    this.#finished = true;
    const last = this.#chunkedResponse ? '0\r\n\r\n' : '';
    this.socket.write(last, 'latin1', (error) => {
      if (error) return;
      this.emit('finish');
      this.#owner.responseDone(this, this.#bodyEnded);
    });
  }

  /** Drops the connection, the response unfinished. */
  destroy(): void {
    this.socket.destroy();
  }

  #bodyAllowed(): boolean {
    return this.method !== 'HEAD' && this.statusCode >= 200 && this.statusCode !== 204 && this.statusCode !== 304;
  }

  /** A body piece off the wire, from the connection. */
  [kPiece](data: Buffer): void {
    if (this.#handlers) this.#handlers.piece(data);
    else {
      this.#queued!.push(data);
      // Nobody is reading yet: hold the socket rather than the bytes.
      this.socket.pause();
    }
  }

  [kBodyEnd](): void {
    this.#bodyEnded = true;
    this.#handlers?.end();
  }

  [kClose](error: Error | null): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#bodyEnded) this.#handlers?.abort(error ?? closedEarly());
    this.emit('close');
  }
}

/** The reading state of a connection: a head being gathered, a body being read, or a response awaited. */
type ReadState = 'head' | 'body' | 'waiting';

/**
 * One client connection: requests parsed in turn, each body delivered to its exchange, the
 * next request read only once the response before it has finished.
 */
export class H1ServerConnection {
  readonly socket: Socket;
  readonly number: number;
  readonly idleMs: number;
  #onRequest: (exchange: Exchange) => void;
  #state: ReadState = 'head';
  #head: Buffer | null = null;
  /** Bytes read past the current request's body, kept for the next one. */
  #pending: Buffer | null = null;
  #exchange: Exchange | null = null;
  #remaining = 0;
  #chunked: ChunkedDecoder | null = null;

  constructor(socket: Socket, number: number, idleMs: number, onRequest: (exchange: Exchange) => void) {
    this.socket = socket;
    this.number = number;
    this.idleMs = idleMs;
    this.#onRequest = onRequest;
    socket.setNoDelay(true);
    socket.setTimeout(idleMs, () => this.#state === 'head' && !this.#head && socket.destroy());
    socket.on('data', (data: Buffer) => this.#read(data));
    socket.on('drain', () => this.#exchange?.emit('drain'));
    socket.on('error', () => {});
    socket.once('close', () => this.#exchange?.[kClose](null));
  }

  /** Reads on, unless a finished body's successor is waiting for its response. */
  resume(): void {
    if (this.#state !== 'waiting') this.socket.resume();
  }

  /** The exchange's response is on the socket: the connection closes or reads the next request. */
  responseDone(exchange: Exchange, bodyEnded: boolean): void {
    if (exchange !== this.#exchange) return;
    this.#exchange = null;
    exchange[kClose](null);
    // A body not read to its end leaves the connection at an unknown point of the stream.
    if (!exchange.keepAlive || !bodyEnded) {
      this.socket.end();
      return;
    }
    this.#state = 'head';
    const pending = this.#pending;
    this.#pending = null;
    this.socket.resume();
    if (pending) this.#read(pending);
  }

  #read(data: Buffer): void {
    try {
      this.#take(data);
    } catch (error) {
      this.#refuse(error as Error);
    }
  }

  #take(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      if (this.#state === 'waiting') {
        this.#pending = this.#pending ? Buffer.concat([this.#pending, data.subarray(at)]) : data.subarray(at);
        this.socket.pause();
        return;
      }
      if (this.#state === 'body') {
        at += this.#bodyBytes(data.subarray(at));
        continue;
      }
      // Blank lines before a request line are tolerated (RFC 9112, section 2.2).
      if (!this.#head && (data[at] === 13 || data[at] === 10)) {
        at++;
        continue;
      }
      const head = this.#head ? Buffer.concat([this.#head, data.subarray(at)]) : data.subarray(at);
      // Not the start of a method name: no HTTP at all (a TLS handshake, say), refused before waiting for a head.
      if (!TOKEN_BYTE[head[0]!]) throw new HeadError(400, 'not an HTTP/1.x request');
      const end = head.indexOf(HEAD_END);
      if (end < 0) {
        if (head.length > MAX_HEAD) throw new HeadError(431, 'the request head is too large');
        this.#head = Buffer.from(head);
        return;
      }
      this.#head = null;
      const used = end + HEAD_END.length - (head.length - (data.length - at));
      at += used;
      this.#begin(head.toString('latin1', 0, end));
    }
  }

  /** Starts the exchange for a request head; its body, if any, follows. */
  #begin(text: string): void {
    const lines = text.split('\r\n');
    const line = REQUEST_LINE.exec(lines[0]!);
    if (!line || !HTTP_TOKEN.test(line[1]!)) throw new HeadError(400, 'not an HTTP/1.x request line');
    const raw = parseHeaderLines(lines, 1);
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(raw)) {
      headers[name] = Array.isArray(value) ? (SINGLE_HEADERS.has(name) ? value[0] : value.join(', ')) : value;
    }
    const keepAlive = keepsAlive(line[3]!, headers.connection);
    const codings = headers['transfer-encoding'];
    if (codings !== undefined) {
      if (finalCoding(codings) !== 'chunked') throw new HeadError(501, 'a transfer coding other than chunked');
      this.#chunked = new ChunkedDecoder();
      this.#remaining = 0;
    } else {
      const length = headers['content-length'] ?? '0';
      if (!/^\d{1,15}$/.test(length)) throw new HeadError(400, 'an invalid Content-Length');
      this.#chunked = null;
      this.#remaining = Number(length);
    }
    const exchange = new Exchange(this, line[1]!, line[2]!, headers, keepAlive);
    this.#exchange = exchange;
    this.#state = 'body';
    if (/^100-continue$/i.test(String(headers.expect ?? ''))) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    this.#onRequest(exchange);
    if (!this.#chunked && this.#remaining === 0) this.#bodyEnded();
  }

  /** Passes body bytes from the start of `data` to the exchange; returns how many were the body's. */
  #bodyBytes(data: Buffer): number {
    const exchange = this.#exchange!;
    if (this.#chunked) {
      const used = this.#chunked.feed(data, (piece) => exchange[kPiece](piece));
      if (this.#chunked.done) this.#bodyEnded();
      return used;
    }
    const take = Math.min(this.#remaining, data.length);
    this.#remaining -= take;
    exchange[kPiece](take === data.length ? data : data.subarray(0, take));
    if (this.#remaining === 0) this.#bodyEnded();
    return take;
  }

  #bodyEnded(): void {
    this.#state = 'waiting';
    this.#exchange![kBodyEnd]();
  }

  /** Answers a request that cannot be read with a bare status, and closes the connection. */
  #refuse(error: Error): void {
    const status = error instanceof HeadError ? error.status : error instanceof ProtocolError ? 400 : 500;
    if (this.#exchange) {
      this.#exchange[kClose](error);
      this.socket.destroy();
      return;
    }
    this.socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, 'latin1');
    this.socket.pause();
  }
}

function closedEarly(): Error {
  return new Error('the client closed the connection before the body ended');
}

/** A request head that cannot be served, with the status that says why. */
class HeadError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}
