/**
 * Pure arithmetic of splitting transfers into parts: part sizes, byte ranges,
 * connection counts and in-flight caps. No I/O here, so every rule is unit-tested alone.
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** S3's service limits for multipart uploads. */
export const MIN_UPLOAD_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * GiB;
export const MAX_PARTS = 10_000;
export const MAX_SINGLE_PUT_SIZE = 5 * GiB;

/** aws-c-s3's defaults (s3_client.c). */
export const DEFAULT_PART_SIZE = 8 * MiB;
export const DEFAULT_THROUGHPUT_TARGET_GBPS = 10;
/** Throughput one connection to S3 is expected to carry, in Gbit/s. */
export const GBPS_PER_CONNECTION = 0.4;
export const MIN_CONNECTIONS = 10;
/**
 * Requests in flight per connection. aws-c-s3 allows 4, counting requests being prepared and
 * queued; here a part beyond the connection count would only wait in the connection pool's
 * queue holding its buffer. Measured on 127.0.0.1 (1 GiB, 25 connections): GET to memory and PUT from a file were
 * as fast or faster at 1 as at 4, with a third of the memory (bench/RESULTS.md).
 */
export const REQUESTS_PER_CONNECTION = 1;

/** Connections for a throughput target: one per 0.4 Gbit/s, at least 10 (10 Gbit/s gives 25). */
export function connectionCount(throughputTargetGbps: number): number {
  return Math.max(MIN_CONNECTIONS, Math.ceil(throughputTargetGbps / GBPS_PER_CONNECTION));
}

/**
 * Where the concurrency controller starts for an endpoint on this machine. The throughput
 * target's count assumes S3's per-connection rate and round trips to hide; over loopback one
 * connection moves gigabytes a second, and on 127.0.0.1 a 1 GiB GET ran fastest with 1-8 parts
 * in flight and a PUT with 4, both with a third of the memory of 25 (bench/RESULTS.md, Scaling).
 * It is only a start: a rate-limited server on this machine makes the window grow.
 */
export const LOOPBACK_PARTS_IN_FLIGHT = 4;

/** Parts in flight across the client: one per connection. */
export function maxRequestsInFlight(connections: number): number {
  return connections * REQUESTS_PER_CONNECTION;
}

/**
 * aws-c-s3's default memory limit for a throughput target, capped at a quarter of
 * the memory this process may use so that a small container or function keeps working.
 */
export function defaultMemoryLimit(throughputTargetGbps: number, availableMemory: number): number {
  const crtDefault = throughputTargetGbps > 75 ? 8 * GiB : throughputTargetGbps > 25 ? 4 * GiB : 2 * GiB;
  const quarter = Math.floor(availableMemory / 4 / MiB) * MiB;
  return Math.min(crtDefault, quarter);
}

/** The default multipart threshold: the part size, and never under 5 MiB. */
export function defaultMultipartThreshold(partSize: number): number {
  return Math.max(partSize, MIN_UPLOAD_PART_SIZE);
}

export interface UploadPlan {
  /** Size of every part but the last. */
  partSize: number;
  partCount: number;
}

/**
 * Part size for a multipart upload of `size` bytes: the requested size, raised to
 * 5 MiB and, when the object would need more than 10,000 parts, raised to the
 * smallest whole MiB that fits. Throws RangeError past 10,000 x 5 GiB.
 */
export function planUpload(size: number, requestedPartSize: number): UploadPlan {
  let partSize = Math.min(Math.max(requestedPartSize, MIN_UPLOAD_PART_SIZE), MAX_PART_SIZE);
  if (Math.ceil(size / partSize) > MAX_PARTS) {
    partSize = Math.ceil(size / MAX_PARTS / MiB) * MiB;
    if (partSize > MAX_PART_SIZE) {
      throw new RangeError(`an object of ${size} bytes needs more than ${MAX_PARTS} parts of 5 GiB`);
    }
  }
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** An inclusive byte range, as HTTP writes it. */
export interface ByteRange {
  start: number;
  end: number;
}

export function rangeLength(range: ByteRange): number {
  return range.end - range.start + 1;
}

/** The range of part `index` when bytes `first..last` (inclusive) are split into `partSize` pieces. */
export function partRange(first: number, last: number, partSize: number, index: number): ByteRange {
  const start = first + index * partSize;
  return { start, end: Math.min(start + partSize - 1, last) };
}

/** How many parts cover bytes `first..last` (inclusive). */
export function partCountFor(first: number, last: number, partSize: number): number {
  return last < first ? 0 : Math.ceil((last - first + 1) / partSize);
}

/** A caller's `Range` header, parsed: explicit start (with optional end) or a suffix length. */
export type RequestedRange = { kind: 'from'; start: number; end: number | null } | { kind: 'suffix'; length: number };

/** Parses a single `bytes=` range. Returns null for anything else (multi-range, other units). */
export function parseRangeHeader(value: string): RequestedRange | null {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!match) return null;
  const [, startText = '', endText = ''] = match;
  if (startText === '') {
    if (endText === '') return null;
    const length = Number(endText);
    return length > 0 && Number.isSafeInteger(length) ? { kind: 'suffix', length } : null;
  }
  const start = Number(startText);
  const end = endText === '' ? null : Number(endText);
  if (!Number.isSafeInteger(start) || (end !== null && (!Number.isSafeInteger(end) || end < start))) return null;
  return { kind: 'from', start, end };
}

/** Parses `Content-Range: bytes a-b/total`. Returns null when malformed or the total is unknown (`*`). */
export function parseContentRange(value: string): { start: number; end: number; total: number } | null {
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+)\s*$/i.exec(value);
  if (!match) return null;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = Number(match[3]);
  // Digits beyond 2^53 would round to another offset: refused rather than misread.
  if (!Number.isSafeInteger(total) || end < start || end >= total) return null;
  return { start, end, total };
}
