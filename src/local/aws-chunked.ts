/**
 * Decodes an `aws-chunked` request body: `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`
 * repeated, a zero-size chunk, then trailer lines and an empty line. Data is passed
 * on as views of the received buffers, never copied. Chunk and trailer signatures
 * are checked when a signing key is given.
 */
import { createHash, type Hash } from 'node:crypto';
import { S3Error } from './s3-error.js';
import { hmac, sha256Hex } from '../client/sigv4.js';

const EMPTY_SHA256 = sha256Hex('');
const MAX_LINE = 4096;

export interface ChunkSigning {
  signingKey: Buffer;
  /** The request's own signature, which the first chunk signature chains from. */
  seed: string;
  scope: string;
  amzDate: string;
}

function malformed(message: string): S3Error {
  return new S3Error('IncompleteBody', message);
}

/**
 * Decodes an aws-chunked body pushed to it piece by piece, in whatever pieces the socket
 * delivered; `trailers` holds the trailer headers (lower-case names) once {@link end} has passed.
 */
export class AwsChunkedDecoder {
  readonly trailers: Record<string, string> = {};
  #signing: ChunkSigning | null;
  #previous: string;
  #state: 'header' | 'data' | 'data-end' | 'trailers' | 'done' = 'header';
  #line: Buffer = Buffer.alloc(0);
  #remaining = 0;
  #chunkSignature = '';
  #hash: Hash | null = null;

  constructor(signing: ChunkSigning | null) {
    this.#signing = signing;
    this.#previous = signing?.seed ?? '';
  }

  /** Passes the data bytes of `piece` to `emit`, as views of it. */
  push(piece: Buffer, emit: (data: Buffer) => void): void {
    let chunk = piece;
    while (chunk.length > 0) {
      if (this.#state === 'data') {
        const take = Math.min(this.#remaining, chunk.length);
        const data = chunk.subarray(0, take);
        this.#hash?.update(data);
        this.#remaining -= take;
        chunk = chunk.subarray(take);
        emit(data);
        if (this.#remaining === 0) this.#state = 'data-end';
        continue;
      }
      // Line-oriented states: gather up to the next CRLF.
      const end = chunk.indexOf('\n');
      const part = end < 0 ? chunk : chunk.subarray(0, end + 1);
      this.#line = this.#line.length === 0 ? part : Buffer.concat([this.#line, part]);
      chunk = end < 0 ? chunk.subarray(chunk.length) : chunk.subarray(end + 1);
      if (this.#line.length > MAX_LINE) throw malformed('an aws-chunked line is too long');
      if (end < 0) continue;
      const text = this.#line.toString('latin1').replace(/\r?\n$/, '');
      this.#line = Buffer.alloc(0);
      this.#takeLine(text);
    }
  }

  /** Checks that the body was complete and its trailer signature, if any. */
  end(): void {
    if (this.#state !== 'done') throw malformed('the aws-chunked body ended early');
    const trailerSignature = this.trailers['x-amz-trailer-signature'];
    const signing = this.#signing;
    if (signing && trailerSignature !== undefined) {
      const text = Object.entries(this.trailers)
        .filter(([name]) => name !== 'x-amz-trailer-signature')
        .map(([name, value]) => `${name}:${value}\n`)
        .join('');
      const expected = hmac(
        signing.signingKey,
        ['AWS4-HMAC-SHA256-TRAILER', signing.amzDate, signing.scope, this.#previous, sha256Hex(text)].join('\n'),
      ).toString('hex');
      if (expected !== trailerSignature)
        throw new S3Error('SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.');
      delete this.trailers['x-amz-trailer-signature'];
    }
  }

  #takeLine(text: string): void {
    if (this.#state === 'data-end') {
      if (text !== '') throw malformed('a chunk is longer than its size line says');
      if (this.#hash) this.#verifyChunk(this.#hash.digest('hex'));
      this.#state = 'header';
    } else if (this.#state === 'header') {
      const match = /^([0-9a-fA-F]+)(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(text);
      if (!match) throw malformed(`malformed chunk size line ${JSON.stringify(text.slice(0, 80))}`);
      this.#remaining = parseInt(match[1]!, 16);
      this.#chunkSignature = match[2] ?? '';
      if (this.#signing && !this.#chunkSignature) throw new S3Error('SignatureDoesNotMatch', 'a chunk has no signature');
      this.#hash = this.#signing ? createHash('sha256') : null;
      if (this.#remaining > 0) {
        this.#state = 'data';
      } else {
        this.#verifyChunk(EMPTY_SHA256);
        this.#state = 'trailers';
      }
    } else if (this.#state === 'trailers') {
      if (text === '') {
        this.#state = 'done';
        return;
      }
      const colon = text.indexOf(':');
      if (colon < 0) throw malformed(`malformed trailer ${JSON.stringify(text.slice(0, 80))}`);
      this.trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
    } else {
      throw malformed('bytes after the end of an aws-chunked body');
    }
  }

  #verifyChunk(dataHash: string): void {
    const signing = this.#signing;
    if (!signing) return;
    const expected = hmac(
      signing.signingKey,
      ['AWS4-HMAC-SHA256-PAYLOAD', signing.amzDate, signing.scope, this.#previous, EMPTY_SHA256, dataHash].join('\n'),
    ).toString('hex');
    if (expected !== this.#chunkSignature)
      throw new S3Error('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.');
    this.#previous = this.#chunkSignature;
  }
}
