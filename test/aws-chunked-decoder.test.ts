import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AwsChunkedDecoder } from '../src/local/aws-chunked.js';

/** An unsigned aws-chunked body: `data` cut into chunks of `sizes`, then a trailer. */
function encode(data: Buffer, sizes: number[], trailer: string): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(Buffer.from(`${size.toString(16)}\r\n`), data.subarray(at, at + size), Buffer.from('\r\n'));
    at += size;
  }
  parts.push(Buffer.from(`0\r\n${trailer}\r\n\r\n`));
  return Buffer.concat(parts);
}

/** Pushes `body` in pieces cut at random points (1-byte pieces among them); returns the decoded data. */
function decodeInPieces(decoder: AwsChunkedDecoder, body: Buffer, seed: number): Buffer {
  const out: Buffer[] = [];
  let state = seed;
  for (let at = 0; at < body.length;) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const take = state % 4 === 0 ? 1 : 1 + (state % 70_000);
    decoder.push(body.subarray(at, at + take), (data) => out.push(Buffer.from(data)));
    at += take;
  }
  return Buffer.concat(out);
}

describe('aws-chunked decoder', () => {
  const data = randomBytes(300_000);
  const body = encode(data, [65_536, 65_536, 100_000, 68_928], 'x-amz-checksum-crc32c: AAAAAA==');

  it('decodes a body pushed in any pieces and keeps its trailer', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const decoder = new AwsChunkedDecoder(null);
      expect(decodeInPieces(decoder, body, seed).equals(data)).toBe(true);
      decoder.end();
      expect(decoder.trailers).toEqual({ 'x-amz-checksum-crc32c': 'AAAAAA==' });
    }
  });

  it('refuses a body that ends early, a chunk longer than its size line, and bytes after the end', () => {
    const early = new AwsChunkedDecoder(null);
    decodeInPieces(early, body.subarray(0, body.length - 2), 7);
    expect(() => early.end()).toThrow(expect.objectContaining({ code: 'IncompleteBody' }));

    const long = Buffer.from('3\r\nabcd\r\n0\r\n\r\n');
    expect(() => decodeInPieces(new AwsChunkedDecoder(null), long, 1)).toThrow(/longer than its size line/);

    const extra = Buffer.concat([body, Buffer.from('5\r\n')]);
    expect(() => decodeInPieces(new AwsChunkedDecoder(null), extra, 3)).toThrow(/after the end/);
  });
});
