/**
 * Storage classes as S3 names them: which a write may ask for (`x-amz-storage-class` on PutObject,
 * CreateMultipartUpload, CopyObject), which an object answers with, and which cannot be read
 * without a restore. The server keeps every class's bytes the same way; only the names and the
 * refusals are S3's.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './s3-error.js';

/** What an object is stored as when the request names nothing; S3 leaves it out of HEAD and GET. */
export const STANDARD = 'STANDARD';

/** The only class of a directory bucket (S3 Express One Zone), which HEAD, GET and the lists name. */
export const EXPRESS_ONEZONE = 'EXPRESS_ONEZONE';

/** The values of S3's StorageClass, as its API reference lists them. */
const STORAGE_CLASSES = new Set([
  STANDARD,
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  EXPRESS_ONEZONE,
]);

/** Archived classes: an object in one has to be restored before GetObject or a copy may read it. */
const ARCHIVED = new Set(['GLACIER', 'DEEP_ARCHIVE']);

function invalid(): S3Error {
  return new S3Error('InvalidStorageClass', 'The storage class you specified is not valid');
}

/**
 * The class a write stores its object as: the one `x-amz-storage-class` names, checked, else
 * STANDARD; a directory bucket's objects are EXPRESS_ONEZONE, the one class it takes.
 */
export function requestedStorageClass(headers: IncomingHttpHeaders, directoryBucket: boolean): string {
  const value = headers['x-amz-storage-class'];
  const named = Array.isArray(value) ? value.join(',') : value;
  if (directoryBucket) {
    if (named !== undefined && named !== EXPRESS_ONEZONE) throw invalid();
    return EXPRESS_ONEZONE;
  }
  if (named === undefined) return STANDARD;
  if (!STORAGE_CLASSES.has(named)) throw invalid();
  return named;
}

/** An object's or an upload's class; what was stored before classes were kept is STANDARD. */
export function storageClassOf(stored: { storageClass?: string }): string {
  return stored.storageClass ?? STANDARD;
}

/** The `x-amz-storage-class` header of a HEAD or GET: none for STANDARD, as S3 sends it. */
export function storageClassHeader(stored: { storageClass?: string }): Record<string, string> {
  const storageClass = storageClassOf(stored);
  return storageClass === STANDARD ? {} : { 'x-amz-storage-class': storageClass };
}

/** Throws S3's InvalidObjectState for reading the bytes of an archived object, which S3 serves only once restored. */
export function checkReadable(stored: { storageClass?: string }): void {
  const storageClass = storageClassOf(stored);
  if (ARCHIVED.has(storageClass)) {
    throw new S3Error('InvalidObjectState', "The operation is not valid for the object's storage class", { StorageClass: storageClass });
  }
}
