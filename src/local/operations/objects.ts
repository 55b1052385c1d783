/**
 * The object operations: PutObject, GetObject (ranges, part numbers, conditions, checksums, SSE-C
 * keys, archived classes), HeadObject, DeleteObject, DeleteObjects, CopyObject (metadata and
 * tagging directives).
 */
import { createHash } from 'node:crypto';
import { MAX_BODY } from '../request-body.js';
import { S3Error } from '../s3-error.js';
import type { ObjectMeta, Storage } from '../storage.js';
import { requestedChecksums } from '../checksum-rules.js';
import { checkReadKey, COPY_SOURCE_CUSTOMER, encryptionHeaders } from '../sse.js';
import { checkReadable } from '../storage-class.js';
import type { TagSet } from '../tags.js';
import { attributeHeaders, requestedAttributes } from './attributes.js';
import { checksumHeaders, contentLength, pour, receive, storedHeaders } from './bodies.js';
import { etagOf, header, type Operation, type OperationContext } from './context.js';
import { copySource, requireBucket, requireKey, requireObject } from './lookups.js';
import { httpDate, parseBody, readSmallBody, tag, xml } from './xml-answers.js';

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
  checkReadKey(meta.encryption, context.headers);
  if (withBody) checkReadable(meta);
  const notModified = checkConditions(context, meta);
  const headers: Record<string, string | number> = {
    ...meta.headers,
    ...attributeHeaders(meta),
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

/** A copy's tags by `x-amz-tagging-directive`: the source's (COPY, the default) or those `x-amz-tagging` names (REPLACE). */
function copiedTags(context: OperationContext, sourceTags: TagSet | undefined, requested: TagSet | undefined): TagSet | undefined {
  const directive = header(context.headers, 'x-amz-tagging-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE')
    throw new S3Error('InvalidArgument', 'Unknown tagging directive.', { ArgumentName: 'x-amz-tagging-directive', ArgumentValue: directive });
  return directive === 'COPY' ? sourceTags : requested;
}

export const OBJECT_OPERATIONS: Record<string, Operation> = {
  async PutObject(context) {
    const bucket = await requireBucket(context);
    const key = requireKey(context);
    const declared = contentLength(context);
    if (declared > MAX_BODY) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.');
    const attributes = requestedAttributes(context);
    const writer = await context.storage.writeObject(bucket, key);
    try {
      const { size, md5, checksums } = await receive(context, writer.stream, requestedChecksums(context.headers));
      const meta: ObjectMeta = {
        key,
        size,
        etag: etagOf(context, md5),
        lastModified: new Date().toISOString(),
        contentType: header(context.headers, 'content-type') ?? 'binary/octet-stream',
        headers: storedHeaders(context.headers),
        checksums,
        checksumType: 'FULL_OBJECT',
        ...attributes,
      };
      await writer.commit(meta);
      await context.respond(200, { etag: meta.etag, ...checksumHeaders(checksums, 'FULL_OBJECT'), ...encryptionHeaders(meta.encryption) }, null);
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
    checkReadKey(source.encryption, context.headers, COPY_SOURCE_CUSTOMER);
    checkReadable(source);
    // The copy is a new object: its class and encryption are the request's (S3's defaults when it names none), not the source's.
    const attributes = requestedAttributes(context);
    const tags = copiedTags(context, source.tags, attributes.tags);
    const writer = await context.storage.writeObject(bucket, key);
    try {
      const md5 = createHash('md5');
      await pour(context.storage.readObject(sourceBucket, source, 0, source.size - 1), writer.stream, [md5]);
      const replace = header(context.headers, 'x-amz-metadata-directive') === 'REPLACE';
      const meta: ObjectMeta = {
        ...source,
        key,
        etag: etagOf(context, md5.digest()),
        lastModified: new Date().toISOString(),
        headers: replace ? storedHeaders(context.headers) : source.headers,
        contentType: replace ? (header(context.headers, 'content-type') ?? source.contentType) : source.contentType,
        // A full-object checksum describes the same bytes; a composite one described the source's parts.
        checksums: source.checksumType === 'FULL_OBJECT' ? source.checksums : {},
        parts: undefined,
        storageClass: undefined,
        encryption: undefined,
        ...attributes,
        tags,
      };
      await writer.commit(meta);
      await context.respond(
        200,
        { 'content-type': 'application/xml', ...encryptionHeaders(meta.encryption) },
        xml('CopyObjectResult', tag('LastModified', meta.lastModified) + tag('ETag', meta.etag)),
      );
    } catch (error) {
      await writer.discard();
      throw error;
    }
  },
};
