/**
 * The local server's HTTP/1.1, on the sockets of a net or tls server. Request bodies reach the
 * operations as the pieces the socket read, untouched. node:http, which this replaces, copied
 * every body chunk into fresh memory and passed it through a second stream: the copy alone was a
 * fifth of the server's CPU in a 2 GiB upload, and the server was the slowest part of every upload bench.
 *
 * The framing is RFC 9112's, strictly, since a client may be hostile: a request whose end two
 * parsers could place differently (two Content-Lengths, Content-Length with Transfer-Encoding, a
 * coding list that only ends in chunked, a control byte in a header) is refused and its
 * connection closed, rather than resolved one way. A head must end within a deadline, and a body
 * may not stop for longer than an idle timeout, so that connections cannot be held for nothing.
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { ChunkedDecoder, HEAD_END, HTTP_TOKEN, ProtocolError, contentLength, finalCoding, keepsAlive, parseHeaderLines } from '../http/h1-parser.js';

/** Longest request head accepted, request line and headers together, however it arrives. */
const MAX_HEAD = 64 * 1024;
/**
 * How long a connection the server has finished with stays half-closed before it is dropped:
 * time for the client to read the last response before a reset (a close with unread bytes on
 * the socket is one) could discard it, while the bytes it still sends are left unread.
 */
const LINGER_MS = 2000;
const REQUEST_LINE = /^(\S+) (\S+) HTTP\/1\.([01])$/;
/** The bytes an HTTP token (a method name) may start with. */
const TOKEN_BYTE = Array.from({ length: 256 }, (_, byte) => HTTP_TOKEN.test(String.fromCharCode(byte)));
/** Headers a request may carry once; a repeat is dropped, as node:http does. Content-Length is checked apart. */
const SINGLE_HEADERS = new Set(['authorization', 'content-type', 'host', 'user-agent']);

/** Where a request body goes: each piece as read, then its end, or why it will not end. */
export interface BodyHandlers {
  piece(data: Buffer): void;
  end(): void;
  abort(error: Error): void;
}

/** How long a connection may take over its parts; all in milliseconds. */
export interface ConnectionTimeouts {
  /** Between requests on a kept-alive connection, before the next one's first byte. */
  idleMs: number;
  /** From a connection's start, or a later request's first byte, until its head has ended. */
  headerMs: number;
  /** The longest a request body may go without a byte, unless the server is the one not reading. */
  bodyMs: number;
}

/** Why a request body stopped: no byte arrived for the body timeout. */
export class BodyTimeoutError extends Error {
  constructor() {
    super('the request body stopped arriving');
  }
}

// What the connection tells its exchange, kept off the exchange's public face.
const kPiece = Symbol('piece');
const kBodyEnd = Symbol('bodyEnd');
const kBodyFailed = Symbol('bodyFailed');
const kClose = Symbol('close');
const kRefused = Symbol('refused');

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
 * One request and its response. Emits 'finish' once the response has been handed to the socket
 * (its own, or the bare status the connection refused the request with), 'drain' when a write that returned false can be followed by more, and 'close' at the end of its
 * life, whether it finished or its connection dropped.
 */
export class ServerExchange extends EventEmitter {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /**
   * Bytes of the request head, request line and headers. Every string parsed out of it (the url,
   * a header value) is a slice of the head's text in V8, and keeps all of it alive.
   */
  readonly headLength: number;
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
  /** Why the body will not end, once the connection knows. */
  #bodyError: Error | null = null;
  /** Whether the body is read no further: it failed, and the connection closes after the response. */
  #abandoned = false;
  /** Whether the connection answered for it, so that nothing of its own response may follow. */
  #refused = false;
  #handlers: BodyHandlers | null = null;
  #owner: H1ServerConnection;

  constructor(owner: H1ServerConnection, method: string, url: string, headers: IncomingHttpHeaders, headLength: number, keepAlive: boolean) {
    super();
    this.#owner = owner;
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.headLength = headLength;
    this.#keepAlive = keepAlive;
    this.connection = owner.number;
    this.socket = owner.socket;
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  /** Whether a response can no longer be sent: the connection dropped, or answered the request itself. */
  get destroyed(): boolean {
    return this.socket.destroyed || this.#refused;
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
    else if (this.#bodyError) handlers.abort(this.#bodyError);
    else if (this.#closed) handlers.abort(closedEarly());
    else this.resumeBody();
  }

  /** Stops reading the socket until {@link resumeBody}: the body's reader is behind. */
  pauseBody(): void {
    this.socket.pause();
  }

  resumeBody(): void {
    if (!this.#abandoned) this.#owner.resume();
  }

  /**
   * Reads the body no further: it failed a check, and whatever follows is not worth reading. The
   * connection closes once the response has gone, without reading the rest.
   */
  abandonBody(): void {
    this.#abandoned = true;
    this.#keepAlive = false;
    this.socket.pause();
  }

  /** Reads the rest of the body and drops it; resolves once it has ended or cannot. */
  discardBody(): Promise<void> {
    return new Promise((resolve) => this.readBody({ piece: () => {}, end: resolve, abort: () => resolve() }));
  }

  setHeader(name: string, value: string | number): void {
    this.#responseHeaders[name.toLowerCase()] = value;
  }

  writeHead(status: number, headers: Record<string, string | number> = {}): void {
    if (this.#refused) return;
    if (this.#headersSent) throw new Error('the response head was already sent');
    this.statusCode = status;
    const all: Record<string, string | number> = { ...this.#responseHeaders };
    for (const [name, value] of Object.entries(headers)) all[name.toLowerCase()] = value;
    if (String(all['connection'] ?? '').toLowerCase() === 'close') this.#keepAlive = false;
    all['date'] ??= httpDate();
    if (this.#keepAlive) {
      all['connection'] = 'keep-alive';
      all['keep-alive'] = `timeout=${Math.floor(this.#owner.timeouts.idleMs / 1000)}`;
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
    if (this.#refused || !this.#bodyAllowed() || bytes.length === 0) {
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
    if (this.#finished || this.#refused) return;
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
    if (this.#abandoned) return;
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

  /** The body will not end, for `error`; the connection stays open for the response that says so. */
  [kBodyFailed](error: Error): void {
    if (this.#bodyEnded || this.#bodyError) return;
    this.#bodyError = error;
    this.abandonBody();
    this.#handlers?.abort(error);
  }

  /**
   * The connection answered the request itself, `status`, which is its response: 'finish' says so,
   * and whatever the exchange would still send is dropped.
   */
  [kRefused](error: Error, status: number): void {
    this.#refused = true;
    this.statusCode = status;
    this.emit('finish');
    this[kClose](error);
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
  readonly timeouts: ConnectionTimeouts;
  #onRequest: (exchange: ServerExchange) => void;
  #state: ReadState = 'head';
  /** The pieces of a head that has not ended yet, and their length. */
  #head: Buffer[] = [];
  #headLength = 0;
  /** The deadline of the head being waited for, from its start. */
  #headTimer: NodeJS.Timeout | null = null;
  #closing = false;
  /** Whether the socket's timeout ran out while the server was the one not reading a body, and was let pass. */
  #timedOutPaused = false;
  /** Bytes read past the current request's body, kept for the next one. */
  #pending: Buffer | null = null;
  #exchange: ServerExchange | null = null;
  #remaining = 0;
  #chunked: ChunkedDecoder | null = null;

  constructor(socket: Socket, number: number, timeouts: ConnectionTimeouts, onRequest: (exchange: ServerExchange) => void) {
    this.socket = socket;
    this.number = number;
    this.timeouts = timeouts;
    this.#onRequest = onRequest;
    socket.setNoDelay(true);
    // One listener for the connection's life: setTimeout's own callback is a once listener, and after one
    // 'timeout' it ignored (the server not reading or writing), nothing would watch the connection again.
    socket.on('timeout', () => this.#inactive());
    socket.setTimeout(timeouts.headerMs);
    this.#startHeadTimer();
    socket.on('data', (data: Buffer) => this.#read(data));
    socket.on('drain', () => this.#exchange?.emit('drain'));
    socket.on('error', () => {});
    socket.once('close', () => {
      this.#stopHeadTimer();
      this.#exchange?.[kClose](null);
    });
  }

  /** Reads on, unless a finished body's successor is waiting for its response. */
  resume(): void {
    if (this.#state === 'waiting' || this.#closing || !this.socket.isPaused()) return;
    this.socket.resume();
    // A timer that ran out while the server was the one not reading waits for no byte that may never come: it starts again.
    if (this.#timedOutPaused) {
      this.#timedOutPaused = false;
      this.socket.setTimeout(this.timeouts.bodyMs);
    }
  }

  /**
   * Gives the socket an inactivity timeout of `ms`, unless it has it: each setTimeout makes a new
   * timer, and between the steps of a request the socket's own activity has just restarted it.
   */
  #setTimeout(ms: number): void {
    if (this.socket.timeout !== ms) this.socket.setTimeout(ms);
  }

  /** No byte in or out for the socket's timeout: what that means depends on what was awaited. */
  #inactive(): void {
    if (this.#closing) return;
    if (this.#state === 'head' && this.#headLength === 0 && !this.#headTimer) this.socket.destroy();
    // Not reading because the server paused the body (its reader is behind) is no fault of the client's.
    else if (this.#state === 'body') {
      if (!this.socket.isPaused()) this.#exchange?.[kBodyFailed](new BodyTimeoutError());
      else this.#timedOutPaused = true;
    }
  }

  #startHeadTimer(): void {
    this.#headTimer = setTimeout(() => {
      this.#headTimer = null;
      if (this.#headLength > 0) this.#refuse(new HeadError(408, 'the request head did not end in time'));
      else this.socket.destroy();
    }, this.timeouts.headerMs);
  }

  #stopHeadTimer(): void {
    if (this.#headTimer) clearTimeout(this.#headTimer);
    this.#headTimer = null;
  }

  /** Half-closes the connection, reading no more, and drops it once the client has had time for the last answer. */
  #close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#stopHeadTimer();
    this.socket.pause();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  /** The exchange's response is on the socket: the connection closes or reads the next request. */
  responseDone(exchange: ServerExchange, bodyEnded: boolean): void {
    if (exchange !== this.#exchange) return;
    this.#exchange = null;
    exchange[kClose](null);
    // A body not read to its end leaves the connection at an unknown point of the stream.
    if (!exchange.keepAlive || !bodyEnded) {
      this.#close();
      return;
    }
    this.#state = 'head';
    this.#setTimeout(this.timeouts.idleMs);
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
    while (at < data.length && !this.#closing) {
      if (this.#state === 'waiting') {
        this.#pending = this.#pending ? Buffer.concat([this.#pending, data.subarray(at)]) : data.subarray(at);
        this.socket.pause();
        return;
      }
      if (this.#state === 'body') {
        at += this.#bodyBytes(data.subarray(at));
        continue;
      }
      // Blank lines before a request line are tolerated (RFC 9112, section 2.2), within the head's deadline.
      if (this.#headLength === 0 && (data[at] === 13 || data[at] === 10)) {
        if (!this.#headTimer) this.#startHeadTimer();
        at++;
        continue;
      }
      at = this.#headBytes(data, at);
    }
  }

  /**
   * Gathers head bytes from `data[at]` on; starts the request once its blank line has come, and
   * returns where the bytes after the head begin. Each piece is searched once (with the three
   * bytes before it, where the blank line may begin): a head sent a byte at a time costs no more
   * than one sent whole.
   */
  #headBytes(data: Buffer, at: number): number {
    const piece = data.subarray(at);
    // Not the start of a method name: no HTTP at all (a TLS handshake, say), refused before waiting for a head.
    if (this.#headLength === 0 && !TOKEN_BYTE[piece[0]!]) throw new HeadError(400, 'not an HTTP/1.x request');
    const overlap = Math.min(this.#headLength, HEAD_END.length - 1);
    const seam = overlap > 0 ? Buffer.concat([this.#tail(overlap), piece.subarray(0, HEAD_END.length - 1)]).indexOf(HEAD_END) : -1;
    // Where the blank line starts in `piece`: before it (negative) when it began in the bytes already gathered.
    const end = seam >= 0 ? seam - overlap : piece.indexOf(HEAD_END);
    const ended = seam >= 0 || end >= 0;
    const headLength = this.#headLength + (ended ? end : piece.length);
    if (headLength > MAX_HEAD) throw new HeadError(431, 'the request head is too large');
    if (!ended) {
      // A head that ends in the piece it began in, as nearly all do, needs no deadline of its own.
      if (!this.#headTimer) this.#startHeadTimer();
      // The socket may reuse its buffer: a head kept across reads is copied.
      this.#head.push(Buffer.from(piece));
      this.#headLength = headLength;
      return data.length;
    }
    const text = this.#head.length > 0 ? Buffer.concat([...this.#head, piece]).toString('latin1', 0, headLength) : piece.toString('latin1', 0, end);
    this.#head = [];
    this.#headLength = 0;
    this.#stopHeadTimer();
    this.#begin(text);
    return at + end + HEAD_END.length;
  }

  /** The last `count` bytes of the head gathered so far. */
  #tail(count: number): Buffer {
    const bytes: Buffer[] = [];
    for (let i = this.#head.length - 1, need = count; need > 0; i--) {
      const piece = this.#head[i]!;
      bytes.unshift(piece.subarray(Math.max(0, piece.length - need)));
      need -= piece.length;
    }
    return Buffer.concat(bytes).subarray(-count);
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
    // How the body is framed (RFC 9112, section 6): a message whose end two parsers could place differently is refused.
    const codings = raw['transfer-encoding'];
    if (codings !== undefined) {
      if (raw['content-length'] !== undefined) throw new HeadError(400, 'both Content-Length and Transfer-Encoding');
      if (finalCoding(codings) !== 'chunked') throw new HeadError(400, 'a Transfer-Encoding whose last coding is not chunked');
      if (codings !== 'chunked') throw new HeadError(501, 'a transfer coding other than chunked');
      this.#chunked = new ChunkedDecoder();
      this.#remaining = 0;
    } else {
      const lengths = raw['content-length'];
      const length = lengths === undefined ? 0 : contentLength(lengths);
      if (lengths !== undefined) headers['content-length'] = String(length);
      this.#chunked = null;
      this.#remaining = length;
    }
    // The head's text is latin1, a byte a character.
    const exchange = new ServerExchange(this, line[1]!, line[2]!, headers, text.length, keepAlive);
    this.#exchange = exchange;
    this.#state = 'body';
    this.#setTimeout(this.timeouts.bodyMs);
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

  /**
   * Answers a request that cannot be read with a bare status, and closes the connection; a
   * request whose response has begun can only be cut off.
   */
  #refuse(error: Error): void {
    const status = error instanceof HeadError ? error.status : error instanceof ProtocolError ? 400 : 500;
    const exchange = this.#exchange;
    this.#exchange = null;
    if (exchange?.headersSent) {
      exchange[kClose](error);
      this.socket.destroy();
      return;
    }
    this.socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, 'latin1');
    exchange?.[kRefused](error, status);
    this.#close();
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
