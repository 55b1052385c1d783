/** What a request names, checked and found: its bucket, key, object, upload, part number and copy source. */
import { checkBucketName, splitPath } from '../router.js';
import { S3Error } from '../s3-error.js';
import type { ObjectMeta, Storage, UploadMeta } from '../storage.js';
import { header, MAX_KEY_BYTES, MAX_PART_NUMBER, type OperationContext } from './context.js';

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

export async function requireBucket(context: OperationContext): Promise<string> {
  return existingBucket(context.storage, context.route.bucket!);
}

export function requireKey(context: OperationContext): string {
  return checkKey(context.route.key!);
}

export async function requireObject(context: OperationContext, bucket: string, key: string): Promise<ObjectMeta> {
  const meta = await context.storage.headObject(bucket, key);
  if (!meta) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
  return meta;
}

export async function requireUpload(context: OperationContext, bucket: string): Promise<UploadMeta> {
  const uploadId = context.query.get('uploadId') ?? '';
  const upload = await context.storage.getUpload(bucket, uploadId);
  if (!upload || upload.key !== context.route.key) {
    throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', {
      UploadId: uploadId,
    });
  }
  return upload;
}

export function requirePartNumber(context: OperationContext): number {
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
export async function copySource(context: OperationContext): Promise<{ bucket: string; meta: ObjectMeta }> {
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
