/** Listing, inspecting and deleting objects: the small requests the high-level methods and the CLI need. */
import { HIGH_LEVEL_BUCKET } from '../client/request-options.js';
import { createHash } from 'node:crypto';
import { HttpRequest } from '../http/http-request.js';
import { Crc32 } from '../checksums/index.js';
import { directoryBucketZone, objectLocation } from '../protocol/endpoint.js';
import { S3RequestType } from '../core/enums.js';
import { InvalidArgumentError, InvalidResponseError, lengthFault } from '../core/errors.js';
import type { S3ClientCore } from '../client/s3-client-core.js';
import { elementsOf, escapeXmlKeepingQuotes, parseXml, textOf } from '../protocol/xml.js';
import { parseByteCount } from '../http/h1-parser.js';
import { checkObjectName, checksumFromHeaders, metadataFromHeaders, type ObjectChecksum } from './object-headers.js';
import { perform, type TransferControl } from './perform.js';

/** An object in a listing. */
export interface ObjectSummary {
  key: string;
  size: number;
  etag: string | null;
  lastModified: Date | null;
  storageClass: string | null;
}

/** What HeadObject says about an object. */
export interface ObjectInfo extends Omit<ObjectSummary, 'key' | 'storageClass'> {
  contentType: string | null;
  versionId: string | null;
  metadata: Record<string, string>;
  checksum: ObjectChecksum | null;
}

export interface ListOptions extends Pick<TransferControl, 'signal'> {
  bucket: string;
  prefix?: string;
  /** Group keys by this separator (usually `/`): keys below it come back as prefixes. */
  delimiter?: string;
  /** Keys per ListObjectsV2 request (S3's `max-keys`): 1 to 1,000, S3's default and most. */
  maxKeys?: number;
}

export type ListEntry = ({ kind: 'object' } & ObjectSummary) | { kind: 'prefix'; prefix: string };

/** One DEFAULT request with a small answer (an XML document, headers, or nothing), its document parsed when it has one. */
async function smallRequest(
  client: S3ClientCore,
  operationName: string,
  request: { method: string; bucket?: string; key?: string; query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer },
  control: Pick<TransferControl, 'signal'> = {},
): Promise<{ document: Record<string, unknown> | null; headers: Record<string, string> }> {
  const endpoint = client.endpointConfig;
  const location = request.bucket ? objectLocation(endpoint, request.bucket, request.key) : { host: endpoint.endpoint.host, path: endpoint.endpoint.pathname };
  const chunks: Buffer[] = [];
  const { headers } = await perform(
    client,
    {
      ...(request.bucket ? { [HIGH_LEVEL_BUCKET]: request.bucket } : {}),
      type: S3RequestType.DEFAULT,
      operationName,
      request: new HttpRequest({
        method: request.method,
        path: location.path || '/',
        query: request.query ?? {},
        headers: { host: location.host, ...request.headers },
        ...(request.body ? { body: request.body } : {}),
      }),
      onBody: (chunk) => void chunks.push(Buffer.from(chunk)),
    },
    control,
  );
  const body = Buffer.concat(chunks);
  return { document: body.length > 0 ? parseXml(body) : null, headers };
}

function dateOf(value: string | null): Date | null {
  const date = value ? new Date(value) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
}

/** Every object (and, with a delimiter, every common prefix) under a prefix, page by page (ListObjectsV2). */
export async function* listObjects(client: S3ClientCore, options: ListOptions): AsyncGenerator<ListEntry> {
  if (!options || typeof options.bucket !== 'string' || options.bucket === '') throw new InvalidArgumentError('bucket', 'must be a non-empty string');
  const { maxKeys } = options;
  if (maxKeys !== undefined && !(Number.isSafeInteger(maxKeys) && maxKeys >= 1 && maxKeys <= 1000))
    throw new InvalidArgumentError('maxKeys', `must be a whole number from 1 to 1000, got ${String(maxKeys)}`);
  let token: string | null = null;
  do {
    const query: Record<string, string> = { 'list-type': '2', 'encoding-type': 'url' };
    if (options.prefix) query.prefix = options.prefix;
    if (options.delimiter) query.delimiter = options.delimiter;
    if (options.maxKeys !== undefined) query['max-keys'] = String(options.maxKeys);
    if (token) query['continuation-token'] = token;
    const { document } = await smallRequest(client, 'ListObjectsV2', { method: 'GET', bucket: options.bucket, query }, options);
    const result = document?.ListBucketResult;
    if (!result) throw new InvalidResponseError('ListObjectsV2 answered without a ListBucketResult');
    const encoded = textOf(result, 'EncodingType') === 'url';
    const decode = (value: string) => (encoded ? decodeURIComponent(value.replace(/\+/g, ' ')) : value);
    for (const prefix of elementsOf(result, 'CommonPrefixes')) {
      const value = textOf(prefix, 'Prefix');
      if (value !== null) yield { kind: 'prefix', prefix: decode(value) };
    }
    for (const entry of elementsOf(result, 'Contents')) {
      const key = textOf(entry, 'Key');
      if (key === null) continue;
      const size = parseByteCount(textOf(entry, 'Size') ?? '0');
      if (size === null)
        throw new InvalidResponseError(
          `ListObjectsV2 gave ${JSON.stringify(key.slice(0, 80))} the size ${JSON.stringify(textOf(entry, 'Size')?.slice(0, 80))}`,
        );
      yield {
        kind: 'object',
        key: decode(key),
        size,
        etag: textOf(entry, 'ETag'),
        lastModified: dateOf(textOf(entry, 'LastModified')),
        storageClass: textOf(entry, 'StorageClass'),
      };
    }
    token = textOf(result, 'IsTruncated') === 'true' ? textOf(result, 'NextContinuationToken') : null;
  } while (token);
}

/** The buckets of the account (ListBuckets). */
export async function listBuckets(client: S3ClientCore, control: Pick<TransferControl, 'signal'> = {}): Promise<Array<{ name: string; created: Date | null }>> {
  const { document } = await smallRequest(client, 'ListBuckets', { method: 'GET' }, control);
  const [buckets] = elementsOf(document?.ListAllMyBucketsResult, 'Buckets');
  return elementsOf(buckets, 'Bucket').map((bucket) => ({
    name: textOf(bucket, 'Name') ?? '',
    created: dateOf(textOf(bucket, 'CreationDate')),
  }));
}

/** HeadObject: the object's size, ETag, type, metadata and checksum. Fails with S3's 404 when absent. */
export async function headObject(
  client: S3ClientCore,
  options: { bucket: string; key: string; versionId?: string } & Pick<TransferControl, 'signal'>,
): Promise<ObjectInfo> {
  checkObjectName(options.bucket, options.key);
  const { headers } = await smallRequest(
    client,
    'HeadObject',
    {
      method: 'HEAD',
      bucket: options.bucket,
      key: options.key,
      query: options.versionId ? { versionId: options.versionId } : {},
      headers: { 'x-amz-checksum-mode': 'ENABLED' },
    },
    options,
  );
  const size = parseByteCount(headers['content-length']);
  if (size === null) {
    throw new InvalidResponseError(
      `HeadObject answered without a valid Content-Length: ${JSON.stringify(headers['content-length']?.slice(0, 80) ?? null)}`,
      lengthFault(headers['content-length']),
    );
  }
  return {
    size,
    etag: headers.etag ?? null,
    lastModified: dateOf(headers['last-modified'] ?? null),
    contentType: headers['content-type'] ?? null,
    versionId: headers['x-amz-version-id'] ?? null,
    metadata: metadataFromHeaders(headers),
    checksum: checksumFromHeaders(headers),
  };
}

/** Deletes one object (DeleteObject); deleting a key that does not exist succeeds, as in S3. */
export async function deleteObject(client: S3ClientCore, options: { bucket: string; key: string } & Pick<TransferControl, 'signal'>): Promise<void> {
  checkObjectName(options.bucket, options.key);
  await smallRequest(client, 'DeleteObject', { method: 'DELETE', bucket: options.bucket, key: options.key }, options);
}

export interface DeleteObjectsResult {
  deleted: string[];
  errors: Array<{ key: string; code: string; message: string }>;
}

/** Deletes many objects, a thousand per DeleteObjects request. */
/**
 * The integrity header DeleteObjects must carry: Content-MD5, or for a directory bucket, which
 * takes no MD5, a CRC32 (the SDKs' choice there).
 */
function integrityHeader(bucket: string, body: Buffer): Record<string, string> {
  if (directoryBucketZone(bucket)) return { 'x-amz-checksum-crc32': new Crc32().update(body).digestBase64() };
  return { 'content-md5': createHash('md5').update(body).digest('base64') };
}

export async function deleteObjects(
  client: S3ClientCore,
  options: { bucket: string; keys: string[] } & Pick<TransferControl, 'signal'>,
): Promise<DeleteObjectsResult> {
  if (!options || !Array.isArray(options.keys)) throw new InvalidArgumentError('keys', 'must be an array of keys');
  const result: DeleteObjectsResult = { deleted: [], errors: [] };
  for (let start = 0; start < options.keys.length; start += 1000) {
    const keys = options.keys.slice(start, start + 1000);
    const body = Buffer.from(`<Delete>${keys.map((key) => `<Object><Key>${escapeXmlKeepingQuotes(key)}</Key></Object>`).join('')}</Delete>`);
    const { document } = await smallRequest(
      client,
      'DeleteObjects',
      {
        method: 'POST',
        bucket: options.bucket,
        query: { delete: '' },
        headers: { 'content-type': 'application/xml', ...integrityHeader(options.bucket, body) },
        body,
      },
      options,
    );
    const answer = document?.DeleteResult as Record<string, unknown> | undefined;
    const failed = elementsOf(answer, 'Error').map((error) => ({
      key: textOf(error, 'Key') ?? '',
      code: textOf(error, 'Code') ?? '',
      message: textOf(error, 'Message') ?? '',
    }));
    const failedKeys = new Set(failed.map((error) => error.key));
    result.errors.push(...failed);
    result.deleted.push(...keys.filter((key) => !failedKeys.has(key)));
  }
  return result;
}

/** Aborts a multipart upload, so that S3 drops its parts. */
export async function abortMultipartUpload(client: S3ClientCore, options: { bucket: string; key: string; uploadId: string }): Promise<void> {
  checkObjectName(options.bucket, options.key);
  await smallRequest(client, 'AbortMultipartUpload', { method: 'DELETE', bucket: options.bucket, key: options.key, query: { uploadId: options.uploadId } });
}
