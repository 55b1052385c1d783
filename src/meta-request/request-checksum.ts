/**
 * Puts a checksum on one request body: in a header, computed before the request
 * goes (one extra pass over the bytes), or in an aws-chunked trailer, computed
 * while the body is sent, here or (given as `value`) on a checksum thread.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { S3ChecksumLocation, type S3ChecksumAlgorithm } from '../core/enums.js';
import { FileIoError } from '../core/errors.js';
import { trailerBody } from '../checksums/aws-chunked.js';
import { checksumName, createChecksum } from '../checksums/index.js';
import type { PartRequest } from './meta-request.js';

/** The checksum a request sends: algorithm and where. */
export interface RequestChecksum {
  algorithm: S3ChecksumAlgorithm;
  location: S3ChecksumLocation;
}

/**
 * Where a body's bytes come from, so that they can be read for a checksum and read again to be
 * sent; a buffer's `value` when its checksum is under way elsewhere (on a checksum thread).
 */
export type ChecksumSource = { kind: 'buffer'; data: Buffer; value?: Promise<string> } | { kind: 'file'; path: string; size: number };

/**
 * The request with its checksum. `onValue` receives the checksum (base64): at once for a
 * header, or when the body has been sent for a trailer (once per attempt).
 */
export async function withChecksum(
  request: PartRequest,
  source: ChecksumSource,
  plan: RequestChecksum,
  onValue: (value: string) => void,
): Promise<PartRequest> {
  const length = source.kind === 'buffer' ? source.data.length : source.size;
  const open = () => (source.kind === 'buffer' ? [source.data] : createReadStream(source.path, { highWaterMark: 1024 * 1024 }));
  const known = source.kind === 'buffer' ? (source.value ?? null) : null;
  if (plan.location === S3ChecksumLocation.HEADER) {
    const value = await (known ?? readDigest(plan, open, source));
    onValue(value);
    return { ...request, headers: { ...request.headers, [`x-amz-checksum-${checksumName(plan.algorithm)}`]: value } };
  }
  const encoded = trailerBody(plan.algorithm, length, open, known);
  const { 'content-length': encodedLength, ...headers } = encoded.headers;
  const withHeaders = { ...request, headers: { ...request.headers, ...headers } };
  // A buffer's framing is written around it in pieces; a file's streams as it is read and framed.
  if (source.kind === 'buffer') return { ...withHeaders, body: { length: Number(encodedLength), pieces: () => encoded.open(onValue) } };
  return { ...withHeaders, body: () => Readable.from(encoded.open(onValue), { objectMode: false }), bodyLength: Number(encodedLength) };
}

/** The checksum of a body, read once before it is sent. */
async function readDigest(plan: RequestChecksum, open: () => Iterable<Uint8Array> | AsyncIterable<unknown>, source: ChecksumSource): Promise<string> {
  const checksum = createChecksum(plan.algorithm);
  try {
    for await (const chunk of open()) checksum.update(chunk as Buffer);
  } catch (error) {
    throw new FileIoError(`cannot read ${source.kind === 'file' ? source.path : 'the body'} for its checksum: ${(error as Error).message}`, error);
  }
  return checksum.digestBase64();
}
