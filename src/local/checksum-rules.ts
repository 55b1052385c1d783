/**
 * S3's flexible checksums on the server side: which checksums a request asks
 * for, checking them against the body, and the values of multipart objects
 * (COMPOSITE: a checksum of the part checksums, `-N`; FULL_OBJECT: the CRC of
 * the whole object, combined from the parts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3ChecksumAlgorithm } from '../core/enums.js';
import { checksumAlgorithmNamed, checksumName, combineChecksums, createChecksum, isCrc, type Checksum } from '../checksums/index.js';
import { S3Error } from './s3-error.js';

export interface PendingChecksum {
  algorithm: S3ChecksumAlgorithm;
  /** `crc32c`, `sha256`, ... */
  name: string;
  checksum: Checksum;
  /** The value the client sent in a header; undefined when it comes in a trailer or not at all. */
  headerValue: string | undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The checksums to compute over a request body: those the client sent or announced, and the upload's own algorithm. */
export function requestedChecksums(headers: IncomingHttpHeaders, uploadAlgorithm: string | null = null): PendingChecksum[] {
  const names = new Set<string>();
  for (const name of Object.keys(headers)) {
    const match = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/.exec(name);
    if (match) names.add(match[1]!);
  }
  const trailer = header(headers, 'x-amz-trailer');
  for (const item of trailer?.split(',') ?? []) {
    const match = /^x-amz-checksum-([a-z0-9]+)$/.exec(item.trim().toLowerCase());
    if (!match || checksumAlgorithmNamed(match[1]!) === null) throw new S3Error('InvalidRequest', `The trailer ${item.trim()} is not supported.`);
    names.add(match[1]!);
  }
  const announced = header(headers, 'x-amz-sdk-checksum-algorithm');
  if (announced) {
    if (checksumAlgorithmNamed(announced) === null)
      throw new S3Error('InvalidRequest', `Value for x-amz-sdk-checksum-algorithm header is invalid: ${announced}`);
    names.add(announced.toLowerCase());
  }
  if (uploadAlgorithm) names.add(uploadAlgorithm);
  return [...names].map((name) => {
    const algorithm = checksumAlgorithmNamed(name)!;
    return { algorithm, name, checksum: createChecksum(algorithm), headerValue: header(headers, `x-amz-checksum-${name}`) };
  });
}

/** Compares each computed checksum with the one sent (header or trailer); returns the values to store. */
export function verifyChecksums(pending: PendingChecksum[], trailers: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const { name, checksum, headerValue, algorithm } of pending) {
    const computed = checksum.digestBase64();
    const sent = headerValue ?? trailers[`x-amz-checksum-${name}`];
    if (sent !== undefined && sent !== computed) {
      throw new S3Error('BadDigest', `The ${S3ChecksumAlgorithm[algorithm]} you specified did not match the calculated checksum.`);
    }
    values[name] = computed;
  }
  return values;
}

/**
 * The values the client sent, taken as they are. A sink drops the bytes it receives, so
 * it computes nothing over them, neither MD5 nor checksums: a benchmark of the client then
 * does not also pay for the server's side, which S3 runs on its own machines.
 */
export function sentChecksums(pending: PendingChecksum[], trailers: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const { name, headerValue } of pending) {
    const sent = headerValue ?? trailers[`x-amz-checksum-${name}`];
    if (sent !== undefined) values[name] = sent;
  }
  return values;
}

/** The checksum type of a multipart upload: what the client asked for, else S3's default for the algorithm. */
export function uploadChecksumType(algorithm: string | null, requested: string | null): 'COMPOSITE' | 'FULL_OBJECT' | null {
  if (!algorithm) return null;
  const named = checksumAlgorithmNamed(algorithm);
  if (named === null) throw new S3Error('InvalidRequest', `Checksum algorithm ${algorithm} is not supported.`);
  if (requested !== null && requested !== 'COMPOSITE' && requested !== 'FULL_OBJECT')
    throw new S3Error('InvalidRequest', `Checksum type ${requested} is not supported.`);
  const type = requested ?? (named === S3ChecksumAlgorithm.CRC64NVME ? 'FULL_OBJECT' : 'COMPOSITE');
  if (type === 'FULL_OBJECT' && !isCrc(named))
    throw new S3Error('InvalidRequest', `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toUpperCase()} algorithm.`);
  if (type === 'COMPOSITE' && named === S3ChecksumAlgorithm.CRC64NVME)
    throw new S3Error('InvalidRequest', 'The COMPOSITE checksum type cannot be used with the CRC64NVME algorithm.');
  return type;
}

/** The object checksum of a completed multipart upload, from its parts' checksums and sizes. */
export function multipartChecksum(algorithmName: string, type: 'COMPOSITE' | 'FULL_OBJECT', parts: Array<{ size: number; value: string }>): string {
  const algorithm = checksumAlgorithmNamed(algorithmName)!;
  if (type === 'FULL_OBJECT') {
    return parts.slice(1).reduce((value, part) => combineChecksums(algorithm, value, part.value, part.size), parts[0]!.value);
  }
  const composite = createChecksum(algorithm);
  for (const part of parts) composite.update(Buffer.from(part.value, 'base64'));
  return `${composite.digestBase64()}-${parts.length}`;
}

export { checksumName };
