/**
 * The HTTP/1.1 response framing that s3tx's own connections need: the status line
 * and headers, how the body is delimited, and chunked transfer coding. Pure
 * functions over bytes; the connection owns the sockets.
 */

/** A parsed status line and header block. */
export interface ResponseHead {
  statusCode: number;
  /** Header names in lower case; a repeated header becomes an array of its values in order. */
  headers: Record<string, string | string[]>;
  /** Bytes of the head, including the blank line that ends it. */
  length: number;
  /** Whether the connection may carry another request after this response. */
  keepAlive: boolean;
}

/** How a response's body ends. */
export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

/** A response that breaks HTTP/1.1's rules; the connection cannot be trusted afterwards. */
export class ProtocolError extends Error {
  readonly code = 'ERR_S3TX_HTTP_PROTOCOL';
}

/** A header name: an HTTP token (RFC 9110, section 5.6.2). */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value that would end its line early, in a request or a response. */
export const UNSAFE_HEADER_VALUE = /[\r\n\0]/;

/** The blank line that ends a head. */
export const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
/**
 * A header line: a token, a colon, and a value with no control byte but HTAB (RFC 9110, section
 * 5.5). A NUL or a lone CR in a value is read differently by different parsers, which is how a
 * request is smuggled past the one in front, so such a line does not match.
 */
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\0-\x08\x0a-\x1f\x7f]*?)[ \t]*$/;

/** The head at the start of `data`, or null while its blank line has not arrived. */
export function parseResponseHead(data: Buffer): ResponseHead | null {
  const end = data.indexOf(HEAD_END);
  if (end < 0) return null;
  const lines = data.toString('latin1', 0, end).split('\r\n');
  const status = STATUS_LINE.exec(lines[0]!);
  if (!status) throw new ProtocolError(`not an HTTP/1.x status line: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const headers = parseHeaderLines(lines, 1);
  return { statusCode: Number(status[2]), headers, length: end + HEAD_END.length, keepAlive: keepsAlive(status[1]!, headers['connection']) };
}

/** Whether a message of HTTP/1.`minor` with this Connection header leaves its connection open (RFC 9112, section 9.3). */
export function keepsAlive(minor: string, connection: string | string[] | undefined): boolean {
  const options = String(connection ?? '').toLowerCase();
  return minor === '1' ? !/\bclose\b/.test(options) : /\bkeep-alive\b/.test(options);
}

/** The last coding a Transfer-Encoding header names, in lower case: the one that frames the body. */
export function finalCoding(codings: string | string[]): string {
  return String(codings).split(',').pop()!.trim().toLowerCase();
}

/**
 * The header lines of a head from `lines[start]` on: names in lower case, a repeated header
 * as an array of its values in order.
 */
export function parseHeaderLines(lines: ReadonlyArray<string>, start: number): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = start; i < lines.length; i++) {
    const header = HEADER_LINE.exec(lines[i]!);
    if (!header) throw new ProtocolError(`malformed header line: ${JSON.stringify(lines[i]!.slice(0, 80))}`);
    const name = header[1]!.toLowerCase();
    const value = header[2]!;
    const earlier = headers[name];
    if (earlier === undefined) headers[name] = value;
    else if (Array.isArray(earlier)) earlier.push(value);
    else headers[name] = [earlier, value];
  }
  return headers;
}

/** How the body of a response to `method` with this head is delimited (RFC 9112, section 6.3). */
export function bodyFraming(method: string, head: Pick<ResponseHead, 'statusCode' | 'headers'>): BodyFraming {
  const { statusCode, headers } = head;
  if (method === 'HEAD' || statusCode < 200 || statusCode === 204 || statusCode === 304) return { kind: 'none' };
  const codings = headers['transfer-encoding'];
  if (codings !== undefined) return finalCoding(codings) === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  const lengths = headers['content-length'];
  if (lengths === undefined) return { kind: 'close' };
  return { kind: 'length', length: contentLength(lengths) };
}

/**
 * The length a Content-Length header gives, in one line or repeated: the same value any number
 * of times is that value; differing values, or anything but digits, leave the message's end
 * unknown (RFC 9112, section 6.3), and are a ProtocolError.
 */
export function contentLength(lengths: string | string[]): number {
  const values = new Set(
    String(lengths)
      .split(',')
      .map((value) => value.trim()),
  );
  const length = values.size === 1 ? parseByteCount([...values][0]) : null;
  if (length === null) throw new ProtocolError(`invalid Content-Length: ${JSON.stringify(String(lengths).slice(0, 80))}`);
  return length;
}

/**
 * A byte count as a Content-Length gives it: digits only, and no more than 2^53 - 1, the largest
 * a number holds exactly (more digits would round to another size). Null otherwise.
 */
export function parseByteCount(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,16}$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * What the lines of a chunked coding mean: HTTP's own (RFC 9112, section 7.1), or a variant
 * that carries more in them, as aws-chunked does (a signature on each size line, checked
 * trailers). The framing itself, size line, data, CRLF, trailers, blank line, is the same.
 */
export interface ChunkedSyntax {
  /** Longest size or trailer line accepted, CRLF included. */
  maxLine: number;
  /** The size a size line gives (CRLF removed); throws when the line is malformed. */
  size(line: string): number;
  /** A chunk's data and the CRLF after it have passed. */
  chunkEnded?(): void;
  /** A trailer line, not the blank one that ends the body. */
  trailer?(line: string): void;
  /** The error a framing fault is reported as. */
  error(message: string): Error;
}

/**
 * The size that up to 16 hex digits give, or null for none or for more than a double holds
 * exactly: a longer run, zeros first or not, is no size anyone sends.
 */
export function chunkSize(digits: string | undefined): number | null {
  if (digits === undefined) return null;
  const size = parseInt(digits, 16);
  return Number.isSafeInteger(size) ? size : null;
}

/** HTTP's chunked transfer coding: a hex size, extensions ignored, trailers dropped. */
const HTTP_CHUNKED: ChunkedSyntax = {
  // Size and trailer lines are short in any honest response.
  maxLine: 8 * 1024,
  size(line) {
    const size = chunkSize(/^([0-9A-Fa-f]{1,16})[ \t]*(?:;.*)?$/.exec(line)?.[1]);
    if (size === null) throw new ProtocolError(`invalid chunk size line: ${JSON.stringify(line.slice(0, 80))}`);
    return size;
  },
  error: (message) => new ProtocolError(message),
};

/** Decodes a chunked body as it arrives, handing each run of data bytes on without copying. */
export class ChunkedDecoder {
  #syntax: ChunkedSyntax;
  #state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  #line = '';
  #remaining = 0;

  constructor(syntax: ChunkedSyntax = HTTP_CHUNKED) {
    this.#syntax = syntax;
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  /**
   * Consumes bytes from `data`, passing body bytes to `emit`; returns how many bytes it used,
   * which is fewer than given only when the body ended before them.
   */
  feed(data: Buffer, emit: (chunk: Buffer) => void): number {
    let at = 0;
    while (at < data.length && this.#state !== 'done') {
      if (this.#state === 'data') {
        const take = Math.min(this.#remaining, data.length - at);
        emit(data.subarray(at, at + take));
        at += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = 'data-end';
        continue;
      }
      const newline = data.indexOf(10, at);
      const stop = newline < 0 ? data.length : newline + 1;
      this.#line += data.toString('latin1', at, stop);
      at = stop;
      if (this.#line.length > this.#syntax.maxLine) throw this.#syntax.error(`a chunked-coding line is longer than ${this.#syntax.maxLine} bytes`);
      if (newline < 0) continue;
      const line = this.#line.replace(/\r?\n$/, '');
      this.#line = '';
      this.#lineEnded(line);
    }
    return at;
  }

  #lineEnded(line: string): void {
    if (this.#state === 'data-end') {
      if (line !== '') throw this.#syntax.error('a chunk is longer than its size line says');
      this.#syntax.chunkEnded?.();
      this.#state = 'size';
    } else if (this.#state === 'size') {
      this.#remaining = this.#syntax.size(line);
      this.#state = this.#remaining === 0 ? 'trailer' : 'data';
    } else if (line === '') {
      this.#state = 'done';
    } else {
      this.#syntax.trailer?.(line);
    }
  }
}
