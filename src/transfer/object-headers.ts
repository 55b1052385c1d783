/** The common PutObject headers of the high-level methods, and what S3's answers say about an object. */
import { S3ChecksumAlgorithm } from '../core/enums.js';
import { InvalidArgumentError } from '../core/errors.js';

/** Headers of a new object: its content headers, metadata, storage class, tags, ACL and encryption. */
export interface ObjectAttributes {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: Date | string;
  /** User metadata, sent as `x-amz-meta-<name>`. */
  metadata?: Record<string, string>;
  /** `STANDARD`, `STANDARD_IA`, `INTELLIGENT_TIERING`, `GLACIER_IR`, ... */
  storageClass?: string;
  /** Tags, as `a=1&b=2` or an object. */
  tagging?: string | Record<string, string>;
  /** A canned ACL such as `private` or `bucket-owner-full-control`. */
  acl?: string;
  /** `AES256` or `aws:kms`. */
  serverSideEncryption?: string;
  sseKmsKeyId?: string;
  /** Any other request headers, sent as given. */
  headers?: Record<string, string>;
}

/** The headers an {@link ObjectAttributes} stands for, checked. */
export function attributeHeaders(attributes: ObjectAttributes): Record<string, string> {
  const headers: Record<string, string> = {};
  const set = (name: string, value: string | undefined, option: string) => {
    if (value === undefined) return;
    if (typeof value !== 'string') throw new InvalidArgumentError(option, 'must be a string');
    headers[name] = value;
  };
  set('content-type', attributes.contentType, 'contentType');
  set('content-encoding', attributes.contentEncoding, 'contentEncoding');
  set('content-disposition', attributes.contentDisposition, 'contentDisposition');
  set('content-language', attributes.contentLanguage, 'contentLanguage');
  set('cache-control', attributes.cacheControl, 'cacheControl');
  if (attributes.expires !== undefined) headers.expires = new Date(attributes.expires).toUTCString();
  set('x-amz-storage-class', attributes.storageClass, 'storageClass');
  set('x-amz-acl', attributes.acl, 'acl');
  set('x-amz-server-side-encryption', attributes.serverSideEncryption, 'serverSideEncryption');
  set('x-amz-server-side-encryption-aws-kms-key-id', attributes.sseKmsKeyId, 'sseKmsKeyId');
  if (attributes.tagging !== undefined) {
    headers['x-amz-tagging'] = typeof attributes.tagging === 'string' ? attributes.tagging : new URLSearchParams(attributes.tagging).toString();
  }
  for (const [name, value] of Object.entries(attributes.metadata ?? {})) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new InvalidArgumentError(`metadata.${name}`, 'is not a valid header name');
    headers[`x-amz-meta-${name.toLowerCase()}`] = String(value);
  }
  for (const [name, value] of Object.entries(attributes.headers ?? {})) headers[name.toLowerCase()] = value;
  return headers;
}

/** Whether any content header or metadata is given, so that a copy must replace the source's. */
export function replacesAttributes(attributes: ObjectAttributes): boolean {
  return ['contentType', 'contentEncoding', 'contentDisposition', 'contentLanguage', 'cacheControl', 'expires', 'metadata'].some(
    (name) => attributes[name as keyof ObjectAttributes] !== undefined,
  );
}

/**
 * The content type a file's name suggests, as `aws s3 cp` guesses it (Python's mimetypes), from
 * mime-types' table (mime-db: `.md` is text/markdown; the hand table before it had 27 entries);
 * null when unknown. Loaded on first use, so that code uploading no file bundles none of it.
 */
export async function contentTypeFor(path: string): Promise<string | null> {
  const { lookup } = await import('mime-types');
  return lookup(path) || null;
}

/** An object's checksum as S3 reported it in `x-amz-checksum-<alg>`. */
export interface ObjectChecksum {
  algorithm: S3ChecksumAlgorithm;
  value: string;
}

export function checksumFromHeaders(headers: Record<string, string>): ObjectChecksum | null {
  for (const name of ['CRC64NVME', 'CRC32C', 'CRC32', 'SHA256', 'SHA1'] as const) {
    const value = headers[`x-amz-checksum-${name.toLowerCase()}`];
    if (value) return { algorithm: S3ChecksumAlgorithm[name], value };
  }
  return null;
}

/** User metadata from response headers, without the `x-amz-meta-` prefix. */
export function metadataFromHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => name.startsWith('x-amz-meta-'))
      .map(([name, value]) => [name.slice('x-amz-meta-'.length), value]),
  );
}

export function checkObjectName(bucket: unknown, key: unknown, keyOption = 'key'): void {
  if (typeof bucket !== 'string' || bucket === '') throw new InvalidArgumentError('bucket', 'must be a non-empty string');
  if (typeof key !== 'string' || key === '') throw new InvalidArgumentError(keyOption, 'must be a non-empty string');
}
