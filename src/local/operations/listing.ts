/** Listing a bucket: ListObjectsV2 and ListObjects (prefix, delimiter, markers and tokens, url encoding). */
import { storageClassOf } from '../storage-class.js';
import type { ObjectMeta } from '../storage.js';
import { type Operation, type OperationContext } from './context.js';
import { requireBucket } from './lookups.js';
import { tag, xml } from './xml-answers.js';

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
        `<Contents>${tag('Key', name(meta.key))}${tag('LastModified', meta.lastModified)}${tag('ETag', meta.etag)}${tag('Size', meta.size)}${tag('StorageClass', storageClassOf(meta))}</Contents>`,
    )
    .join('');
  inner += prefixes.map((common) => `<CommonPrefixes>${tag('Prefix', name(common))}</CommonPrefixes>`).join('');
  await context.respond(200, { 'content-type': 'application/xml' }, xml('ListBucketResult', inner));
}

export const LISTING_OPERATIONS: Record<string, Operation> = {
  async ListObjectsV2(context) {
    await listObjects(context, 2);
  },

  async ListObjects(context) {
    await listObjects(context, 1);
  },
};
