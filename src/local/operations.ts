/**
 * The S3 operations of the local server, answering as S3 documents them:
 * status codes, headers, XML bodies and error codes.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { parseByteCount } from '../http/h1-parser.js';
import { readXml } from '../protocol/xml-reader.js';
import type { FaultAction } from './faults.js';
import { checkBucketName, splitPath, type Route } from './router.js';
import { MAX_BODY, type BodyHash } from './request-body.js';
import { S3Error, escapeXml } from './s3-error.js';
import { DEFAULT_REGION } from './sigv4.js';
import type { ObjectMeta, PartMeta, Storage, UploadMeta } from './storage.js';
import { multipartChecksum, requestedChecksums, uploadChecksumType, sentChecksums, verifyChecksums, type PendingChecksum } from './checksum-rules.js';
import { checksumAlgorithmNamed, createChecksum } from '../checksums/index.js';

const MiB = 1024 * 1024;
const MIN_PART = 5 * MiB;
const MAX_PART_NUMBER = 10_000;
const MAX_KEY_BYTES = 1024;
const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface OperationContext {
  route: Route;
  method: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  storage: Storage;
  sink: boolean;
  fault: FaultAction | null;
  /** The server's region, which HeadBucket and GetBucketLocation name. */
  region: string;
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

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function xml(root: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${XMLNS}">${inner}</${root}>`;
}

function tag(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}

const LISTED = new Set(['Part', 'Object']);

function parseBody(text: string): Record<string, unknown> {
  const document = readXml(text, LISTED);
  if (document) return document;
  throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
}

async function readSmallBody(context: OperationContext, limit = 4 * MiB): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of context.body()) {
    length += chunk.length;
    if (length > limit) throw new S3Error('MalformedXML', 'The XML you provided was too large.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Throws S3's KeyTooLongError for a key over 1024 bytes; returns the key otherwise. */
function checkKey(key: string): string {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', 'Your key is too long');
  return key;
}

/** Throws NoSuchBucket unless the bucket exists; returns its name. */
async function existingBucket(storage: Storage, bucket: string): Promise<string> {
  if (!(await storage.hasBucket(bucket))) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  return bucket;
}

async function requireBucket(context: OperationContext): Promise<string> {
  return existingBucket(context.storage, context.route.bucket!);
}

function requireKey(context: OperationContext): string {
  return checkKey(context.route.key!);
}

async function requireObject(context: OperationContext, bucket: string, key: string): Promise<ObjectMeta> {
  const meta = await context.storage.headObject(bucket, key);
  if (!meta) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
  return meta;
}

async function requireUpload(context: OperationContext, bucket: string): Promise<UploadMeta> {
  const uploadId = context.query.get('uploadId') ?? '';
  const upload = await context.storage.getUpload(bucket, uploadId);
  if (!upload || upload.key !== context.route.key) {
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', {
      UploadId: uploadId,
    });
  }
  return upload;
}

/** Headers stored with an object and returned by GET and HEAD. */
function storedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (/^(content-(disposition|encoding|language)|cache-control|expires|x-amz-meta-.*|x-amz-storage-class|x-amz-website-redirect-location)$/.test(name)) {
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

function contentLength(context: OperationContext): number {
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
async function receive(
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
function checksumHeaders(values: Record<string, string>, type?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) headers[`x-amz-checksum-${name}`] = value;
  if (type && Object.keys(values).length > 0) headers['x-amz-checksum-type'] = type;
  return headers;
}

export async function handle(context: OperationContext): Promise<void> {
  if (context.route.operation === 'InvalidURI') throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  const operation = OPERATIONS[context.route.operation];
  if (!operation) {
    if (context.route.operation.startsWith('Unsupported:')) {
      throw new S3Error('NotImplemented', `The ${context.route.operation.slice('Unsupported:'.length)} sub-resource is not implemented by this server.`);
    }
    throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }
  if (context.route.bucket && context.route.operation !== 'ListBuckets') checkBucketName(context.route.bucket);
  await operation(context);
}

type Operation = (context: OperationContext) => Promise<void>;

const OPERATIONS: Record<string, Operation> = {
  async ListBuckets(context) {
    const buckets = await context.storage.listBuckets();
    const inner = buckets.map((bucket) => `<Bucket>${tag('Name', bucket.name)}${tag('CreationDate', bucket.created)}</Bucket>`).join('');
    await context.respond(
      200,
      { 'content-type': 'application/xml' },
      xml('ListAllMyBucketsResult', `<Owner>${tag('ID', 's3tx')}</Owner><Buckets>${inner}</Buckets>`),
    );
  },

  async CreateBucket(context) {
    for await (const _ of context.body()) {
      // The optional CreateBucketConfiguration names a region; every region is this one.
    }
    if (!(await context.storage.createBucket(context.route.bucket!))) {
      throw new S3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', {
        BucketName: context.route.bucket!,
      });
    }
    await context.respond(200, { location: `/${context.route.bucket}` }, null);
  },

  async HeadBucket(context) {
    await requireBucket(context);
    await context.respond(200, { 'x-amz-bucket-region': context.region }, null);
  },

  async GetBucketLocation(context) {
    await requireBucket(context);
    // S3 names no constraint for us-east-1, its original region, and the region itself for any other.
    const region = context.region;
    const constraint =
      region === DEFAULT_REGION ? `<LocationConstraint xmlns="${XMLNS}"/>` : `<LocationConstraint xmlns="${XMLNS}">${escapeXml(region)}</LocationConstraint>`;
    await context.respond(200, { 'content-type': 'application/xml' }, `<?xml version="1.0" encoding="UTF-8"?>\n${constraint}`);
  },

  async DeleteBucket(context) {
    const bucket = await requireBucket(context);
    if (!(await context.storage.bucketIsEmpty(bucket)))
      throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucket });
    await context.storage.deleteBucket(bucket);
    await context.respond(204, {}, null);
  },

  async ListObjectsV2(context) {
    await listObjects(context, 2);
  },

  async ListObjects(context) {
    await listObjects(context, 1);
  },

  async PutObject(context) {
    const bucket = await requireBucket(context);
    const key = requireKey(context);
    const declared = contentLength(context);
    if (declared > MAX_BODY) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.');
    const writer = await context.storage.writeObject(bucket, key);
    try {
      const { size, md5, checksums } = await receive(context, writer.stream, requestedChecksums(context.headers));
      const meta: ObjectMeta = {
        key,
        size,
        etag: `"${md5.toString('hex')}"`,
        lastModified: new Date().toISOString(),
        contentType: header(context.headers, 'content-type') ?? 'binary/octet-stream',
        headers: storedHeaders(context.headers),
        checksums,
        checksumType: 'FULL_OBJECT',
      };
      await writer.commit(meta);
      await context.respond(200, { etag: meta.etag, ...checksumHeaders(checksums, 'FULL_OBJECT') }, null);
    } catch (error) {
      await writer.discard();
      throw error;
    }
  },

  async GetObject(context) {
    await getOrHead(context, true);
  },

  async HeadObject(context) {
    await getOrHead(context, false);
  },

  async DeleteObject(context) {
    const bucket = await requireBucket(context);
    await context.storage.deleteObject(bucket, requireKey(context));
    await context.respond(204, {}, null);
  },

  async DeleteObjects(context) {
    const bucket = await requireBucket(context);
    const document = parseBody(await readSmallBody(context));
    const request = document.Delete as { Object?: Array<{ Key?: string }>; Quiet?: string } | undefined;
    const objects = request?.Object ?? [];
    if (!request || objects.length === 0 || objects.length > 1000)
      throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    const deleted: string[] = [];
    for (const object of objects) {
      if (typeof object.Key !== 'string') throw new S3Error('MalformedXML', 'Every Object needs a Key.');
      await context.storage.deleteObject(bucket, object.Key);
      deleted.push(object.Key);
    }
    const quiet = request.Quiet === 'true';
    const inner = quiet ? '' : deleted.map((key) => `<Deleted>${tag('Key', key)}</Deleted>`).join('');
    await context.respond(200, { 'content-type': 'application/xml' }, xml('DeleteResult', inner));
  },

  async CopyObject(context) {
    const bucket = await requireBucket(context);
    const key = requireKey(context);
    const { meta: source, bucket: sourceBucket } = await copySource(context);
    const writer = await context.storage.writeObject(bucket, key);
    try {
      const md5 = createHash('md5');
      await pour(context.storage.readObject(sourceBucket, source, 0, source.size - 1), writer.stream, [md5]);
      const replace = header(context.headers, 'x-amz-metadata-directive') === 'REPLACE';
      const meta: ObjectMeta = {
        ...source,
        key,
        etag: `"${md5.digest('hex')}"`,
        lastModified: new Date().toISOString(),
        headers: replace ? storedHeaders(context.headers) : source.headers,
        contentType: replace ? (header(context.headers, 'content-type') ?? source.contentType) : source.contentType,
        // A full-object checksum describes the same bytes; a composite one described the source's parts.
        checksums: source.checksumType === 'FULL_OBJECT' ? source.checksums : {},
        parts: undefined,
      };
      await writer.commit(meta);
      await context.respond(
        200,
        { 'content-type': 'application/xml' },
        xml('CopyObjectResult', tag('LastModified', meta.lastModified) + tag('ETag', meta.etag)),
      );
    } catch (error) {
      await writer.discard();
      throw error;
    }
  },

  async CreateMultipartUpload(context) {
    const bucket = await requireBucket(context);
    const key = requireKey(context);
    const upload: UploadMeta = {
      uploadId: randomBytes(24).toString('base64url'),
      key,
      initiated: new Date().toISOString(),
      headers: storedHeaders(context.headers),
      contentType: header(context.headers, 'content-type') ?? 'binary/octet-stream',
      checksumAlgorithm: header(context.headers, 'x-amz-checksum-algorithm')?.toLowerCase() ?? null,
      checksumType: null,
    };
    upload.checksumType = uploadChecksumType(upload.checksumAlgorithm, header(context.headers, 'x-amz-checksum-type')?.toUpperCase() ?? null);
    await context.storage.createUpload(bucket, upload);
    const announced: Record<string, string> = upload.checksumAlgorithm
      ? { 'x-amz-checksum-algorithm': upload.checksumAlgorithm.toUpperCase(), 'x-amz-checksum-type': upload.checksumType! }
      : {};
    await context.respond(
      200,
      { 'content-type': 'application/xml', ...announced },
      xml('InitiateMultipartUploadResult', tag('Bucket', bucket) + tag('Key', key) + tag('UploadId', upload.uploadId)),
    );
  },

  async UploadPart(context) {
    const bucket = await requireBucket(context);
    const upload = await requireUpload(context, bucket);
    const partNumber = requirePartNumber(context);
    if (contentLength(context) > MAX_BODY) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
    const writer = await context.storage.writePart(bucket, upload.uploadId, partNumber);
    try {
      const { size, md5, checksums } = await receive(context, writer.stream, requestedChecksums(context.headers, upload.checksumAlgorithm));
      const part: PartMeta = { partNumber, size, etag: `"${md5.toString('hex')}"`, lastModified: new Date().toISOString(), checksums };
      await writer.commit(part);
      await context.respond(200, { etag: part.etag, ...checksumHeaders(checksums) }, null);
    } catch (error) {
      await writer.discard();
      throw error;
    }
  },

  async UploadPartCopy(context) {
    const bucket = await requireBucket(context);
    const upload = await requireUpload(context, bucket);
    const partNumber = requirePartNumber(context);
    const { meta: source, bucket: sourceBucket } = await copySource(context);
    const rangeText = header(context.headers, 'x-amz-copy-source-range');
    let start = 0;
    let end = source.size - 1;
    if (rangeText !== undefined) {
      const match = /^bytes=(\d+)-(\d+)$/.exec(rangeText);
      if (!match || Number(match[2]) >= source.size || Number(match[1]) > Number(match[2])) {
        throw new S3Error(
          'InvalidArgument',
          'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
        );
      }
      start = Number(match[1]);
      end = Number(match[2]);
    }
    const writer = await context.storage.writePart(bucket, upload.uploadId, partNumber);
    const md5 = createHash('md5');
    const algorithm = upload.checksumAlgorithm ? checksumAlgorithmNamed(upload.checksumAlgorithm) : null;
    const checksum = algorithm === null ? null : createChecksum(algorithm);
    await pour(context.storage.readObject(sourceBucket, source, start, end), writer.stream, [md5, checksum]);
    const checksums: Record<string, string> = checksum ? { [upload.checksumAlgorithm!]: checksum.digestBase64() } : {};
    const part: PartMeta = { partNumber, size: end - start + 1, etag: `"${md5.digest('hex')}"`, lastModified: new Date().toISOString(), checksums };
    await writer.commit(part);
    await context.respond(200, { 'content-type': 'application/xml' }, xml('CopyPartResult', tag('LastModified', part.lastModified) + tag('ETag', part.etag)));
  },

  async CompleteMultipartUpload(context) {
    const bucket = await requireBucket(context);
    const upload = await requireUpload(context, bucket);
    const document = parseBody(await readSmallBody(context));
    const requested = (document.CompleteMultipartUpload as { Part?: Array<Record<string, string | undefined>> } | undefined)?.Part ?? [];
    if (requested.length === 0) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    const stored = new Map((await context.storage.listParts(bucket, upload.uploadId)).map((part) => [part.partNumber, part]));
    const parts: PartMeta[] = [];
    let previous = 0;
    for (const entry of requested) {
      const partNumber = Number(entry.PartNumber);
      if (!Number.isInteger(partNumber) || partNumber <= previous)
        throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
      previous = partNumber;
      const part = stored.get(partNumber);
      const etag = String(entry.ETag ?? '')
        .replace(/^"?/, '"')
        .replace(/"?$/, '"');
      if (!part || part.etag !== etag) {
        throw new S3Error(
          'InvalidPart',
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
          {
            PartNumber: String(partNumber),
            ETag: etag,
          },
        );
      }
      // A part checksum named in the request must be the one the part was uploaded with.
      for (const [name, value] of Object.entries(entry)) {
        const match = /^Checksum(CRC32|CRC32C|CRC64NVME|SHA1|SHA256)$/.exec(name);
        if (match && part.checksums[match[1]!.toLowerCase()] !== value) {
          throw new S3Error('InvalidPart', `The ${match[1]} checksum of part ${partNumber} does not match the part's checksum.`, {
            PartNumber: String(partNumber),
          });
        }
      }
      parts.push(part);
    }
    parts.slice(0, -1).forEach((part) => {
      if (part.size < MIN_PART)
        throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', { PartNumber: String(part.partNumber) });
    });
    const combined = createHash('md5');
    for (const part of parts) combined.update(Buffer.from(part.etag.slice(1, -1), 'hex'));
    const meta: ObjectMeta = {
      key: upload.key,
      size: parts.reduce((sum, part) => sum + part.size, 0),
      etag: `"${combined.digest('hex')}-${parts.length}"`,
      lastModified: new Date().toISOString(),
      contentType: upload.contentType,
      headers: upload.headers,
      checksums: {},
      parts: parts.map((part) => ({ size: part.size, checksums: part.checksums })),
    };
    const algorithm = upload.checksumAlgorithm;
    if (algorithm && upload.checksumType) {
      const values = parts.map((part) => ({ size: part.size, value: part.checksums[algorithm] }));
      if (values.some((part) => part.value === undefined))
        throw new S3Error('InvalidPart', `Every part of this upload needs a ${algorithm.toUpperCase()} checksum.`);
      const value = multipartChecksum(algorithm, upload.checksumType, values as Array<{ size: number; value: string }>);
      const sent = header(context.headers, `x-amz-checksum-${algorithm}`);
      if (sent !== undefined && sent !== value)
        throw new S3Error('BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
      meta.checksums = { [algorithm]: value };
      meta.checksumType = upload.checksumType;
    }
    await context.storage.completeUpload(bucket, upload, parts, meta);
    await context.respond(
      200,
      { 'content-type': 'application/xml' },
      xml(
        'CompleteMultipartUploadResult',
        tag('Location', `/${bucket}/${encodeURIComponent(upload.key)}`) +
          tag('Bucket', bucket) +
          tag('Key', upload.key) +
          tag('ETag', meta.etag) +
          Object.entries(meta.checksums)
            .map(([name, value]) => tag(`Checksum${name.toUpperCase()}`, value))
            .join('') +
          (meta.checksumType ? tag('ChecksumType', meta.checksumType) : ''),
      ),
    );
  },

  async AbortMultipartUpload(context) {
    const bucket = await requireBucket(context);
    const upload = await requireUpload(context, bucket);
    await context.storage.abortUpload(bucket, upload.uploadId);
    await context.respond(204, {}, null);
  },

  async ListParts(context) {
    const bucket = await requireBucket(context);
    const upload = await requireUpload(context, bucket);
    const marker = Number(context.query.get('part-number-marker') ?? 0);
    const maxParts = Math.min(1000, Number(context.query.get('max-parts') ?? 1000));
    const all = (await context.storage.listParts(bucket, upload.uploadId)).filter((part) => part.partNumber > marker);
    const page = all.slice(0, maxParts);
    const truncated = all.length > page.length;
    const inner =
      tag('Bucket', bucket) +
      tag('Key', upload.key) +
      tag('UploadId', upload.uploadId) +
      tag('PartNumberMarker', marker) +
      (page.length > 0 ? tag('NextPartNumberMarker', page[page.length - 1]!.partNumber) : '') +
      tag('MaxParts', maxParts) +
      tag('IsTruncated', truncated) +
      page
        .map(
          (part) =>
            `<Part>${tag('PartNumber', part.partNumber)}${tag('LastModified', part.lastModified)}${tag('ETag', part.etag)}${tag('Size', part.size)}${Object.entries(
              part.checksums,
            )
              .map(([algorithm, value]) => tag(`Checksum${algorithm.toUpperCase()}`, value))
              .join('')}</Part>`,
        )
        .join('');
    await context.respond(200, { 'content-type': 'application/xml' }, xml('ListPartsResult', inner));
  },

  async ListMultipartUploads(context) {
    const bucket = await requireBucket(context);
    const prefix = context.query.get('prefix') ?? '';
    const uploads = (await context.storage.listUploads(bucket))
      .filter((upload) => upload.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const inner =
      tag('Bucket', bucket) +
      tag('Prefix', prefix) +
      tag('MaxUploads', 1000) +
      tag('IsTruncated', false) +
      uploads.map((upload) => `<Upload>${tag('Key', upload.key)}${tag('UploadId', upload.uploadId)}${tag('Initiated', upload.initiated)}</Upload>`).join('');
    await context.respond(200, { 'content-type': 'application/xml' }, xml('ListMultipartUploadsResult', inner));
  },
};

function requirePartNumber(context: OperationContext): number {
  const partNumber = Number(context.query.get('partNumber'));
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, { ArgumentName: 'partNumber' });
  }
  return partNumber;
}

/**
 * The object `x-amz-copy-source` names (`/bucket/key` or `bucket/key`, URL-encoded, an optional
 * `?versionId=`), read with the rules and the storage lookups of a request path's bucket and key.
 */
async function copySource(context: OperationContext): Promise<{ bucket: string; meta: ObjectMeta }> {
  const text = header(context.headers, 'x-amz-copy-source') ?? '';
  const mark = text.indexOf('?');
  const source = splitPath(mark < 0 ? text : text.slice(0, mark));
  const argument = { ArgumentName: 'x-amz-copy-source', ArgumentValue: text };
  if (!source) throw new S3Error('InvalidArgument', 'Invalid copy source encoding', argument);
  if (!source.bucket || source.key === null) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', argument);
  }
  checkBucketName(source.bucket);
  const key = checkKey(source.key);
  const bucket = await existingBucket(context.storage, source.bucket);
  return { bucket, meta: await requireObject(context, bucket, key) };
}

/** The byte range a GET asks for: a Range header or a part number; null for the whole object. */
function requestedRange(context: OperationContext, meta: ObjectMeta): { start: number; end: number; partsCount?: number } | null {
  const partText = context.query.get('partNumber');
  if (partText !== null) {
    const partNumber = Number(partText);
    const sizes = meta.parts?.map((part) => part.size) ?? [meta.size];
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > sizes.length)
      throw new S3Error('InvalidPartNumber', 'The requested partnumber is not satisfiable', {}, 416);
    const start = sizes.slice(0, partNumber - 1).reduce((sum, size) => sum + size, 0);
    return { start, end: start + sizes[partNumber - 1]! - 1, partsCount: sizes.length };
  }
  const range = header(context.headers, 'range');
  if (range === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  // S3 ignores a Range it cannot parse and sends the whole object.
  if (!match || (match[1] === '' && match[2] === '')) return null;
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, meta.size - Number(match[2]));
    end = meta.size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? meta.size - 1 : Math.min(Number(match[2]), meta.size - 1);
  }
  if (start >= meta.size || end < start) {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { RangeRequested: range, ActualObjectSize: String(meta.size) });
  }
  return { start, end };
}

function checkConditions(context: OperationContext, meta: ObjectMeta): number | null {
  const ifMatch = header(context.headers, 'if-match');
  if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.split(',').some((etag) => etag.trim() === meta.etag)) {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  }
  const ifNoneMatch = header(context.headers, 'if-none-match');
  if (ifNoneMatch !== undefined && (ifNoneMatch === '*' || ifNoneMatch.split(',').some((etag) => etag.trim() === meta.etag))) return 304;
  const unmodifiedSince = header(context.headers, 'if-unmodified-since');
  if (unmodifiedSince !== undefined && Date.parse(meta.lastModified) > Date.parse(unmodifiedSince) + 999) {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Unmodified-Since' });
  }
  const modifiedSince = header(context.headers, 'if-modified-since');
  if (ifNoneMatch === undefined && modifiedSince !== undefined && Date.parse(meta.lastModified) <= Date.parse(modifiedSince) + 999) return 304;
  return null;
}

async function getOrHead(context: OperationContext, withBody: boolean): Promise<void> {
  const bucket = await requireBucket(context);
  const key = requireKey(context);
  const meta = await requireObject(context, bucket, key);
  const notModified = checkConditions(context, meta);
  const headers: Record<string, string | number> = {
    ...meta.headers,
    'content-type': meta.contentType,
    etag: meta.etag,
    'last-modified': httpDate(meta.lastModified),
    'accept-ranges': 'bytes',
  };
  if (notModified) {
    await context.respond(304, { etag: meta.etag, 'last-modified': headers['last-modified']! }, null);
    return;
  }
  const range = context.fault?.type === 'ignore-range' ? null : requestedRange(context, meta);
  const start = range?.start ?? 0;
  const end = range?.end ?? meta.size - 1;
  headers['content-length'] = end - start + 1;
  if (range) headers['content-range'] = `bytes ${start}-${end}/${meta.size}`;
  if (range?.partsCount !== undefined) headers['x-amz-mp-parts-count'] = range.partsCount;
  if (header(context.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED')
    Object.assign(headers, checksumsFor(meta, range, context.query.get('partNumber')));
  const body = withBody ? context.storage.readObject(bucket, meta, start, end) : null;
  await context.respond(range ? 206 : 200, headers, body);
  if (context.fault?.type === 'replace-object') await replaceObject(context.storage, bucket, meta);
}

/**
 * The checksum headers a GET or HEAD returns with checksum mode on: the object's value for the
 * whole object, a part's own value for a part of a multipart object, nothing for a byte range.
 */
function checksumsFor(meta: ObjectMeta, range: { start: number; end: number } | null, partNumber: string | null): Record<string, string> {
  if (partNumber !== null && meta.parts) return checksumHeaders(meta.parts[Number(partNumber) - 1]?.checksums ?? {});
  if (range && !(range.start === 0 && range.end === meta.size - 1)) return {};
  return checksumHeaders(meta.checksums, meta.checksumType);
}

/** A fault: the object gets new bytes and a new ETag, as if another writer replaced it. */
async function replaceObject(storage: Storage, bucket: string, meta: ObjectMeta): Promise<void> {
  const writer = await storage.writeObject(bucket, meta.key);
  const chunks: Buffer[] = [];
  for await (const chunk of storage.readObject(bucket, meta, 0, meta.size - 1)) chunks.push(chunk as Buffer);
  const data = Buffer.concat(chunks);
  if (data.length > 0) data[0] = data[0]! ^ 0xff;
  writer.stream?.end(data);
  await writer.commit({ ...meta, etag: `"${createHash('md5').update(data).digest('hex')}"`, lastModified: new Date().toISOString(), parts: undefined });
}

async function listObjects(context: OperationContext, version: 1 | 2): Promise<void> {
  const bucket = await requireBucket(context);
  const query = context.query;
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = Math.max(0, Math.min(1000, Number(query.get('max-keys') ?? 1000)));
  const encode = query.get('encoding-type') === 'url';
  const token = query.get('continuation-token');
  let after = version === 2 ? (query.get('start-after') ?? '') : (query.get('marker') ?? '');
  if (version === 2 && token) {
    after = Buffer.from(token, 'base64url').toString('utf8');
  }
  const keys = (await context.storage.listObjects(bucket))
    .filter((meta) => meta.key.startsWith(prefix) && meta.key > after)
    .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  const contents: ObjectMeta[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let last = '';
  for (const meta of keys) {
    let common: string | null = null;
    if (delimiter) {
      const at = meta.key.indexOf(delimiter, prefix.length);
      if (at >= 0) common = meta.key.slice(0, at + delimiter.length);
    }
    if (common !== null && prefixes[prefixes.length - 1] === common) continue;
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (common !== null) {
      prefixes.push(common);
      last = common;
    } else {
      contents.push(meta);
      last = meta.key;
    }
  }
  const name = (text: string) => (encode ? encodeURIComponent(text) : text);
  let inner =
    tag('Name', bucket) +
    tag('Prefix', name(prefix)) +
    (delimiter ? tag('Delimiter', name(delimiter)) : '') +
    tag('MaxKeys', maxKeys) +
    tag('IsTruncated', truncated) +
    (encode ? tag('EncodingType', 'url') : '');
  if (version === 2) {
    inner += tag('KeyCount', contents.length + prefixes.length);
    if (token) inner += tag('ContinuationToken', token);
    if (query.get('start-after')) inner += tag('StartAfter', name(query.get('start-after')!));
    if (truncated) inner += tag('NextContinuationToken', Buffer.from(last).toString('base64url'));
  } else {
    inner += tag('Marker', name(query.get('marker') ?? ''));
    if (truncated && delimiter) inner += tag('NextMarker', name(last));
  }
  inner += contents
    .map(
      (meta) =>
        `<Contents>${tag('Key', name(meta.key))}${tag('LastModified', meta.lastModified)}${tag('ETag', meta.etag)}${tag('Size', meta.size)}${tag('StorageClass', 'STANDARD')}</Contents>`,
    )
    .join('');
  inner += prefixes.map((common) => `<CommonPrefixes>${tag('Prefix', name(common))}</CommonPrefixes>`).join('');
  await context.respond(200, { 'content-type': 'application/xml' }, xml('ListBucketResult', inner));
}
