/** The request as every operation sees it: its route, headers, body and storage, and how it answers. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import type { FaultAction } from '../faults.js';
import { isDirectoryBucketName, type Route } from '../router.js';
import { type BodyHash } from '../request-body.js';
import type { SessionRegistry } from '../s3express.js';
import type { Storage } from '../storage.js';

export const MiB = 1024 * 1024;

export const MIN_PART = 5 * MiB;

export const MAX_PART_NUMBER = 10_000;

export const MAX_KEY_BYTES = 1024;

export interface OperationContext {
  route: Route;
  method: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  storage: Storage;
  /** S3 Express sessions, which CreateSession gives. */
  sessions: SessionRegistry;
  sink: boolean;
  fault: FaultAction | null;
  /** The server's region, which HeadBucket and GetBucketLocation name. */
  region: string;
  /** How the request came: `https` when the server serves TLS. */
  scheme: 'http' | 'https';
  /** The request body, decoded and verified as it is read. */
  body(): AsyncIterable<Buffer>;
  /**
   * Streams the body, decoded and verified, into `writable` (or nowhere: null), feeding each chunk to
   * `hashes`, and ends the writable; resolves with the byte count. Cheaper than iterating {@link body}.
   */
  pipeBody(writable: NodeJS.WritableStream | null, hashes: ReadonlyArray<BodyHash>): Promise<number>;
  /** Trailers of an aws-chunked body, filled once it has been read. */
  trailers: Record<string, string>;
  respond(status: number, headers: Record<string, string | number>, body: string | Buffer | Readable | AsyncIterable<Buffer> | null): Promise<void>;
}

export type Operation = (context: OperationContext) => Promise<void>;

/**
 * The ETag of what `context` stores, given its MD5: the MD5 in hex, as S3 gives for general
 * purpose buckets, or random hex for a directory bucket, whose ETags S3 documents as no digest.
 */
export function etagOf(context: Pick<OperationContext, 'route'>, md5: Buffer): string {
  const bucket = context.route.bucket;
  return `"${(bucket !== null && isDirectoryBucketName(bucket) ? randomBytes(16) : md5).toString('hex')}"`;
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
