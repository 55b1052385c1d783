/** Which S3 operation a request is, from its method, host, path and query. Pure. */

export interface Route {
  operation: string;
  bucket: string | null;
  key: string | null;
}

/** Sub-resources this server does not implement; asking for one gets NotImplemented rather than a wrong answer. */
const UNSUPPORTED = [
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

function decodeKey(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/**
 * The route of a request. Buckets come from a `BUCKET.localhost` Host (virtual-host
 * style) or the first path segment (path style); the key is the rest of the path, decoded.
 */
export function route(method: string, host: string, path: string, query: URLSearchParams, hasCopySource: boolean): Route {
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  let bucket: string | null = null;
  let rest = path.replace(/^\//, '');
  if (hostname.endsWith('.localhost')) {
    bucket = hostname.slice(0, -'.localhost'.length);
  } else {
    const slash = rest.indexOf('/');
    bucket = decodeKey(slash < 0 ? rest : rest.slice(0, slash)) || null;
    rest = slash < 0 ? '' : rest.slice(slash + 1);
  }
  const key = rest === '' ? null : decodeKey(rest);
  const unsupported = UNSUPPORTED.find((name) => query.has(name));
  const op = (operation: string): Route => ({ operation: unsupported ? `Unsupported:${unsupported}` : operation, bucket, key });

  if (!bucket) return op(method === 'GET' ? 'ListBuckets' : 'Unknown');
  if (key === null) {
    if (method === 'PUT') return op('CreateBucket');
    if (method === 'HEAD') return op('HeadBucket');
    if (method === 'DELETE') return op('DeleteBucket');
    if (method === 'POST' && query.has('delete')) return op('DeleteObjects');
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
