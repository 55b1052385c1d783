/**
 * CopyObject, server side: a HEAD of the source for its size, then one CopyObject
 * at or under the threshold, else a multipart upload whose parts are
 * UploadPartCopy requests for byte ranges of the source, run in parallel. No
 * object byte passes through the client, so parts reserve no memory. A
 * multipart copy carries the source's content headers and metadata over, as
 * CopyObject does, unless the caller replaces them.
 */
import { InvalidResponseError, lengthFault } from '../core/errors.js';
import { parseByteCount } from '../http/h1-parser.js';
import { parseXml, textOf } from '../protocol/xml.js';
import { headerValue } from '../http/headers.js';
import type { Lease } from './buffer-pool.js';
import { CollectTarget, MetaRequest, type MetaRequestContext, type PartRequest, type ResponseHeaders, type S3RequestCallbacks } from './meta-request.js';
import { MultipartUpload, pick } from './multipart-upload.js';
import { partRange, planUpload } from './part-planner.js';

export interface CopyObjectOptions {
  /** The caller's PUT with `x-amz-copy-source`. */
  request: PartRequest;
  /** The HEAD that finds the source's size; null when the size is given. */
  head: PartRequest | null;
  sourceSize: number | null;
  partSize: number;
  multipartUploadThreshold: number;
}

/** Headers of the source a multipart copy takes over (CopyObject does this itself). */
const CONTENT_HEADERS =
  /^(content-type|content-encoding|content-language|content-disposition|cache-control|expires|x-amz-meta-.*|x-amz-website-redirect-location)$/;
/** Headers that belong to the copy request only, never to CreateMultipartUpload. */
const COPY_ONLY_HEADERS = /^(x-amz-copy-source.*|x-amz-metadata-directive|x-amz-tagging-directive|content-length)$/;
/** Headers each UploadPartCopy carries: the source, its conditions and its encryption key. */
const PART_COPY_HEADERS = /^x-amz-copy-source.*$/;

type Phase = 'head' | 'single' | 'create' | 'parts' | 'busy';

export class CopyObject extends MetaRequest {
  readonly #base: PartRequest;
  readonly #head: PartRequest | null;
  readonly #threshold: number;
  readonly #upload: MultipartUpload;
  #requestedPartSize: number;
  #size: number | null;
  #partSize = 0;
  #partCount = 0;
  #sourceHeaders: ResponseHeaders = {};
  #phase: Phase;
  #nextPart = 0;
  #copied = 0;
  #etags: string[] = [];

  constructor(context: MetaRequestContext, callbacks: S3RequestCallbacks, options: CopyObjectOptions) {
    super(context, callbacks);
    this.#base = options.request;
    this.#head = options.head;
    this.#size = options.sourceSize;
    this.#threshold = options.multipartUploadThreshold;
    this.#requestedPartSize = options.partSize;
    this.#upload = new MultipartUpload((request, target, sendOptions) => this.send(request, target, sendOptions), options.request);
    this.#phase = this.#size === null ? 'head' : this.#phaseForSize(this.#size);
  }

  #phaseForSize(size: number): Phase {
    if (size <= this.#threshold) return 'single';
    const plan = planUpload(size, this.#requestedPartSize);
    this.#partSize = plan.partSize;
    this.#partCount = plan.partCount;
    return 'create';
  }

  nextPartMemory(): number | null {
    if (this.#phase === 'busy') return null;
    if (this.#phase === 'parts' && this.#nextPart >= this.#partCount) return null;
    return 0;
  }

  startNextPart(_lease: Lease | null): Promise<void> {
    const phase = this.#phase;
    if (phase === 'parts') {
      const index = this.#nextPart++;
      return this.track(() => this.#copyPart(index));
    }
    this.#phase = 'busy';
    if (phase === 'head') return this.track(() => this.#headSource());
    if (phase === 'single') return this.track(() => this.#copySingle());
    return this.track(() => this.#create());
  }

  async #headSource(): Promise<void> {
    const response = await this.send(this.#head!);
    const text = headerValue(response.headers, 'content-length');
    const length = parseByteCount(text);
    if (length === null) throw new InvalidResponseError('HeadObject of the copy source answered without a valid Content-Length', lengthFault(text));
    this.#size = length;
    this.#sourceHeaders = response.headers;
    this.#phase = this.#phaseForSize(length);
    this.context.wake();
  }

  async #copySingle(): Promise<void> {
    const target = new CollectTarget();
    const response = await this.send({ ...this.#base, operationName: 'CopyObject' }, target, { checkErrorBody: true });
    const headers: ResponseHeaders = { ...response.headers };
    const etag = textOf(parseXml(target.body)?.CopyObjectResult, 'ETag');
    if (etag && !headers.etag) headers.etag = etag;
    this.emitHeaders(response.statusCode, headers);
    this.progress(this.#size ?? 0);
    this.succeed(response.statusCode);
  }

  async #create(): Promise<void> {
    const replace = this.#base.headers['x-amz-metadata-directive']?.toUpperCase() === 'REPLACE';
    const inherited = replace ? {} : pick(flatten(this.#sourceHeaders), (name) => CONTENT_HEADERS.test(name));
    await this.#upload.create({ ...inherited, ...pick(this.#base.headers, (name) => !COPY_ONLY_HEADERS.test(name)) });
    this.#phase = 'parts';
    this.context.wake();
  }

  async #copyPart(index: number): Promise<void> {
    const range = partRange(0, this.#size! - 1, this.#partSize, index);
    const target = new CollectTarget();
    await this.send(
      {
        operationName: 'UploadPartCopy',
        method: 'PUT',
        path: this.#base.path,
        query: { partNumber: String(index + 1), uploadId: this.#upload.uploadId! },
        headers: {
          ...this.#upload.partHeaders,
          ...pick(this.#base.headers, (name) => PART_COPY_HEADERS.test(name)),
          'x-amz-copy-source-range': `bytes=${range.start}-${range.end}`,
        },
      },
      target,
      { checkErrorBody: true },
    );
    const etag = textOf(parseXml(target.body)?.CopyPartResult, 'ETag');
    if (!etag) throw new InvalidResponseError(`UploadPartCopy ${index + 1} answered without an ETag`, 'AWS_ERROR_S3_MISSING_ETAG');
    this.#etags[index] = etag;
    this.progress(range.end - range.start + 1);
    if (++this.#copied < this.#partCount || !this.active) return;
    await this.succeedWith(async () => {
      const response = await this.#upload.complete(this.#etags.map((partEtag) => ({ etag: partEtag })));
      this.emitHeaders(response.statusCode, response.headers);
      return response.statusCode;
    });
  }

  protected async cleanUpAfterFailure(): Promise<void> {
    await this.#upload.abort();
  }
}

function flatten(headers: ResponseHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}
