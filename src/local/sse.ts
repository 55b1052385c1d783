/**
 * Server-side encryption as S3 answers for it: SSE-S3 (`AES256`), SSE-KMS (`aws:kms`) and
 * DSSE-KMS (`aws:kms:dsse`) named by `x-amz-server-side-encryption`, and SSE-C, a key the client
 * sends with every request that touches the object. The server encrypts nothing (its bytes stay as
 * sent): it keeps what S3 would report and refuses what S3 refuses, in S3's words. Of an SSE-C key
 * it keeps only the MD5, which is all S3 reports and all it needs to tell the right key from a
 * wrong one; the key itself is never stored, logged (request-log.ts leaves its headers out) nor
 * put in an error.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './s3-error.js';

/** How an object or a multipart upload is encrypted: the server's algorithm, or a customer key's MD5. */
export type Encryption = { kind: 'server'; algorithm: ServerAlgorithm; kmsKeyId?: string } | { kind: 'customer'; keyMd5: string };

type ServerAlgorithm = 'AES256' | 'aws:kms' | 'aws:kms:dsse';

const SERVER_ALGORITHMS = new Set<string>(['AES256', 'aws:kms', 'aws:kms:dsse']);

/** SSE-C's headers on the object itself, and on the source of a copy. */
const CUSTOMER = 'x-amz-server-side-encryption-customer-';
export const COPY_SOURCE_CUSTOMER = 'x-amz-copy-source-server-side-encryption-customer-';

/** The account the server's fake KMS key is in. */
const ACCOUNT = '000000000000';
/** Stands for the AWS managed key (aws/s3) that S3 uses and names when aws:kms comes without a key id. */
const DEFAULT_KMS_KEY = 'key/5e3c0a51-0000-4000-8000-000000000000';

function defaultKmsKeyArn(region: string): string {
  return `arn:aws:kms:${region}:${ACCOUNT}:${DEFAULT_KMS_KEY}`;
}

const ENCRYPTED = 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.';
const PART_NEEDS_KEY = 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.';

function text(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function invalidArgument(message: string, detail: Record<string, string> = {}): S3Error {
  return new S3Error('InvalidArgument', message, { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: 'null', ...detail });
}

/**
 * The MD5 (base64) of the SSE-C key a request carries under `prefix` (the object's headers or a
 * copy source's), checked as S3 checks the three headers: all there, AES256, the MD5 the key's,
 * 32 bytes; null when it carries none of them.
 */
function customerKey(headers: IncomingHttpHeaders, prefix: string): string | null {
  const algorithm = text(headers, `${prefix}algorithm`);
  const key = text(headers, `${prefix}key`);
  const keyMd5 = text(headers, `${prefix}key-md5`);
  if (algorithm === undefined && key === undefined && keyMd5 === undefined) return null;
  const requirement = 'Requests specifying Server Side Encryption with Customer provided keys must provide';
  if (key === undefined) throw invalidArgument(`${requirement} an appropriate secret key.`);
  if (keyMd5 === undefined) throw invalidArgument(`${requirement} the client calculated MD5 of the secret key.`);
  if (algorithm === undefined) throw invalidArgument(`${requirement} a valid encryption algorithm.`);
  if (algorithm !== 'AES256')
    throw new S3Error('InvalidEncryptionAlgorithmError', 'The encryption request that you specified is not valid. The valid value is AES256.', {
      ArgumentName: `${prefix}algorithm`,
      ArgumentValue: algorithm,
    });
  const bytes = Buffer.from(key, 'base64');
  // S3 compares the MD5 before the key's length: a 24-byte key with its own MD5 is "invalid for the algorithm".
  if (createHash('md5').update(bytes).digest('base64') !== keyMd5)
    throw invalidArgument('The calculated MD5 hash of the key did not match the hash that was provided.');
  if (bytes.length !== 32) throw invalidArgument('The secret key was invalid for the specified algorithm.');
  return keyMd5;
}

/**
 * The encryption a write asks for (PutObject, CreateMultipartUpload, a copy's destination),
 * checked; undefined when it names none, which S3 stores with the bucket's default, SSE-S3.
 */
export function requestedEncryption(headers: IncomingHttpHeaders, region: string): Encryption | undefined {
  const algorithm = text(headers, 'x-amz-server-side-encryption');
  const kmsKeyId = text(headers, 'x-amz-server-side-encryption-aws-kms-key-id');
  const keyMd5 = customerKey(headers, CUSTOMER);
  if (keyMd5 !== null) {
    if (algorithm !== undefined || kmsKeyId !== undefined)
      throw invalidArgument('Server Side Encryption with Customer provided key is incompatible with the encryption method specified');
    return { kind: 'customer', keyMd5 };
  }
  if (algorithm !== undefined && !SERVER_ALGORITHMS.has(algorithm))
    throw invalidArgument('The encryption method specified is not supported', { ArgumentValue: algorithm });
  const kms = algorithm === 'aws:kms' || algorithm === 'aws:kms:dsse';
  if (kmsKeyId !== undefined && !kms)
    throw invalidArgument('Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', {
      ArgumentName: 'x-amz-server-side-encryption-aws-kms-key-id',
      ArgumentValue: kmsKeyId,
    });
  if (algorithm === undefined) return undefined;
  return kms
    ? { kind: 'server', algorithm: algorithm as ServerAlgorithm, kmsKeyId: kmsKeyId || defaultKmsKeyArn(region) }
    : { kind: 'server', algorithm: 'AES256' };
}

/**
 * Throws S3's refusal unless a read (GET, HEAD, a copy's source: `prefix`) carries what the
 * object's encryption needs: an SSE-C object its key, any other object no SSE-C key.
 */
export function checkReadKey(stored: Encryption | undefined, headers: IncomingHttpHeaders, prefix = CUSTOMER): void {
  const keyMd5 = customerKey(headers, prefix);
  if (stored?.kind !== 'customer') {
    if (keyMd5 !== null) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
    return;
  }
  if (keyMd5 === null) throw new S3Error('InvalidRequest', ENCRYPTED);
  if (keyMd5 !== stored.keyMd5)
    throw new S3Error('AccessDenied', 'Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.');
}

/** Throws S3's refusal unless a part (UploadPart, UploadPartCopy) carries the SSE-C key its upload began with, or none for an upload without one. */
export function checkPartKey(upload: Encryption | undefined, headers: IncomingHttpHeaders): void {
  const keyMd5 = customerKey(headers, CUSTOMER);
  if (upload?.kind !== 'customer') {
    if (keyMd5 !== null) throw new S3Error('InvalidRequest', PART_NEEDS_KEY);
    return;
  }
  if (keyMd5 === null) throw new S3Error('InvalidRequest', PART_NEEDS_KEY);
  if (keyMd5 !== upload.keyMd5) throw new S3Error('InvalidRequest', 'The provided encryption parameters did not match the ones used originally.');
}

/** The encryption headers of a response about a stored object, upload or part: SSE-S3 when nothing else was asked, as S3 does. */
export function encryptionHeaders(stored: Encryption | undefined): Record<string, string> {
  if (stored === undefined) return { 'x-amz-server-side-encryption': 'AES256' };
  if (stored.kind === 'customer') return { [`${CUSTOMER}algorithm`]: 'AES256', [`${CUSTOMER}key-md5`]: stored.keyMd5 };
  return {
    'x-amz-server-side-encryption': stored.algorithm,
    ...(stored.kmsKeyId ? { 'x-amz-server-side-encryption-aws-kms-key-id': stored.kmsKeyId } : {}),
  };
}
