/** Which S3 operation a request is, from its method, host, path and query, and S3's rules for the names in it. Pure. */
import { S3Error } from './s3-error.js';

export interface Route {
  operation: string;
  bucket: string | null;
  key: string | null;
}

/**
 * S3's sub-resources. Those of them this server answers are in {@link SERVED}; asking for another
 * gets NotImplemented rather than a wrong answer.
 */
const SUB_RESOURCES = [
  'acl',
  'tagging',
  'versioning',
  'versions',
  'policy',
  'cors',
  'lifecycle',
  'website',
  'logging',
  'notification',
  'replication',
  'encryption',
  'object-lock',
  'retention',
  'legal-hold',
  'torrent',
  'restore',
  'select',
  'accelerate',
  'analytics',
  'inventory',
  'metrics',
  'ownershipControls',
  'publicAccessBlock',
  'requestPayment',
  'attributes',
];

/** The sub-resource requests served, by method, what they name (a bucket or an object) and sub-resource. */
const SERVED: Record<string, string> = {
  'GET object ?tagging': 'GetObjectTagging',
  'PUT object ?tagging': 'PutObjectTagging',
  'DELETE object ?tagging': 'DeleteObjectTagging',
  'GET bucket ?versioning': 'GetBucketVersioning',
};

/** Prefixes and suffixes S3 keeps out of general purpose bucket names, for punycode, aliases, access points and other bucket kinds. */
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];
const escape = (text: string) => text.replace(/[.]/g, '\\.');
const BUCKET_NAME = new RegExp(
  `^(?!\\d+\\.\\d+\\.\\d+\\.\\d+$)(?!${RESERVED_PREFIXES.map(escape).join('|')})(?!.*\\.\\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$(?<!${RESERVED_SUFFIXES.map(escape).join('|')})`,
);

/**
 * Whether `name` is a valid general purpose bucket name by S3's rules: 3 to 63 lower-case
 * letters, digits, dots and hyphens, starting and ending with a letter or digit, no `..`, not
 * an IP address, and none of the reserved prefixes and suffixes. No such name is `.`, `..` or
 * holds a `/`, so none can name a path outside the folder it is joined to.
 */
export function isBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) || isDirectoryBucketName(name);
}

/** A directory bucket (S3 Express One Zone): `base--zone-id--x-s3`, the base a bucket name's letters, at most 63 in all. */
const DIRECTORY_BUCKET = /^(?!xn--|sthree-)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?--[a-z0-9]+-[a-z0-9-]*[a-z0-9]--x-s3$/;

/** Whether `name` is a directory bucket's, whose requests take S3 Express sessions. */
export function isDirectoryBucketName(name: string): boolean {
  return name.length <= 63 && DIRECTORY_BUCKET.test(name);
}

/**
 * Throws S3's InvalidBucketName unless `name` is a valid bucket name. The server checks a
 * request's names first; storage checks again, so that no name that slips past (`..`, `a/b`)
 * names a path.
 */
export function checkBucketName(name: string): void {
  if (!isBucketName(name)) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
}

/** A bucket and a key, decoded; null for either when the path names none. */
export interface PathTarget {
  bucket: string | null;
  key: string | null;
}

/** One part of a path, percent-decoded as UTF-8; null when the encoding is malformed or the bytes are not UTF-8. */
function decodePart(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/**
 * The bucket and key of a path-style path (`/bucket/key`; the leading slash is optional), each
 * decoded. Request paths and `x-amz-copy-source` both go through it, so a copy source meets the
 * rules a request path does. Returns null when either does not decode, which S3 refuses.
 */
export function splitPath(path: string): PathTarget | null {
  const rest = path.startsWith('/') ? path.slice(1) : path;
  const slash = rest.indexOf('/');
  const bucket = decodePart(slash < 0 ? rest : rest.slice(0, slash));
  const key = slash < 0 || slash === rest.length - 1 ? '' : decodePart(rest.slice(slash + 1));
  if (bucket === null || key === null) return null;
  return { bucket: bucket || null, key: key || null };
}

/**
 * The route of a request (`isForm`: its body is multipart/form-data). Buckets come from a
 * `BUCKET.localhost` Host (virtual-host style) or the first path segment (path style); the key is
 * the rest of the path, decoded. A bucket or key that does not decode is the operation
 * `InvalidURI`, never a request without one.
 */
export function route(method: string, host: string, path: string, query: URLSearchParams, hasCopySource: boolean, isForm = false): Route {
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  let target: PathTarget | null;
  if (hostname.endsWith('.localhost')) {
    const bucket = hostname.slice(0, -'.localhost'.length);
    const rest = path.startsWith('/') ? path.slice(1) : path;
    const key = decodePart(rest);
    target = key === null ? null : { bucket, key: key || null };
  } else {
    target = splitPath(path);
  }
  if (!target) return { operation: 'InvalidURI', bucket: null, key: null };
  const { bucket } = target;
  let { key } = target;
  // The AWS SDK addresses a directory bucket in path style as /bucket//key (its endpoint rules join the bucket's path
  // and the key's, each with its slash), as no virtual-hosted S3 Express request can: the key is what follows.
  if (bucket && key?.startsWith('/') && isDirectoryBucketName(bucket) && path.startsWith(`/${bucket}//`)) key = key.slice(1) || null;
  const subResource = SUB_RESOURCES.find((name) => query.has(name));
  const served = subResource && bucket ? SERVED[`${method} ${key === null ? 'bucket' : 'object'} ?${subResource}`] : undefined;
  if (served) return { operation: served, bucket, key };
  const op = (operation: string): Route => ({ operation: subResource ? `Unsupported:${subResource}` : operation, bucket, key });

  if (!bucket) return op(method === 'GET' ? 'ListBuckets' : 'Unknown');
  if (method === 'GET' && query.has('session') && key === null) return op('CreateSession');
  if (key === null) {
    if (method === 'PUT') return op('CreateBucket');
    if (method === 'HEAD') return op('HeadBucket');
    if (method === 'DELETE') return op('DeleteBucket');
    if (method === 'POST' && query.has('delete')) return op('DeleteObjects');
    // A browser's upload: a form with a POST policy, which the server refuses before authenticating.
    if (method === 'POST' && isForm) return op('PostObject');
    if (method === 'GET' && query.has('uploads')) return op('ListMultipartUploads');
    if (method === 'GET' && query.has('location')) return op('GetBucketLocation');
    if (method === 'GET') return op(query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects');
    return op('Unknown');
  }
  const multipart = query.has('uploadId');
  switch (method) {
    case 'PUT':
      if (multipart && query.has('partNumber')) return op(hasCopySource ? 'UploadPartCopy' : 'UploadPart');
      return op(hasCopySource ? 'CopyObject' : 'PutObject');
    case 'GET':
      return op(multipart ? 'ListParts' : 'GetObject');
    case 'HEAD':
      return op('HeadObject');
    case 'POST':
      if (query.has('uploads')) return op('CreateMultipartUpload');
      if (multipart) return op('CompleteMultipartUpload');
      return op('Unknown');
    case 'DELETE':
      return op(multipart ? 'AbortMultipartUpload' : 'DeleteObject');
    default:
      return op('Unknown');
  }
}
