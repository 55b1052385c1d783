/**
 * PutObject: one request at or under the threshold, else a multipart upload:
 * CreateMultipartUpload, UploadParts in parallel (each read from the file at its
 * offset into a reserved buffer, or sliced from the caller's Buffer, or read in
 * turn from a stream), then CompleteMultipartUpload with the ETags in order.
 * Any failure or cancel sends AbortMultipartUpload, so no upload is left behind.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { FileIoError, InvalidArgumentError, InvalidResponseError } from '../core/errors.js';
import { headerValue } from '../http/headers.js';
import { leasePrefix, type Lease } from './buffer-pool.js';
import { MetaRequest, type MetaRequestContext, type PartRequest, type PartResponse, type S3RequestCallbacks } from './meta-request.js';
import { MultipartUpload, pick, type ListedPart } from './multipart-upload.js';
import { MAX_PARTS, planUpload } from './part-planner.js';
import { withChecksum, type ChecksumSource, type RequestChecksum } from './request-checksum.js';
import { digestOf, isShared } from '../checksums/checksum-threads.js';
import { S3ChecksumAlgorithm } from '../core/enums.js';
import { checksumName, combineChecksums, createChecksum, isCrc } from '../checksums/index.js';
import { StreamReader } from './stream-reader.js';

/** Bytes per read of a file sent as one PutObject: 1 MiB, where the stream default (64 KiB) is 16 socket writes per MiB. */
const FILE_CHUNK = 1024 * 1024;

/** The body of an upload. */
export type PutBody =
  | { kind: 'file'; path: string; size: number }
  | { kind: 'buffer'; data: Buffer }
  | { kind: 'stream'; source: AsyncIterable<Uint8Array | string>; size: number | null };

export interface AutoRangedPutOptions {
  /** The caller's PUT; its headers go to PutObject or CreateMultipartUpload. */
  request: PartRequest;
  body: PutBody;
  partSize: number;
  multipartUploadThreshold: number;
  /** The checksum to send with every request that carries data, or null. */
  checksum: RequestChecksum | null;
  /** Continue this multipart upload: parts S3 already holds are not sent again. */
  resume: S3ResumeToken | null;
  /** Called once the multipart upload exists, with what a later resume needs. */
  onResumeToken: ((token: S3ResumeToken) => void) | null;
  /** Abort the multipart upload when the transfer fails or is cancelled (the default); false keeps it for a resume. */
  abortOnFailure: boolean;
}

/** What continuing a multipart upload needs: its id, and the part size and total size it was started with. */
export interface S3ResumeToken {
  uploadId: string;
  partSize: number;
  totalSize: number;
}

/** Headers that describe one body and so never go to CreateMultipartUpload. */
const BODY_HEADERS =
  /^(content-length|content-md5|expect|transfer-encoding|x-amz-checksum-.*|x-amz-decoded-content-length|x-amz-trailer|x-amz-sdk-checksum-algorithm)$/;

type Phase = 'single' | 'probe' | 'create' | 'parts' | 'busy';

export class AutoRangedPut extends MetaRequest {
  readonly #base: PartRequest;
  readonly #body: PutBody;
  readonly #threshold: number;
  readonly #checksum: RequestChecksum | null;
  #partSize: number;
  /** Each uploaded part's checksum (base64) and size, by index, for CompleteMultipartUpload. */
  #partChecksums: Array<{ value: string; size: number }> = [];
  /** Known once the size is known; for a stream without length, once it ends. */
  #partCount: number | null = null;
  #phase: Phase;
  readonly #upload: MultipartUpload;
  #etags: string[] = [];
  #nextPart = 0;
  #uploaded = 0;
  #completing = false;
  #file: FileHandle | null = null;
  #reader: StreamReader | null = null;
  #reading = false;
  /** A stream's first part, read before it was known whether the upload is multipart. */
  #firstPart: Lease | null = null;
  readonly #resume: S3ResumeToken | null;
  readonly #onResumeToken: ((token: S3ResumeToken) => void) | null;
  readonly #abortOnFailure: boolean;
  /** On a resume, the parts S3 already holds. */
  #existing = new Map<number, ListedPart>();

  constructor(context: MetaRequestContext, callbacks: S3RequestCallbacks, options: AutoRangedPutOptions) {
    super(context, callbacks);
    this.#base = options.request;
    this.#body = options.body;
    this.#threshold = options.multipartUploadThreshold;
    this.#checksum = options.checksum;
    this.#partSize = options.partSize;
    this.#resume = options.resume;
    this.#onResumeToken = options.onResumeToken;
    this.#abortOnFailure = options.abortOnFailure;
    this.#upload = new MultipartUpload((request, target, sendOptions) => this.send(request, target, sendOptions), options.request);
    if (options.body.kind === 'stream') this.#reader = new StreamReader(options.body.source);
    const size = AutoRangedPut.sizeOf(options.body);
    if (size === null) {
      this.#phase = 'probe';
    } else if (size <= this.#threshold) {
      this.#phase = 'single';
    } else {
      const plan = planUpload(size, options.resume?.partSize ?? options.partSize);
      if (options.resume && (plan.partSize !== options.resume.partSize || size !== options.resume.totalSize)) {
        throw new InvalidArgumentError(
          'resumeToken',
          `was made for ${options.resume.totalSize} bytes in parts of ${options.resume.partSize}; this body has ${size} bytes`,
        );
      }
      this.#partSize = plan.partSize;
      this.#partCount = plan.partCount;
      this.#phase = 'create';
    }
    if (options.resume && this.#phase !== 'create') throw new InvalidArgumentError('resumeToken', 'this body is too small for a multipart upload');
  }

  /** Parts checksummed on checksum threads are read there in place, from shared memory, while they are sent. */
  get sharedMemory(): boolean {
    return this.#checksum !== null;
  }

  /** The body's size when known before reading it. */
  static sizeOf(body: PutBody): number | null {
    return body.kind === 'buffer' ? body.data.length : body.size;
  }

  /** Size of the largest buffer this upload will reserve at once, to check it against the memory limit. */
  static largestLease(body: PutBody, partSize: number, threshold: number): number {
    if (body.kind === 'buffer') return 0;
    const size = AutoRangedPut.sizeOf(body);
    if (size === null) return partSize;
    if (size <= threshold) return body.kind === 'stream' ? size : 0;
    return planUpload(size, partSize).partSize;
  }

  nextPartMemory(): number | null {
    switch (this.#phase) {
      case 'single':
        return this.#body.kind === 'stream' ? this.#body.size! : 0;
      case 'probe':
        return this.#partSize;
      case 'create':
        return 0;
      case 'parts':
        return this.#nextPartMemory();
      default:
        return null;
    }
  }

  #nextPartMemory(): number | null {
    if (this.#partCount !== null && this.#nextPart >= this.#partCount) return null;
    if (this.#firstPart && this.#nextPart === 0) return 0;
    switch (this.#body.kind) {
      case 'buffer':
        return 0;
      case 'file':
        return this.#reusableAsIs(this.#nextPart) ? 0 : this.#partLength(this.#nextPart);
      case 'stream':
        if (this.#reading) return null;
        return this.#body.size === null ? this.#partSize : this.#partLength(this.#nextPart);
    }
  }

  startNextPart(lease: Lease | null): Promise<void> {
    const phase = this.#phase;
    if (phase === 'parts') {
      const index = this.#nextPart++;
      return this.track(() => this.#uploadPart(index, lease));
    }
    this.#phase = 'busy';
    if (phase === 'single') return this.track(() => this.#putSingle(lease));
    if (phase === 'probe') return this.track(() => this.#probe(lease!));
    return this.track(() => this.#create());
  }

  #partLength(index: number): number {
    const size = AutoRangedPut.sizeOf(this.#body)!;
    return Math.min(this.#partSize, size - index * this.#partSize);
  }

  /** A stream of unknown length: its first part decides between one PutObject and a multipart upload. */
  async #probe(lease: Lease): Promise<void> {
    let length: number;
    try {
      length = await this.#reader!.fill(lease.buffer);
      if (length < lease.buffer.length || (await this.#reader!.atEnd())) {
        return await this.#putSingle(leasePrefix(lease, length));
      }
    } catch (error) {
      lease.release();
      throw error;
    }
    this.#firstPart = lease;
    this.#phase = 'create';
    this.context.wake();
  }

  async #putSingle(lease: Lease | null): Promise<void> {
    try {
      const body = this.#body;
      let request: PartRequest;
      let length: number;
      let source: ChecksumSource;
      if (body.kind === 'file') {
        request = { ...this.#base, operationName: 'PutObject', body: () => createReadStream(body.path, { highWaterMark: FILE_CHUNK }), bodyLength: body.size };
        length = body.size;
        source = { kind: 'file', path: body.path, size: body.size };
      } else {
        // A stream of declared length is read here; one of unknown length was read by #probe.
        // A zero-byte body reserves nothing, so it comes without a lease.
        const buffer = lease?.buffer ?? Buffer.alloc(0);
        if (body.kind === 'stream' && body.size !== null) await this.#readExactly(buffer, body.size);
        const data = body.kind === 'buffer' ? body.data : buffer;
        request = { ...this.#base, operationName: 'PutObject', body: data };
        length = data.length;
        source = { kind: 'buffer', data };
      }
      if (this.#checksum) request = await withChecksum(request, source, this.#checksum, () => {});
      const response = await this.send(request);
      this.emitHeaders(response.statusCode, response.headers);
      this.progress(length);
      this.succeed(response.statusCode);
    } finally {
      lease?.release();
    }
  }

  /** Reads a stream of declared length into `buffer`, failing when it is shorter or longer. */
  async #readExactly(buffer: Buffer, declared: number): Promise<void> {
    const length = await this.#reader!.fill(buffer);
    if (length < declared || !(await this.#reader!.atEnd())) throw this.#lengthMismatch(declared, length, length < declared);
  }

  #lengthMismatch(declared: number, read: number, short: boolean): FileIoError {
    return new FileIoError(`the body stream ${short ? `ended after ${read} bytes` : 'is longer'} than its Content-Length of ${declared}`, null);
  }

  async #create(): Promise<void> {
    if (this.#body.kind === 'file') {
      try {
        this.#file = await open(this.#body.path, 'r');
      } catch (error) {
        throw new FileIoError(`cannot open ${this.#body.path}: ${(error as Error).message}`, error);
      }
    }
    if (this.#resume) {
      this.#upload.uploadId = this.#resume.uploadId;
      this.#existing = await this.#upload.listParts();
    } else {
      await this.#upload.create({ ...pick(this.#base.headers, (name) => !BODY_HEADERS.test(name)), ...this.#checksumAnnouncement() });
    }
    const size = AutoRangedPut.sizeOf(this.#body);
    if (size !== null) this.callUser(this.#onResumeToken ?? undefined, { uploadId: this.#upload.uploadId!, partSize: this.#partSize, totalSize: size });
    this.#phase = 'parts';
    this.context.wake();
  }

  async #uploadPart(index: number, lease: Lease | null): Promise<void> {
    const preRead = index === 0 && this.#firstPart !== null;
    if (preRead) {
      lease = this.#firstPart;
      this.#firstPart = null;
    }
    try {
      if (this.#reusableAsIs(index)) this.#reuse(index, null);
      else {
        const body = await this.#partBody(index, lease, preRead);
        if (body !== null && !this.#reusedAfterCheck(index, body)) await this.#sendPart(index, body);
      }
    } finally {
      lease?.release();
    }
    await this.#completeWhenDone();
  }

  /** A part S3 holds with the right size, on an upload without checksums: taken as it is, as aws-c-s3 does. */
  #reusableAsIs(index: number): boolean {
    const listed = this.#existing.get(index + 1);
    return listed !== undefined && !this.#checksum && listed.size === this.#partLength(index);
  }

  /** With a checksum, a part S3 holds is kept only when its checksum is that of the bytes here. */
  #reusedAfterCheck(index: number, body: Buffer): boolean {
    const listed = this.#existing.get(index + 1);
    if (!listed || !this.#checksum || listed.size !== body.length) return false;
    const checksum = createChecksum(this.#checksum.algorithm);
    checksum.update(body);
    const value = checksum.digestBase64();
    if (listed.checksums[S3ChecksumAlgorithm[this.#checksum.algorithm]] !== value) return false;
    this.#reuse(index, value);
    return true;
  }

  #reuse(index: number, checksum: string | null): void {
    const listed = this.#existing.get(index + 1)!;
    this.#etags[index] = listed.etag;
    if (checksum !== null) this.#partChecksums[index] = { value: checksum, size: listed.size };
    this.progress(listed.size);
    this.#uploaded++;
  }

  /** Sends one part, its checksum computed meanwhile on a checksum thread when its buffer is shared. */
  async #sendPart(index: number, body: Buffer): Promise<void> {
    let request: PartRequest = {
      operationName: 'UploadPart',
      method: 'PUT',
      path: this.#base.path,
      query: { partNumber: String(index + 1), uploadId: this.#upload.uploadId! },
      headers: this.#upload.partHeaders,
      body,
    };
    const checksum = this.#checksum;
    const threaded = checksum && isShared(body) ? digestOf(checksum.algorithm, body) : null;
    let response: PartResponse;
    try {
      if (checksum) {
        const source: ChecksumSource = { kind: 'buffer', data: body };
        if (threaded) source.value = threaded.then(({ digest }) => digest.toString('base64'));
        request = await withChecksum(request, source, checksum, (value) => (this.#partChecksums[index] = { value, size: body.length }));
      }
      response = await this.send(request);
    } finally {
      // The thread reads the part's buffer, which goes back to the pool after this, until it is done.
      await threaded?.catch(() => {});
    }
    const etag = headerValue(response.headers, 'etag');
    if (!etag) throw new InvalidResponseError(`UploadPart ${index + 1} answered without an ETag`, 'AWS_ERROR_S3_MISSING_ETAG');
    this.#etags[index] = etag;
    this.progress(body.length);
    this.#uploaded++;
  }

  /** The bytes of part `index`, or null when a stream turned out to end exactly where the previous part did. */
  async #partBody(index: number, lease: Lease | null, preRead: boolean): Promise<Buffer | null> {
    const body = this.#body;
    const offset = index * this.#partSize;
    if (body.kind === 'buffer') return body.data.subarray(offset, offset + this.#partLength(index));
    const buffer = lease!.buffer;
    if (body.kind === 'file') {
      await this.#readFileAt(buffer, offset, body.path);
      return buffer;
    }
    if (preRead) return buffer;
    let length: number;
    let ended: boolean;
    this.#reading = true;
    try {
      length = await this.#reader!.fill(buffer);
      ended = length < buffer.length || (await this.#reader!.atEnd());
    } finally {
      this.#reading = false;
    }
    if (body.size !== null) {
      // A declared length fixed the plan: the stream must match it part for part.
      const last = index === this.#partCount! - 1;
      if (length < buffer.length || (last && !ended)) throw this.#lengthMismatch(body.size, this.#reader!.consumed, length < buffer.length);
    } else if (ended) {
      this.#partCount = length === 0 ? index : index + 1;
    } else if (index + 1 >= MAX_PARTS) {
      throw new InvalidArgumentError('partSize', `the body stream needs more than ${MAX_PARTS} parts of ${this.#partSize} bytes; raise partSize`);
    }
    // The next part may start reading now.
    this.context.wake();
    return length === 0 ? null : buffer.subarray(0, length);
  }

  async #readFileAt(buffer: Buffer, position: number, path: string): Promise<void> {
    let filled = 0;
    try {
      while (filled < buffer.length) {
        const { bytesRead } = await this.#file!.read(buffer, filled, buffer.length - filled, position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
    } catch (error) {
      throw new FileIoError(`cannot read ${path}: ${(error as Error).message}`, error);
    }
    if (filled < buffer.length) throw new FileIoError(`${path} became shorter while it was being uploaded`, null);
  }

  async #completeWhenDone(): Promise<void> {
    if (this.#completing || this.#partCount === null || this.#uploaded < this.#partCount || !this.active) return;
    this.#completing = true;
    const parts = this.#etags.map((etag, index) => ({ etag, checksumXml: this.#partChecksumXml(index) }));
    await this.succeedWith(async () => {
      const response = await this.#upload.complete(parts, this.#fullObjectChecksum());
      await this.#closeFile();
      this.emitHeaders(response.statusCode, response.headers);
      return response.statusCode;
    });
  }

  /** CreateMultipartUpload names the algorithm: CRCs as one full-object value, SHAs as S3's composite. */
  #checksumAnnouncement(): Record<string, string> {
    if (!this.#checksum) return {};
    const { algorithm } = this.#checksum;
    return { 'x-amz-checksum-algorithm': S3ChecksumAlgorithm[algorithm], 'x-amz-checksum-type': isCrc(algorithm) ? 'FULL_OBJECT' : 'COMPOSITE' };
  }

  #partChecksumXml(index: number): string {
    const part = this.#partChecksums[index];
    if (!this.#checksum || !part) return '';
    const element = `Checksum${S3ChecksumAlgorithm[this.#checksum.algorithm]}`;
    return `<${element}>${part.value}</${element}>`;
  }

  /** For a CRC, the whole object's value, combined from the parts' without reading a byte again. */
  #fullObjectChecksum(): Record<string, string> {
    if (!this.#checksum || !isCrc(this.#checksum.algorithm)) return {};
    const { algorithm } = this.#checksum;
    const [first, ...rest] = this.#partChecksums;
    const value = rest.reduce((combined, part) => combineChecksums(algorithm, combined, part.value, part.size), first!.value);
    return { [`x-amz-checksum-${checksumName(algorithm)}`]: value, 'x-amz-checksum-type': 'FULL_OBJECT' };
  }

  async #closeFile(): Promise<void> {
    const file = this.#file;
    this.#file = null;
    await file?.close();
  }

  protected async cleanUpAfterFailure(): Promise<void> {
    this.#firstPart?.release();
    this.#firstPart = null;
    await this.#closeFile().catch(() => {});
    await this.#reader?.close().catch(() => {});
    if (this.#abortOnFailure) await this.#upload.abort();
  }
}
