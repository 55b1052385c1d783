/**
 * What an object is stored with besides its bytes and headers, read from a write's headers and
 * reported as S3 reports it: its storage class, its server-side encryption and its tags.
 */
import { isDirectoryBucketName } from '../router.js';
import { encryptionHeaders, requestedEncryption, type Encryption } from '../sse.js';
import { requestedStorageClass, STANDARD, storageClassHeader } from '../storage-class.js';
import { tagCountHeader, tagsFromHeader, type TagSet } from '../tags.js';
import type { ObjectMeta } from '../storage.js';
import type { OperationContext } from './context.js';

export interface ObjectAttributes {
  storageClass?: string;
  encryption?: Encryption;
  tags?: TagSet;
}

/**
 * The storage class, encryption and tags a write (PutObject, CreateMultipartUpload) asks for,
 * each checked before any body is read; what is left at S3's default (STANDARD, SSE-S3, no tags)
 * is left out.
 */
export function requestedAttributes(context: OperationContext): ObjectAttributes {
  const storageClass = requestedStorageClass(context.headers, isDirectoryBucketName(context.route.bucket!));
  const attributes: ObjectAttributes = {};
  if (storageClass !== STANDARD) attributes.storageClass = storageClass;
  const encryption = requestedEncryption(context.headers, context.region);
  if (encryption) attributes.encryption = encryption;
  const tags = tagsFromHeader(context.headers);
  if (tags?.length) attributes.tags = tags;
  return attributes;
}

/** The headers of a GET or HEAD that report an object's attributes: class (not STANDARD), encryption, tag count. */
export function attributeHeaders(meta: ObjectMeta): Record<string, string | number> {
  return { ...storageClassHeader(meta), ...encryptionHeaders(meta.encryption), ...tagCountHeader(meta) };
}
