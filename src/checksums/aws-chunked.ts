/**
 * A request body as `aws-chunked` with the checksum in a trailer
 * (STREAMING-UNSIGNED-PAYLOAD-TRAILER): the checksum is computed as the bytes go
 * out, in the same pass (or meanwhile on a checksum thread), and sent after them. The
 * data is one chunk, passed on in slices of the caller's buffers, never copied.
 */
import { checksumName, createChecksum, type Checksum } from './index.js';
import { S3ChecksumAlgorithm } from '../core/enums.js';
import { FileIoError } from '../core/errors.js';

/** Length of a checksum in base64, which fixes the encoded body's length in advance. */
const BASE64_LENGTH: Record<S3ChecksumAlgorithm, number> = {
  [S3ChecksumAlgorithm.CRC32]: 8,
  [S3ChecksumAlgorithm.CRC32C]: 8,
  [S3ChecksumAlgorithm.CRC64NVME]: 12,
  [S3ChecksumAlgorithm.SHA1]: 28,
  [S3ChecksumAlgorithm.SHA256]: 44,
};

/** Slices small enough that the checksum of one runs while the previous one is on the wire. */
const SLICE = 1024 * 1024;

export interface TrailerBody {
  /** Headers that announce the encoding (content-length included). */
  headers: Record<string, string>;
  /** A fresh pass over the encoded body; `onChecksum` gets the value once the data has been read. */
  open(onChecksum: (value: string) => void): AsyncIterable<Buffer>;
}

/**
 * Encodes `length` bytes from `source` (re-openable, one pass per attempt) with a trailing
 * checksum: `known`, when it is being computed elsewhere (on a checksum thread), else computed here.
 */
export function trailerBody(
  algorithm: S3ChecksumAlgorithm,
  length: number,
  source: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  known: Promise<string> | null = null,
): TrailerBody {
  const name = `x-amz-checksum-${checksumName(algorithm)}`;
  const head = length > 0 ? `${length.toString(16)}\r\n` : '';
  const tail = length > 0 ? '\r\n' : '';
  const encodedLength = head.length + length + tail.length + '0\r\n'.length + name.length + 1 + BASE64_LENGTH[algorithm] + '\r\n\r\n'.length;
  return {
    headers: {
      'content-encoding': 'aws-chunked',
      'content-length': String(encodedLength),
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': String(length),
      'x-amz-trailer': name,
    },
    async *open(onChecksum) {
      const checksum: Checksum | null = known === null ? createChecksum(algorithm) : null;
      const step = checksum ? SLICE : Infinity;
      if (head) yield Buffer.from(head);
      let sent = 0;
      for await (const chunk of source()) {
        for (let offset = 0; offset < chunk.length; offset += step) {
          const slice = chunk.subarray(offset, offset + step);
          checksum?.update(slice);
          sent += slice.length;
          yield Buffer.isBuffer(slice) ? slice : Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength);
        }
      }
      if (sent !== length) throw new FileIoError(`the body has ${sent} bytes where ${length} were declared`, null);
      const value = checksum ? checksum.digestBase64() : await known!;
      onChecksum(value);
      yield Buffer.from(`${tail}0\r\n${name}:${value}\r\n\r\n`);
    },
  };
}
