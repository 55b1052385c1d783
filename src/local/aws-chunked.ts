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

export interface ChunkedResult {
  /** Trailer headers (lower-case names), once the body has been read. */
  trailers: Record<string, string>;
}

function malformed(message: string): S3Error {
  return new S3Error('IncompleteBody', message);
}

/** Yields the decoded bytes of an aws-chunked body; fills `result.trailers` at the end. */
export async function* decodeAwsChunked(source: AsyncIterable<Buffer>, signing: ChunkSigning | null, result: ChunkedResult): AsyncGenerator<Buffer> {
  let previous = signing?.seed ?? '';
  let state: 'header' | 'data' | 'data-end' | 'trailers' | 'done' = 'header';
  let line: Buffer = Buffer.alloc(0);
  let remaining = 0;
  let chunkSignature = '';
  let hash: Hash | null = null;

  const verifyChunk = (dataHash: string) => {
    if (!signing) return;
    const expected = hmac(
      signing.signingKey,
      ['AWS4-HMAC-SHA256-PAYLOAD', signing.amzDate, signing.scope, previous, EMPTY_SHA256, dataHash].join('\n'),
    ).toString('hex');
    if (expected !== chunkSignature) throw new S3Error('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.');
    previous = chunkSignature;
  };

  for await (let chunk of source) {
    while (chunk.length > 0) {
      if (state === 'data') {
        const take = Math.min(remaining, chunk.length);
        const data = chunk.subarray(0, take);
        hash?.update(data);
        remaining -= take;
        chunk = chunk.subarray(take);
        yield data;
        if (remaining === 0) state = 'data-end';
        continue;
      }
      // Line-oriented states: gather up to the next CRLF.
      const end = chunk.indexOf('\n');
      const piece = end < 0 ? chunk : chunk.subarray(0, end + 1);
      line = line.length === 0 ? piece : Buffer.concat([line, piece]);
      chunk = end < 0 ? chunk.subarray(chunk.length) : chunk.subarray(end + 1);
      if (line.length > MAX_LINE) throw malformed('an aws-chunked line is too long');
      if (end < 0) continue;
      const text = line.toString('latin1').replace(/\r?\n$/, '');
      line = Buffer.alloc(0);
      if (state === 'data-end') {
        if (text !== '') throw malformed('a chunk is longer than its size line says');
        if (hash) verifyChunk(hash.digest('hex'));
        state = 'header';
      } else if (state === 'header') {
        const match = /^([0-9a-fA-F]+)(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(text);
        if (!match) throw malformed(`malformed chunk size line ${JSON.stringify(text.slice(0, 80))}`);
        remaining = parseInt(match[1]!, 16);
        chunkSignature = match[2] ?? '';
        if (signing && !chunkSignature) throw new S3Error('SignatureDoesNotMatch', 'a chunk has no signature');
        hash = signing ? createHash('sha256') : null;
        if (remaining > 0) {
          state = 'data';
        } else {
          verifyChunk(EMPTY_SHA256);
          state = 'trailers';
        }
      } else if (state === 'trailers') {
        if (text === '') {
          state = 'done';
          continue;
        }
        const colon = text.indexOf(':');
        if (colon < 0) throw malformed(`malformed trailer ${JSON.stringify(text.slice(0, 80))}`);
        result.trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
      } else {
        throw malformed('bytes after the end of an aws-chunked body');
      }
    }
  }
  if (state !== 'done') throw malformed('the aws-chunked body ended early');
  const trailerSignature = result.trailers['x-amz-trailer-signature'];
  if (signing && trailerSignature !== undefined) {
    const text = Object.entries(result.trailers)
      .filter(([name]) => name !== 'x-amz-trailer-signature')
      .map(([name, value]) => `${name}:${value}\n`)
      .join('');
    const expected = hmac(signing.signingKey, ['AWS4-HMAC-SHA256-TRAILER', signing.amzDate, signing.scope, previous, sha256Hex(text)].join('\n')).toString(
      'hex',
    );
    if (expected !== trailerSignature)
      throw new S3Error('SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.');
    delete result.trailers['x-amz-trailer-signature'];
  }
}
