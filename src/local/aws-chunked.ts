/**
 * Decodes an `aws-chunked` request body: `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`
 * repeated, a zero-size chunk, then trailer lines and an empty line. Data is passed
 * on as views of the received buffers, never copied. Chunk and trailer signatures
 * are checked when a signing key is given.
 */
import { createHash, type Hash } from 'node:crypto';
import { S3Error } from './s3-error.js';
import { ChunkedDecoder, chunkSize } from '../http/h1-parser.js';
import { hmac, sha256Hex } from '../auth/sigv4.js';

const EMPTY_SHA256 = sha256Hex('');
const MAX_LINE = 4096;

export interface ChunkSigning {
  signingKey: Buffer;
  /** The request's own signature, which the first chunk signature chains from. */
  seed: string;
  scope: string;
  amzDate: string;
  /**
   * Whether the body ends in signed trailers (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER), which
   * must then carry a valid x-amz-trailer-signature; false by default, when a body with trailers
   * is refused, since nothing signs them (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). Either way, no
   * trailer that no signature covers is taken from a signed body.
   */
  signedTrailer?: boolean;
}

function malformed(message: string): S3Error {
  return new S3Error('IncompleteBody', message);
}

/**
 * Decodes an aws-chunked body pushed to it piece by piece, in whatever pieces the socket
 * delivered; `trailers` holds the trailer headers (lower-case names) once {@link end} has passed.
 * The framing is HTTP's chunked coding; what this adds is in the lines: chunk signatures, trailers kept.
 */
export class AwsChunkedDecoder {
  readonly trailers: Record<string, string> = {};
  #signing: ChunkSigning | null;
  #previous: string;
  #chunkSignature = '';
  #hash: Hash | null = null;
  #coding = new ChunkedDecoder({
    maxLine: MAX_LINE,
    size: (line) => this.#sizeLine(line),
    chunkEnded: () => {
      if (this.#hash) this.#verifyChunk(this.#hash.digest('hex'));
    },
    trailer: (line) => this.#trailerLine(line),
    error: malformed,
  });

  constructor(signing: ChunkSigning | null) {
    this.#signing = signing;
    this.#previous = signing?.seed ?? '';
  }

  /** Passes the data bytes of `piece` to `emit`, as views of it. */
  push(piece: Buffer, emit: (data: Buffer) => void): void {
    const used = this.#coding.feed(
      piece,
      this.#signing
        ? (data) => {
            this.#hash!.update(data);
            emit(data);
          }
        : emit,
    );
    if (used < piece.length) throw malformed('bytes after the end of an aws-chunked body');
  }

  /** Checks that the body was complete, and that a signed body's trailers are signed. */
  end(): void {
    if (!this.#coding.done) throw malformed('the aws-chunked body ended early');
    const signing = this.#signing;
    if (!signing) return;
    if (!signing.signedTrailer) {
      // Trailers the request did not announce, and no signature covers: taking them would take a checksum unsigned.
      if (Object.keys(this.trailers).length > 0)
        throw new S3Error(
          'SignatureDoesNotMatch',
          'A STREAMING-AWS4-HMAC-SHA256-PAYLOAD body carries trailers; only STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER signs them.',
        );
      return;
    }
    const trailerSignature = this.trailers['x-amz-trailer-signature'];
    if (trailerSignature === undefined)
      throw new S3Error('SignatureDoesNotMatch', 'The trailers of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER body carry no x-amz-trailer-signature.');
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

  #sizeLine(line: string): number {
    // Up to 16 hex digits, as in HTTP's chunked coding: a longer size is refused at its line, not after reading what it announced.
    const match = /^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(line);
    const size = chunkSize(match?.[1]);
    if (!match || size === null) throw malformed(`malformed chunk size line ${JSON.stringify(line.slice(0, 80))}`);
    this.#chunkSignature = match[2] ?? '';
    if (this.#signing && !this.#chunkSignature) throw new S3Error('SignatureDoesNotMatch', 'a chunk has no signature');
    this.#hash = this.#signing ? createHash('sha256') : null;
    if (size === 0) this.#verifyChunk(EMPTY_SHA256);
    return size;
  }

  #trailerLine(line: string): void {
    const colon = line.indexOf(':');
    if (colon < 0) throw malformed(`malformed trailer ${JSON.stringify(line.slice(0, 80))}`);
    this.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
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
