/** The multipart operations: CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads. */
import { createHash, randomBytes } from 'node:crypto';
import { checksumAlgorithmNamed, createChecksum } from '../../checksums/index.js';
import { MAX_BODY } from '../request-body.js';
import { isDirectoryBucketName } from '../router.js';
import { S3Error } from '../s3-error.js';
import type { ObjectMeta, PartMeta, UploadMeta } from '../storage.js';
import { multipartChecksum, requestedChecksums, uploadChecksumType } from '../checksum-rules.js';
import { checkPartKey, checkReadKey, COPY_SOURCE_CUSTOMER, encryptionHeaders } from '../sse.js';
import { checkReadable, storageClassOf } from '../storage-class.js';
import { requestedAttributes } from './attributes.js';
import { checksumHeaders, contentLength, pour, receive, storedHeaders } from './bodies.js';
import { etagOf, header, MIN_PART, type Operation, type OperationContext } from './context.js';
import { copySource, requireBucket, requireKey, requirePartNumber, requireUpload } from './lookups.js';
import { ownerXml, parseBody, readSmallBody, tag, xml } from './xml-answers.js';

/**
 * The absolute URL of an object, as CompleteMultipartUpload's Location gives it: the scheme and
 * Host the request came with, then the bucket in the path unless the Host named it (virtual-host style).
 */
function objectUrl(context: OperationContext, bucket: string, key: string): string {
  const host = header(context.headers, 'host') ?? '';
  const virtual = host.replace(/:\d+$/, '').toLowerCase() === `${bucket}.localhost`;
  return `${context.scheme}://${host}${virtual ? '' : `/${bucket}`}/${encodeURIComponent(key)}`;
}

export const MULTIPART_OPERATIONS: Record<string, Operation> = {
  async CreateMultipartUpload(context) {
    const bucket = await requireBucket(context);
    const key = requireKey(context);
    const upload: UploadMeta = {
      uploadId: randomBytes(24).toString('base64url'),
      key,
      initiated: new Date().toISOString(),
      headers: storedHeaders(context.headers),
      contentType: header(context.headers, 'content-type') ?? 'binary/octet-stream',
      checksumAlgorithm: header(context.headers, 'x-amz-checksum-algorithm')?.toLowerCase() ?? null,
      checksumType: null,
      ...requestedAttributes(context),
    };
    upload.checksumType = uploadChecksumType(upload.checksumAlgorithm, header(context.headers, 'x-amz-checksum-type')?.toUpperCase() ?? null);
    await context.storage.createUpload(bucket, upload);
    const announced: Record<string, string> = upload.checksumAlgorithm
      ? { 'x-amz-checksum-algorithm': upload.checksumAlgorithm.toUpperCase(), 'x-amz-checksum-type': upload.checksumType! }
      : {};
    await context.respond(
      200,
      { 'content-type': 'application/xml', ...announced, ...encryptionHeaders(upload.encryption) },
      xml('InitiateMultipartUploadResult', tag('Bucket', bucket) + tag('Key', key) + tag('UploadId', upload.uploadId)),
    );
  },

  async UploadPart(context) {
    const bucket = await requireBucket(context);
    const upload = await requireUpload(context, bucket);
    const partNumber = requirePartNumber(context);
    checkPartKey(upload.encryption, context.headers);
    if (contentLength(context) > MAX_BODY) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
    const writer = await context.storage.writePart(bucket, upload.uploadId, partNumber);
    try {
      const { size, md5, checksums } = await receive(context, writer.stream, requestedChecksums(context.headers, upload.checksumAlgorithm));
      const part: PartMeta = { partNumber, size, etag: etagOf(context, md5), lastModified: new Date().toISOString(), checksums };
      await writer.commit(part);
      await context.respond(200, { etag: part.etag, ...checksumHeaders(checksums), ...encryptionHeaders(upload.encryption) }, null);
    } catch (error) {
      await writer.discard();
      throw error;
    }
  },

  async UploadPartCopy(context) {
    const bucket = await requireBucket(context);
    const upload = await requireUpload(context, bucket);
    const partNumber = requirePartNumber(context);
    checkPartKey(upload.encryption, context.headers);
    const { meta: source, bucket: sourceBucket } = await copySource(context);
    checkReadKey(source.encryption, context.headers, COPY_SOURCE_CUSTOMER);
    checkReadable(source);
    const rangeText = header(context.headers, 'x-amz-copy-source-range');
    let start = 0;
    let end = source.size - 1;
    if (rangeText !== undefined) {
      const match = /^bytes=(\d+)-(\d+)$/.exec(rangeText);
      if (!match || Number(match[2]) >= source.size || Number(match[1]) > Number(match[2])) {
        throw new S3Error(
          'InvalidArgument',
          'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
        );
      }
      start = Number(match[1]);
      end = Number(match[2]);
    }
    const writer = await context.storage.writePart(bucket, upload.uploadId, partNumber);
    const md5 = createHash('md5');
    const algorithm = upload.checksumAlgorithm ? checksumAlgorithmNamed(upload.checksumAlgorithm) : null;
    const checksum = algorithm === null ? null : createChecksum(algorithm);
    await pour(context.storage.readObject(sourceBucket, source, start, end), writer.stream, [md5, checksum]);
    const checksums: Record<string, string> = checksum ? { [upload.checksumAlgorithm!]: checksum.digestBase64() } : {};
    const part: PartMeta = { partNumber, size: end - start + 1, etag: etagOf(context, md5.digest()), lastModified: new Date().toISOString(), checksums };
    await writer.commit(part);
    await context.respond(
      200,
      { 'content-type': 'application/xml', ...encryptionHeaders(upload.encryption) },
      xml('CopyPartResult', tag('LastModified', part.lastModified) + tag('ETag', part.etag)),
    );
  },

  async CompleteMultipartUpload(context) {
    const bucket = await requireBucket(context);
    const upload = await requireUpload(context, bucket);
    const document = parseBody(await readSmallBody(context));
    const requested = (document.CompleteMultipartUpload as { Part?: Array<Record<string, string | undefined>> } | undefined)?.Part ?? [];
    if (requested.length === 0) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    const stored = new Map((await context.storage.listParts(bucket, upload.uploadId)).map((part) => [part.partNumber, part]));
    const parts: PartMeta[] = [];
    const directory = isDirectoryBucketName(bucket);
    let previous = 0;
    for (const entry of requested) {
      const partNumber = Number(entry.PartNumber);
      if (!Number.isInteger(partNumber) || partNumber <= previous)
        throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
      // A directory bucket takes parts numbered 1, 2, 3, ... with no gap.
      if (directory && partNumber !== previous + 1) {
        throw new S3Error(
          'InvalidPartOrder',
          `Part numbers of a directory bucket's upload must be consecutive from 1: part ${partNumber} follows ${previous}.`,
          {
            PartNumber: String(partNumber),
          },
        );
      }
      previous = partNumber;
      const part = stored.get(partNumber);
      const etag = String(entry.ETag ?? '')
        .replace(/^"?/, '"')
        .replace(/"?$/, '"');
      if (!part || part.etag !== etag) {
        throw new S3Error(
          'InvalidPart',
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
          {
            PartNumber: String(partNumber),
            ETag: etag,
          },
        );
      }
      // A part checksum named in the request must be the one the part was uploaded with.
      for (const [name, value] of Object.entries(entry)) {
        const match = /^Checksum(CRC32|CRC32C|CRC64NVME|SHA1|SHA256)$/.exec(name);
        if (match && part.checksums[match[1]!.toLowerCase()] !== value) {
          throw new S3Error('InvalidPart', `The ${match[1]} checksum of part ${partNumber} does not match the part's checksum.`, {
            PartNumber: String(partNumber),
          });
        }
      }
      parts.push(part);
    }
    parts.slice(0, -1).forEach((part) => {
      if (part.size < MIN_PART)
        throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', { PartNumber: String(part.partNumber) });
    });
    const combined = createHash('md5');
    for (const part of parts) combined.update(Buffer.from(part.etag.slice(1, -1), 'hex'));
    const meta: ObjectMeta = {
      key: upload.key,
      size: parts.reduce((sum, part) => sum + part.size, 0),
      etag: `"${combined.digest('hex')}-${parts.length}"`,
      lastModified: new Date().toISOString(),
      contentType: upload.contentType,
      headers: upload.headers,
      checksums: {},
      parts: parts.map((part) => ({ size: part.size, checksums: part.checksums })),
      storageClass: upload.storageClass,
      encryption: upload.encryption,
      tags: upload.tags,
    };
    const algorithm = upload.checksumAlgorithm;
    if (algorithm && upload.checksumType) {
      const values = parts.map((part) => ({ size: part.size, value: part.checksums[algorithm] }));
      if (values.some((part) => part.value === undefined))
        throw new S3Error('InvalidPart', `Every part of this upload needs a ${algorithm.toUpperCase()} checksum.`);
      const value = multipartChecksum(algorithm, upload.checksumType, values as Array<{ size: number; value: string }>);
      const sent = header(context.headers, `x-amz-checksum-${algorithm}`);
      if (sent !== undefined && sent !== value)
        throw new S3Error('BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
      meta.checksums = { [algorithm]: value };
      meta.checksumType = upload.checksumType;
    }
    await context.storage.completeUpload(bucket, upload, parts, meta);
    await context.respond(
      200,
      { 'content-type': 'application/xml', ...encryptionHeaders(meta.encryption) },
      xml(
        'CompleteMultipartUploadResult',
        tag('Location', objectUrl(context, bucket, upload.key)) +
          tag('Bucket', bucket) +
          tag('Key', upload.key) +
          tag('ETag', meta.etag) +
          Object.entries(meta.checksums)
            .map(([name, value]) => tag(`Checksum${name.toUpperCase()}`, value))
            .join('') +
          (meta.checksumType ? tag('ChecksumType', meta.checksumType) : ''),
      ),
    );
  },

  async AbortMultipartUpload(context) {
    const bucket = await requireBucket(context);
    const upload = await requireUpload(context, bucket);
    await context.storage.abortUpload(bucket, upload.uploadId);
    await context.respond(204, {}, null);
  },

  async ListParts(context) {
    const bucket = await requireBucket(context);
    const upload = await requireUpload(context, bucket);
    const marker = Number(context.query.get('part-number-marker') ?? 0);
    const maxParts = Math.min(1000, Number(context.query.get('max-parts') ?? 1000));
    const all = (await context.storage.listParts(bucket, upload.uploadId)).filter((part) => part.partNumber > marker);
    const page = all.slice(0, maxParts);
    const truncated = all.length > page.length;
    const inner =
      tag('Bucket', bucket) +
      tag('Key', upload.key) +
      tag('UploadId', upload.uploadId) +
      tag('PartNumberMarker', marker) +
      (page.length > 0 ? tag('NextPartNumberMarker', page[page.length - 1]!.partNumber) : '') +
      tag('MaxParts', maxParts) +
      tag('IsTruncated', truncated) +
      page
        .map(
          (part) =>
            `<Part>${tag('PartNumber', part.partNumber)}${tag('LastModified', part.lastModified)}${tag('ETag', part.etag)}${tag('Size', part.size)}${Object.entries(
              part.checksums,
            )
              .map(([algorithm, value]) => tag(`Checksum${algorithm.toUpperCase()}`, value))
              .join('')}</Part>`,
        )
        .join('') +
      ownerXml('Initiator') +
      ownerXml() +
      tag('StorageClass', storageClassOf(upload)) +
      (upload.checksumAlgorithm ? tag('ChecksumAlgorithm', upload.checksumAlgorithm.toUpperCase()) + tag('ChecksumType', upload.checksumType!) : '');
    await context.respond(200, { 'content-type': 'application/xml' }, xml('ListPartsResult', inner));
  },

  async ListMultipartUploads(context) {
    const bucket = await requireBucket(context);
    const prefix = context.query.get('prefix') ?? '';
    const uploads = (await context.storage.listUploads(bucket))
      .filter((upload) => upload.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const inner =
      tag('Bucket', bucket) +
      tag('Prefix', prefix) +
      tag('MaxUploads', 1000) +
      tag('IsTruncated', false) +
      uploads
        .map(
          (upload) =>
            `<Upload>${tag('Key', upload.key)}${tag('UploadId', upload.uploadId)}${ownerXml('Initiator')}${ownerXml()}${tag('StorageClass', storageClassOf(upload))}${tag('Initiated', upload.initiated)}</Upload>`,
        )
        .join('');
    await context.respond(200, { 'content-type': 'application/xml' }, xml('ListMultipartUploadsResult', inner));
  },
};
