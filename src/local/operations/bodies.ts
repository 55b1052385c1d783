/** Request bodies received into storage (MD5, checksums, declared lengths) and the headers stored with an object. */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { parseByteCount } from '../../http/h1-parser.js';
import { type BodyHash } from '../request-body.js';
import { S3Error } from '../s3-error.js';
import { sentChecksums, verifyChecksums, type PendingChecksum } from '../checksum-rules.js';
import { header, type OperationContext } from './context.js';

/** Headers stored with an object and returned by GET and HEAD. */
export function storedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (/^(content-(disposition|encoding|language)|cache-control|expires|x-amz-meta-.*|x-amz-website-redirect-location)$/.test(name)) {
      kept[name] = Array.isArray(value) ? value.join(',') : value;
    }
  }
  // aws-chunked is how the body travelled, not what it is.
  if (kept['content-encoding']) {
    const rest = kept['content-encoding']
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== 'aws-chunked');
    if (rest.length > 0) kept['content-encoding'] = rest.join(',');
    else delete kept['content-encoding'];
  }
  return kept;
}

export function contentLength(context: OperationContext): number {
  const decoded = header(context.headers, 'x-amz-decoded-content-length');
  const text = decoded ?? header(context.headers, 'content-length');
  if (text === undefined) throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.');
  const length = parseByteCount(text);
  if (length === null) throw new S3Error('InvalidArgument', 'Content-Length is not a valid number');
  return length;
}

/**
 * Writes every chunk of `source` to `writable` (none when null), honouring backpressure, feeds each
 * chunk to `hashes` on the way, and ends the writable. Resolves with the number of bytes written.
 */
export async function pour(
  source: AsyncIterable<Buffer | Uint8Array>,
  writable: NodeJS.WritableStream | null,
  hashes: ReadonlyArray<BodyHash | null>,
): Promise<number> {
  let size = 0;
  for await (const chunk of source) {
    for (const hash of hashes) hash?.update(chunk);
    size += chunk.length;
    if (writable && !writable.write(chunk)) await new Promise((resolve) => writable.once('drain', resolve));
  }
  if (!writable) return size;
  await new Promise<void>((resolve, reject) => {
    writable.once('error', reject);
    writable.end(() => resolve());
  });
  return size;
}

/** A sink's stand-in for a body's MD5: distinct for every body, as a real one would be, and cheap. */
const sinkDigests = { prefix: randomBytes(8), count: 0 };

function sinkDigest(): Buffer {
  const digest = Buffer.alloc(16);
  sinkDigests.prefix.copy(digest);
  digest.writeDoubleBE(++sinkDigests.count, 8);
  return digest;
}

/**
 * Streams the request body into a storage writer, computing its MD5 and the checksums
 * asked for on the way; checks them all once the body has ended. A sink computes none
 * of them and keeps the checksums the client sent.
 */
export async function receive(
  context: OperationContext,
  writable: NodeJS.WritableStream | null,
  pending: PendingChecksum[],
): Promise<{ size: number; md5: Buffer; checksums: Record<string, string> }> {
  const md5 = context.sink ? null : createHash('md5');
  const size = await context.pipeBody(writable, md5 ? [md5, ...pending.map(({ checksum }) => checksum)] : []);
  const digest = md5?.digest() ?? sinkDigest();
  const declared = header(context.headers, 'content-md5');
  if (declared !== undefined && md5 && declared !== digest.toString('base64')) {
    throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  const checksums = context.sink ? sentChecksums(pending, context.trailers) : verifyChecksums(pending, context.trailers);
  return { size, md5: digest, checksums };
}

/** `x-amz-checksum-<name>` headers for stored checksum values. */
export function checksumHeaders(values: Record<string, string>, type?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) headers[`x-amz-checksum-${name}`] = value;
  if (type && Object.keys(values).length > 0) headers['x-amz-checksum-type'] = type;
  return headers;
}
