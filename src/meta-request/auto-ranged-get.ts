/**
 * GetObject split into ranged GETs. The first part doubles as discovery: its
 * Content-Range gives the object's size and its ETag pins the version, so every
 * later part carries If-Match and an object replaced mid-download fails cleanly
 * instead of mixing versions. Parts complete out of order; onBody sees them in
 * order, each held in its reserved buffer until its turn. With a file target,
 * each part is written at its offset as soon as it arrives.
 */
import { ChecksumMismatchError, InvalidResponseError, S3ResponseError, lengthFault, rangeFault } from '../core/errors.js';
import { parseByteCount } from '../http/h1-parser.js';
import { headerValue } from '../http/headers.js';
import { leasePrefix, type Lease } from './buffer-pool.js';
import { digestOf } from '../checksums/checksum-threads.js';
import { FileTarget, type DownloadState } from './file-target.js';
import { CompositeChecksum, ResponseChecksum } from './response-checksum.js';
import {
  BufferTarget,
  MetaRequest,
  type BodyTarget,
  type MetaRequestContext,
  type PartRequest,
  type ResponseHeaders,
  type S3RequestCallbacks,
} from './meta-request.js';
import { parseContentRange, partCountFor, partRange, rangeLength, type ByteRange, type RequestedRange } from './part-planner.js';

export interface AutoRangedGetOptions {
  /** The caller's GET, without its Range header. */
  request: PartRequest;
  /** The caller's Range header, parsed, or null for the whole object. */
  range: RequestedRange | null;
  partSize: number;
  recvFilepath: string | null;
  /** Compare the body with the checksum S3 stored (checksumConfig.validateResponse). */
  validate: boolean;
  /** With onBody: at most this many bytes are fetched beyond what onBody has taken; null for a part per part of the window. */
  readAhead: number | null;
  /** With recvFilepath: continue from (and leave behind, on failure) `<target>.s3tx-partial` and its state. */
  resumable: boolean;
}

/** A part's buffer, which must receive exactly the range asked for. */
class RangeTarget extends BufferTarget {
  readonly #range: ByteRange;
  constructor(buffer: Buffer, range: ByteRange) {
    super(buffer);
    this.#range = range;
  }
  start(statusCode: number, headers: ResponseHeaders): void {
    const got = parseContentRange(headerValue(headers, 'content-range') ?? '');
    if (statusCode !== 206 || !got || got.start !== this.#range.start || got.end !== this.#range.end) {
      throw new InvalidResponseError(
        `asked for bytes ${this.#range.start}-${this.#range.end}, got status ${statusCode} with Content-Range ${JSON.stringify(headerValue(headers, 'content-range') ?? null)}`,
        rangeFault(headers),
      );
    }
  }
}

type Phase = 'discover' | 'discovering' | 'parts' | 'whole';

export class AutoRangedGet extends MetaRequest {
  readonly #base: PartRequest;
  readonly #requested: RequestedRange | null;
  #partSize: number;
  readonly #recvFilepath: string | null;
  #file: FileTarget | null = null;
  #phase: Phase = 'discover';
  /** Object offsets of the first and last byte to fetch. */
  #first = 0;
  #last = -1;
  #partCount = 0;
  #nextPart = 0;
  #etag: string | null = null;
  #statusCode = 200;
  /** Parts received but not yet delivered to onBody, by index. */
  #ready = new Map<number, Lease>();
  #nextDelivery = 0;
  #written = 0;
  readonly #validate: boolean;
  readonly #readAhead: number | null;
  readonly #resumable: boolean;
  /** A resumable download's earlier state, until the object is known; then the parts written so far. */
  #earlier: DownloadState | null = null;
  #done = new Set<number>();
  /** The object's size, for the state file. */
  #stateSize = 0;
  /** The stored checksum being checked, once a response has named one. */
  #checksum: ResponseChecksum | null = null;
  /** A composite checksum checked part by part; parts are then fetched by part number. */
  #composite: CompositeChecksum | null = null;
  /** Set while one task writes parts to the file in order; others leave their parts to it. */
  #delivering = false;

  constructor(context: MetaRequestContext, callbacks: S3RequestCallbacks, options: AutoRangedGetOptions) {
    super(context, callbacks);
    this.#base = options.request;
    this.#requested = options.range;
    this.#partSize = options.partSize;
    this.#recvFilepath = options.recvFilepath;
    this.#validate = options.validate;
    this.#readAhead = options.readAhead;
    this.#resumable = options.resumable;
  }

  nextPartMemory(): number | null {
    if (this.#phase === 'discover') {
      const requested = this.#requested;
      if (requested?.kind === 'suffix') return 0;
      return requested?.end != null ? Math.min(this.#partSize, requested.end - requested.start + 1) : this.#partSize;
    }
    while (this.#done.has(this.#nextPart)) this.#nextPart++;
    if (this.#phase !== 'parts' || this.#nextPart >= this.#partCount) return null;
    // A consumer that reads slowly sets the pace: parts go out only within the read-ahead window.
    if (!this.#file && (this.#nextPart - this.#nextDelivery) * this.#partSize >= (this.#readAhead ?? this.maxInFlight * this.#partSize)) return null;
    return rangeLength(this.#rangeOf(this.#nextPart));
  }

  startNextPart(lease: Lease | null): Promise<void> {
    if (this.#phase === 'discover') {
      this.#phase = 'discovering';
      return this.track(() => this.#discover(lease));
    }
    const index = this.#nextPart++;
    return this.track(() => this.#fetchPart(index, lease!));
  }

  #rangeOf(index: number): ByteRange {
    return partRange(this.#first, this.#last, this.#partSize, index);
  }

  async #discover(lease: Lease | null): Promise<void> {
    try {
      if (this.#recvFilepath && this.#resumable) ({ target: this.#file, state: this.#earlier } = await FileTarget.createResumable(this.#recvFilepath));
      else if (this.#recvFilepath) this.#file = await FileTarget.create(this.#recvFilepath);
      const requested = this.#requested;
      if (requested?.kind === 'suffix') return await this.#discoverWithHead(requested.length);
      // Ranged parts carry no checksum: a validated download learns it, and the size, from HeadObject.
      if (this.#validate && !requested) {
        lease?.release();
        return await this.#discoverWithHead(null);
      }
      await this.#discoverWithFirstPart(lease!, requested?.start ?? 0);
    } catch (error) {
      lease?.release();
      // S3 answers a range on an empty object with 416; fetch it without one.
      const empty = error instanceof EmptyObject || (error instanceof S3ResponseError && error.statusCode === 416 && !this.#requested);
      if (empty && this.active) return this.#fetchWhole();
      throw error;
    }
  }

  /** The size first, from HeadObject: for a suffix range (`bytes=-N`), or the whole object with its checksum (`length` null). */
  async #discoverWithHead(length: number | null): Promise<void> {
    const headers = length === null ? { ...this.#base.headers, 'x-amz-checksum-mode': 'ENABLED' } : this.#base.headers;
    const response = await this.send({ ...this.#base, operationName: 'HeadObject', method: 'HEAD', headers });
    const size = parseByteCount(headerValue(response.headers, 'content-length'));
    if (size === null) {
      const text = headerValue(response.headers, 'content-length');
      throw new InvalidResponseError(`HeadObject answered without a valid Content-Length: ${JSON.stringify(text?.slice(0, 80) ?? null)}`, lengthFault(text));
    }
    this.#etag = headerValue(response.headers, 'etag') ?? null;
    if (length === null) {
      this.#checksum = ResponseChecksum.fromHeaders(response.headers);
      if (!this.#checksum && size > 0) await this.#followUploadParts(response.headers, size);
    }
    const visible: ResponseHeaders = { ...response.headers };
    // The checksum headers answer the HEAD's checksum mode, which the caller did not ask for.
    for (const name of Object.keys(visible)) if (name.startsWith('x-amz-checksum-') && !this.#base.headers['x-amz-checksum-mode']) delete visible[name];
    this.#plan(length === null ? 0 : Math.max(0, size - length), size - 1, size, visible);
    this.#nextPart = 0;
    this.context.wake();
    if (this.#partCount === 0) await this.#finish();
  }

  async #discoverWithFirstPart(lease: Lease, start: number): Promise<void> {
    let whole = false;
    let total = 0;
    const partTarget = new BufferTarget(lease.buffer);
    const wholeTarget = this.#streamingTarget(start);
    const target: BodyTarget = {
      start: (statusCode, headers) => {
        whole = statusCode !== 206;
        if (whole) return wholeTarget.start(statusCode, headers);
        const contentRange = headerValue(headers, 'content-range') ?? '';
        // Some servers answer a range on an empty object with 206 and a total of 0 instead of S3's 416.
        if (start === 0 && !this.#requested && /\/0\s*$/.test(contentRange)) throw new EmptyObject();
        const got = parseContentRange(contentRange);
        if (!got || got.start !== start || got.end > start + lease.buffer.length - 1) {
          throw new InvalidResponseError(`asked for bytes from ${start}, got Content-Range ${JSON.stringify(headerValue(headers, 'content-range') ?? null)}`, rangeFault(headers));
        }
        total = got.total;
      },
      data: (chunk, offset) => (whole ? wholeTarget.data(chunk, offset) : partTarget.data(chunk, offset)),
      destination: () => (whole ? null : partTarget.destination()),
      get committed() {
        return wholeTarget.committed;
      },
    };
    const response = await this.send(
      { ...this.#base, operationName: 'GetObject', headers: { ...this.#base.headers, range: `bytes=${start}-${start + lease.buffer.length - 1}` } },
      target,
    );
    if (whole) {
      lease.release();
      return this.#finishWhole(response.statusCode);
    }
    const requestedEnd = this.#requested?.kind === 'from' ? this.#requested.end : null;
    this.#etag = headerValue(response.headers, 'etag') ?? null;
    this.#plan(start, Math.min(requestedEnd ?? total - 1, total - 1), total, response.headers);
    const firstLength = rangeLength(this.#rangeOf(0));
    if (response.length !== firstLength) throw new InvalidResponseError(`the first part has ${response.length} bytes, expected ${firstLength}`, 'AWS_ERROR_S3_INCORRECT_CONTENT_LENGTH');
    this.#nextPart = 1;
    await this.#continueEarlier(total);
    this.context.wake();
    await this.#partReceived(0, firstLength === lease.buffer.length ? lease : leasePrefix(lease, firstLength));
  }

  /**
   * For a composite checksum, fetch the object by its upload's part numbers when the parts can be
   * placed: the first part's size from HeadObject, all but the last of that size, and small
   * enough to reserve. Otherwise the download goes on by ranges, unvalidated.
   */
  async #followUploadParts(headers: ResponseHeaders, size: number): Promise<void> {
    const composite = CompositeChecksum.fromHeaders(headers);
    if (!composite) return;
    const first = await this.send({
      ...this.#base,
      operationName: 'HeadObject',
      method: 'HEAD',
      query: { ...this.#base.query, partNumber: '1' },
      headers: { ...this.#base.headers, 'x-amz-checksum-mode': 'ENABLED' },
    });
    const partSize = parseByteCount(headerValue(first.headers, 'content-length'));
    const count = Number(headerValue(first.headers, 'x-amz-mp-parts-count') ?? composite.parts);
    const placeable = partSize !== null && partSize > 0 && count === composite.parts && (count - 1) * partSize < size && size <= count * partSize;
    if (!placeable || partSize > this.context.maxPartMemory) return;
    this.#partSize = partSize;
    this.#composite = composite;
  }

  /** Sets the parts to fetch and tells the caller the headers of the whole response. */
  #plan(first: number, last: number, total: number, headers: ResponseHeaders): void {
    this.#first = first;
    this.#last = last;
    this.#partCount = partCountFor(first, last, this.#partSize);
    this.#phase = 'parts';
    this.#statusCode = this.#requested ? 206 : 200;
    const whole: ResponseHeaders = { ...headers, 'content-length': String(Math.max(0, last - first + 1)) };
    delete whole['content-range'];
    if (this.#requested && last >= first) whole['content-range'] = `bytes ${first}-${last}/${total}`;
    this.emitHeaders(this.#statusCode, whole);
  }


  async #fetchPart(index: number, lease: Lease): Promise<void> {
    try {
      const range = this.#rangeOf(index);
      const byPart = this.#composite !== null;
      const headers: Record<string, string> = byPart
        ? { ...this.#base.headers, 'x-amz-checksum-mode': 'ENABLED' }
        : { ...this.#base.headers, range: `bytes=${range.start}-${range.end}` };
      if (this.#etag && !('if-match' in headers)) headers['if-match'] = this.#etag;
      const query = byPart ? { ...this.#base.query, partNumber: String(index + 1) } : this.#base.query;
      // A part whose bytes fail its checksum is fetched once more before the download fails.
      for (let attempt = 0; ; attempt++) {
        const response = await this.send({ ...this.#base, operationName: 'GetObject', query, headers }, new RangeTarget(lease.buffer, range));
        if (response.length !== lease.buffer.length)
          throw new InvalidResponseError(`part ${index + 1} has ${response.length} bytes, expected ${lease.buffer.length}`, 'AWS_ERROR_S3_INCORRECT_CONTENT_LENGTH');
        const checksum = this.#composite ?? (this.#checksum?.combinable ? this.#checksum : null);
        if (!checksum) break;
        // The part's bytes go to a checksum thread and back while other parts arrive.
        const { digest, data } = await digestOf(checksum.algorithm, lease.buffer);
        lease.adopt(data);
        if (checksum instanceof ResponseChecksum) {
          checksum.addPart(index, digest, data.length);
          break;
        }
        try {
          checksum.checkPart(index, digest, response.headers);
          break;
        } catch (error) {
          if (!(error instanceof ChecksumMismatchError) || attempt > 0) throw error;
        }
      }
    } catch (error) {
      lease.release();
      throw error;
    }
    await this.#partReceived(index, lease);
  }

  async #partReceived(index: number, lease: Lease): Promise<void> {
    const checksum = this.#checksum;
    // A hash (not a CRC) must see the bytes in order, so its parts queue like onBody's.
    if (!this.#file || (checksum && !checksum.combinable)) {
      this.#ready.set(index, lease);
      return this.#deliverInOrder();
    }
    try {
      await this.#file.write(lease.buffer, index * this.#partSize);
    } finally {
      lease.release();
    }
    this.progress(lease.buffer.length);
    if (this.#resumable) {
      this.#done.add(index);
      await this.#saveState();
    }
    if (++this.#written === this.#partCount) await this.#finish();
  }

  async #deliverInOrder(): Promise<void> {
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let lease = this.#ready.get(this.#nextDelivery); lease && this.active; lease = this.#ready.get(this.#nextDelivery)) {
        this.#ready.delete(this.#nextDelivery);
        const offset = this.#nextDelivery * this.#partSize;
        try {
          if (this.#checksum && !this.#checksum.combinable) this.#checksum.update(lease.buffer);
          if (this.#file) await this.#file.write(lease.buffer, offset);
          // A Promise from onBody holds this part's memory, and the next part, until it settles: backpressure.
          else await this.callUser(this.callbacks.onBody, lease.buffer, offset);
        } finally {
          lease.release();
        }
        this.progress(lease.buffer.length);
        this.#nextDelivery++;
        this.context.wake();
      }
    } finally {
      this.#delivering = false;
    }
    if (this.#nextDelivery === this.#partCount) await this.#finish();
  }

  async #finish(): Promise<void> {
    const checksum = this.#checksum ?? this.#composite;
    if (checksum) {
      checksum.verify();
      this.validatedChecksum = checksum.algorithm;
    }
    await this.succeedWith(async () => {
      await this.#file?.commit();
      this.#file = null;
      return this.#statusCode;
    });
  }

  /** A GET without Range, delivered as it streams. */
  async #fetchWhole(): Promise<void> {
    const headers = this.#validate ? { ...this.#base.headers, 'x-amz-checksum-mode': 'ENABLED' } : this.#base.headers;
    const response = await this.send({ ...this.#base, operationName: 'GetObject', headers }, this.#streamingTarget(0));
    await this.#finishWhole(response.statusCode);
  }

  async #finishWhole(statusCode: number): Promise<void> {
    this.#statusCode = statusCode;
    await this.#file?.flush();
    await this.#finish();
  }

  /**
   * Delivers a whole-object response in arrival order: to onBody, or appended to the
   * file. Bytes outside a requested range (a server that ignored Range) are skipped.
   */
  #streamingTarget(start: number): Required<Pick<BodyTarget, 'start' | 'data'>> & { readonly committed: boolean } {
    const end = this.#requested?.kind === 'from' ? (this.#requested.end ?? Infinity) : Infinity;
    let committed = false;
    return {
      start: (statusCode, headers) => {
        this.#phase = 'whole';
        if (this.#validate && !this.#requested && statusCode === 200) this.#checksum = ResponseChecksum.fromHeaders(headers);
        this.emitHeaders(statusCode, headers);
      },
      data: (chunk, offset) => {
        const from = Math.max(0, start - offset);
        const to = Math.min(chunk.length, end + 1 - offset);
        if (to <= from) return;
        const slice = chunk.subarray(from, to);
        committed = true;
        this.#checksum?.update(slice);
        if (this.#file) this.#file.append(slice);
        else this.callUser(this.callbacks.onBody, slice, offset + from - start);
        this.progress(slice.length);
      },
      get committed() {
        return committed;
      },
    };
  }

  /**
   * A resumable download of the same object (ETag, size, part size) as an earlier attempt skips
   * the parts that attempt wrote; their bytes count as progress at once.
   */
  async #continueEarlier(total: number): Promise<void> {
    if (!this.#resumable) return;
    const earlier = this.#earlier;
    this.#earlier = null;
    const same =
      earlier && this.#etag && earlier.etag === this.#etag && earlier.size === total && earlier.partSize === this.#partSize && earlier.first === this.#first;
    if (same) {
      for (const index of earlier.done) {
        if (index <= 0 || index >= this.#partCount || this.#done.has(index)) continue;
        this.#done.add(index);
        this.#written++;
        this.progress(rangeLength(this.#rangeOf(index)));
      }
    }
    await this.#saveState(total);
  }

  async #saveState(total?: number): Promise<void> {
    if (total !== undefined) this.#stateSize = total;
    await this.#file?.saveState({ etag: this.#etag ?? '', size: this.#stateSize, first: this.#first, partSize: this.#partSize, done: [...this.#done] });
  }

  protected async cleanUpAfterFailure(): Promise<void> {
    for (const lease of this.#ready.values()) lease.release();
    this.#ready.clear();
    // A resumable download keeps what it wrote, unless the object itself changed under it.
    const changed = this.failure instanceof S3ResponseError && this.failure.statusCode === 412;
    if (this.#resumable && !changed) await this.#file?.keep();
    else await this.#file?.discard();
    this.#file = null;
  }
}

/** Discovery found an object of zero bytes; thrown to stop reading a response that has nothing to give. */
class EmptyObject extends Error {}
