/**
 * Request bodies as the operations see them: decoded (plain or aws-chunked), checked against
 * the length, payload hash and chunk signatures their headers declare, and counted into the
 * request log as they are read. A body is cut off at the first piece that goes past what its
 * headers declared, or past S3's 5 GiB: a chunked body with `x-amz-decoded-content-length: 5`
 * was otherwise stored whole (300 MiB in the test that found it), and an aws-chunked one
 * declaring 10 bytes was read to its end (658 MiB resident) before it was refused.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { parseByteCount } from '../http/h1-parser.js';
import { AwsChunkedDecoder } from './aws-chunked.js';
import { BodyTimeoutError, type ServerExchange } from './h1-server.js';
import { S3Error } from './s3-error.js';
import type { VerifiedRequest } from './sigv4.js';

/** Anything fed the body's chunks as they stream past: an MD5, a checksum. */
export interface BodyHash {
  update(data: Uint8Array): unknown;
}

/** Where the bytes read off the wire are counted. */
export interface BodyCounter {
  bytesIn: number;
}

/** The most a request body may carry, whatever it declares: S3's limit on a single PUT and on a part. */
export const MAX_BODY = 5 * 1024 * 1024 * 1024;

/** A payload hash a request declares in x-amz-content-sha256, as opposed to UNSIGNED-PAYLOAD or a STREAMING- mode. */
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Turns the pieces a socket delivers into body bytes; `end` throws when the body broke a promise its headers made. */
export interface BodyDecoder {
  push(piece: Buffer, emit: (data: Buffer) => void): void;
  end(): void;
}

/**
 * How many bytes a body may reach: the length it declared (Infinity for none), or `limit` when
 * that is less; past it, the error to stop with.
 */
class Allowance {
  readonly bytes: number;
  readonly #declared: boolean;

  constructor(declared: number, limit: number) {
    this.#declared = declared <= limit;
    this.bytes = Math.min(declared, limit);
  }

  exceeded(): S3Error {
    return this.#declared
      ? new S3Error('IncompleteBody', `The body is longer than the ${this.bytes} bytes its headers declare.`)
      : new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
  }
}

/** The value of x-amz-decoded-content-length, null when absent; throws when it is no length. */
function decodedLength(headers: IncomingHttpHeaders): number | null {
  const text = headers['x-amz-decoded-content-length'];
  if (text === undefined) return null;
  const length = parseByteCount(String(text));
  if (length === null) throw new S3Error('InvalidArgument', 'x-amz-decoded-content-length is not a valid length');
  return length;
}

class PlainBody implements BodyDecoder {
  #declared: string;
  #expectedLength: number | null;
  #allowance: Allowance;
  #hash: Hash | null;
  #length = 0;

  constructor(headers: IncomingHttpHeaders, declared: string, limit: number) {
    this.#declared = declared;
    const contentLength = headers['content-length'] === undefined ? null : Number(headers['content-length']);
    // A plain body that also declares a decoded length is held to both: the operations size it by the decoded one.
    const decoded = decodedLength(headers);
    this.#expectedLength = decoded ?? contentLength;
    this.#allowance = new Allowance(Math.min(decoded ?? Infinity, contentLength ?? Infinity), limit);
    this.#hash = SHA256_HEX.test(declared) ? createHash('sha256') : null;
  }

  push(piece: Buffer, emit: (data: Buffer) => void): void {
    this.#length += piece.length;
    if (this.#length > this.#allowance.bytes) throw this.#allowance.exceeded();
    this.#hash?.update(piece);
    emit(piece);
  }

  end(): void {
    if (this.#expectedLength !== null && this.#length !== this.#expectedLength)
      throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
    if (this.#hash && this.#hash.digest('hex') !== this.#declared) {
      throw new S3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
  }
}

class ChunkedBody implements BodyDecoder {
  #decoder: AwsChunkedDecoder;
  #decodedLength: number;
  #allowance: Allowance;
  #trailers: Record<string, string>;
  #length = 0;

  constructor(decoder: AwsChunkedDecoder, decodedLength: number, limit: number, trailers: Record<string, string>) {
    this.#decoder = decoder;
    this.#decodedLength = decodedLength;
    this.#allowance = new Allowance(decodedLength, limit);
    this.#trailers = trailers;
  }

  push(piece: Buffer, emit: (data: Buffer) => void): void {
    this.#decoder.push(piece, (data) => {
      this.#length += data.length;
      if (this.#length > this.#allowance.bytes) throw this.#allowance.exceeded();
      emit(data);
    });
  }

  end(): void {
    this.#decoder.end();
    if (this.#length !== this.#decodedLength) {
      throw new S3Error('IncompleteBody', `The body has ${this.#length} bytes; x-amz-decoded-content-length says ${this.#decodedLength}.`);
    }
    Object.assign(this.#trailers, this.#decoder.trailers);
  }
}

/**
 * The decoder for a request's body; an aws-chunked body's trailers land in `trailers` once it has
 * ended. Its data may not pass the length the headers declare, nor `limit` (5 GiB by default):
 * the first piece past either is an error, IncompleteBody or EntityTooLarge.
 */
export function bodyDecoder(headers: IncomingHttpHeaders, auth: VerifiedRequest | null, trailers: Record<string, string>, limit = MAX_BODY): BodyDecoder {
  const declared = String(headers['x-amz-content-sha256'] ?? auth?.payloadHash ?? 'UNSIGNED-PAYLOAD');
  if (!declared.startsWith('STREAMING-')) return new PlainBody(headers, declared, limit);
  const signed = declared.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  if (signed && !auth) throw new S3Error('AccessDenied', 'A signed streaming body needs a signed request');
  const length = decodedLength(headers);
  if (length === null) throw new S3Error('MissingContentLength', 'You must provide the x-amz-decoded-content-length header.');
  const signing =
    signed && auth
      ? {
          signingKey: auth.signingKey,
          seed: auth.signature,
          scope: auth.scope,
          amzDate: auth.amzDate,
          signedTrailer: declared === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
        }
      : null;
  return new ChunkedBody(new AwsChunkedDecoder(signing), length, limit, trailers);
}

/**
 * Reads the exchange's body through `decoder`, counting the bytes off the wire, and passes the
 * decoded bytes to `emit`. `done` runs once: with null when the body ended and passed the
 * decoder's checks, else with the first error. Returns a way to fail it from outside, after
 * which the rest of the body is read and dropped.
 */
function decodeBody(
  exchange: ServerExchange,
  decoder: BodyDecoder,
  counter: BodyCounter,
  emit: (data: Buffer) => void,
  done: (error: Error | null) => void,
): (error: Error) => void {
  let settled = false;
  const settle = (error: Error | null) => {
    if (settled) return;
    settled = true;
    // A body that failed is read no further: its response closes the connection.
    if (error) exchange.abandonBody();
    done(error);
  };
  exchange.readBody({
    piece: (piece) => {
      counter.bytesIn += piece.length;
      if (settled) return;
      try {
        decoder.push(piece, emit);
      } catch (error) {
        settle(error as Error);
      }
    },
    end: () => {
      if (settled) return;
      try {
        decoder.end();
      } catch (error) {
        return settle(error as Error);
      }
      settle(null);
    },
    abort: (error) =>
      settle(
        error instanceof BodyTimeoutError
          ? new S3Error('RequestTimeout', 'Your socket connection to the server was not read from or written to within the timeout period.')
          : error,
      ),
  });
  return settle;
}

/** The body's bytes one piece at a time, for operations that read a small body whole. */
export async function* readBody(exchange: ServerExchange, decoder: BodyDecoder, counter: BodyCounter): AsyncGenerator<Buffer> {
  const decoded: Buffer[] = [];
  let settled: { error: Error | null } | null = null;
  let wake: (() => void) | null = null;
  const fail = decodeBody(
    exchange,
    decoder,
    counter,
    (data) => {
      decoded.push(data);
      wake?.();
    },
    (error) => {
      settled = { error };
      wake?.();
    },
  );
  try {
    for (;;) {
      yield* decoded.splice(0);
      if (settled) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    // A reader that stopped early (a body too large for it) leaves no decoding behind it, queueing what nobody reads.
    if (!settled) fail(new Error('the body was not read to its end'));
  }
  yield* decoded.splice(0);
  const { error } = settled as { error: Error | null };
  if (error) throw error;
}

/**
 * Streams the body into `writable`, feeding `hashes` on the way, and ends the writable; resolves
 * with the byte count once the body has passed its checks. A null writable keeps no bytes: a
 * benchmark sink counts them, with no stream machinery per piece.
 */
export function pipeBody(
  exchange: ServerExchange,
  decoder: BodyDecoder,
  counter: BodyCounter,
  writable: NodeJS.WritableStream | null,
  hashes: ReadonlyArray<BodyHash>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let length = 0;
    const resume = () => exchange.resumeBody();
    const emit = (data: Buffer) => {
      length += data.length;
      for (const hash of hashes) hash.update(data);
      if (writable && !writable.write(data)) {
        exchange.pauseBody();
        writable.once('drain', resume);
      }
    };
    const finish = () => (writable ? writable.end(() => resolve(length)) : resolve(length));
    const fail = decodeBody(exchange, decoder, counter, emit, (error) => (error ? reject(error) : finish()));
    writable?.once('error', fail);
  });
}
