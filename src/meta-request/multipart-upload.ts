/**
 * The control requests of one multipart upload, shared by uploads and copies:
 * CreateMultipartUpload, CompleteMultipartUpload with the parts in order, and
 * AbortMultipartUpload, each sent through the meta request's retrying `send`.
 */
import { InvalidResponseError } from '../core/errors.js';
import { elementsOf, escapeXmlKeepingQuotes, parseXml, textOf } from '../protocol/xml.js';
import { CollectTarget, type BodyTarget, type PartRequest, type PartResponse, type ResponseHeaders, type SendOptions } from './meta-request.js';

export type SendFunction = (request: PartRequest, target?: BodyTarget, options?: SendOptions) => Promise<PartResponse>;

/** Headers that UploadPart, CompleteMultipartUpload and AbortMultipartUpload carry over from the caller's request. */
export const PART_HEADERS = [
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-server-side-encryption-customer-key',
  'x-amz-server-side-encryption-customer-key-md5',
  'x-amz-request-payer',
  'x-amz-expected-bucket-owner',
];

export function pick(headers: Record<string, string>, keep: (name: string) => boolean): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => keep(name)));
}

/** A part S3 already holds, from ListParts; checksums by algorithm name (`CRC32C`, ...). */
export interface ListedPart {
  etag: string;
  size: number;
  checksums: Record<string, string>;
}

/** One part for CompleteMultipartUpload: its ETag and any checksum elements. */
export interface CompletedPart {
  etag: string;
  checksumXml?: string;
}

export class MultipartUpload {
  uploadId: string | null = null;
  readonly #send: SendFunction;
  readonly #base: PartRequest;

  /** `base` is the caller's request: its path names the object, its headers carry over. */
  constructor(send: SendFunction, base: PartRequest) {
    this.#send = send;
    this.#base = base;
  }

  /** Headers every request about a part carries (customer keys, requester pays, expected owner). */
  get partHeaders(): Record<string, string> {
    return pick(this.#base.headers, (name) => PART_HEADERS.includes(name));
  }

  /** Starts the upload. A cancel does not cut off the answer: without its UploadId the upload could not be aborted. */
  async create(headers: Record<string, string>): Promise<string> {
    const target = new CollectTarget();
    await this.#send({ ...this.#base, operationName: 'CreateMultipartUpload', method: 'POST', query: { ...this.#base.query, uploads: '' }, headers }, target, {
      checkErrorBody: true,
      shielded: true,
    });
    const uploadId = textOf(parseXml(target.body)?.InitiateMultipartUploadResult, 'UploadId');
    if (!uploadId) throw new InvalidResponseError('CreateMultipartUpload answered without an UploadId', 'AWS_ERROR_S3_MISSING_UPLOAD_ID');
    this.uploadId = uploadId;
    return uploadId;
  }

  /** Completes the upload; the response's headers, with the ETag from the result document when not a header. */
  async complete(parts: CompletedPart[], headers: Record<string, string> = {}): Promise<{ statusCode: number; headers: ResponseHeaders }> {
    const list = parts
      .map((part, index) => `<Part><PartNumber>${index + 1}</PartNumber><ETag>${escapeXmlKeepingQuotes(part.etag)}</ETag>${part.checksumXml ?? ''}</Part>`)
      .join('');
    const target = new CollectTarget();
    const response = await this.#send(
      {
        operationName: 'CompleteMultipartUpload',
        method: 'POST',
        path: this.#base.path,
        query: { uploadId: this.uploadId! },
        headers: { ...this.partHeaders, 'content-type': 'application/xml', ...headers },
        body: Buffer.from(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${list}</CompleteMultipartUpload>`),
      },
      target,
      { checkErrorBody: true },
    );
    const result = parseXml(target.body)?.CompleteMultipartUploadResult;
    if (!result) throw new InvalidResponseError('CompleteMultipartUpload answered without a CompleteMultipartUploadResult document');
    const responseHeaders: ResponseHeaders = { ...response.headers };
    // The result document carries what a PutObject gives in headers: the ETag and the object's checksum.
    const etag = textOf(result, 'ETag');
    if (etag && !responseHeaders.etag) responseHeaders.etag = etag;
    for (const [name, value] of Object.entries(result as Record<string, unknown>)) {
      const header = name === 'ChecksumType' ? 'x-amz-checksum-type' : name.startsWith('Checksum') ? `x-amz-checksum-${name.slice(8).toLowerCase()}` : null;
      if (header && typeof value === 'string' && !responseHeaders[header]) responseHeaders[header] = value;
    }
    return { statusCode: response.statusCode, headers: responseHeaders };
  }

  /** The parts S3 already holds (ListParts, page by page), by part number. */
  async listParts(): Promise<Map<number, ListedPart>> {
    const parts = new Map<number, ListedPart>();
    let marker: string | null = null;
    do {
      const target = new CollectTarget();
      await this.#send(
        {
          operationName: 'ListParts',
          method: 'GET',
          path: this.#base.path,
          query: { uploadId: this.uploadId!, ...(marker ? { 'part-number-marker': marker } : {}) },
          headers: this.partHeaders,
        },
        target,
        { checkErrorBody: true },
      );
      const result = parseXml(target.body)?.ListPartsResult as Record<string, unknown> | undefined;
      if (!result) throw new InvalidResponseError('ListParts answered without a ListPartsResult document', 'AWS_ERROR_S3_LIST_PARTS_PARSE_FAILED');
      for (const part of elementsOf(result, 'Part')) {
        const number = Number(textOf(part, 'PartNumber'));
        const etag = textOf(part, 'ETag');
        const size = Number(textOf(part, 'Size'));
        if (!Number.isSafeInteger(number) || !etag || !Number.isSafeInteger(size))
          throw new InvalidResponseError('ListParts listed a part without its number, ETag or size', 'AWS_ERROR_S3_LIST_PARTS_PARSE_FAILED');
        const checksums: Record<string, string> = {};
        for (const [name, value] of Object.entries(part as Record<string, unknown>)) {
          if (name.startsWith('Checksum') && typeof value === 'string') checksums[name.slice('Checksum'.length)] = value;
        }
        parts.set(number, { etag, size, checksums });
      }
      marker = textOf(result, 'IsTruncated') === 'true' ? textOf(result, 'NextPartNumberMarker') : null;
    } while (marker);
    return parts;
  }

  /** Aborts the upload, if it was created; never throws, as it runs while a transfer fails. */
  async abort(): Promise<void> {
    if (!this.uploadId) return;
    await this.#send(
      { operationName: 'AbortMultipartUpload', method: 'DELETE', path: this.#base.path, query: { uploadId: this.uploadId }, headers: this.partHeaders },
      undefined,
      { cleanup: true },
    ).catch(() => {});
  }
}
