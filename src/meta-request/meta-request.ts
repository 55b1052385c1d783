/**
 * What every kind of transfer shares: sending one part with signing and
 * per-part retries, tracking what is in flight, and the single path by which a
 * transfer ends. Success or failure, cancel or error, the order is the same:
 * stop new parts, abort those in flight, wait for them, clean up, settle
 * `finished`, call onDone, resolve `shutdown` last.
 */
import { encodeRfc3986 } from '../auth/sigv4.js';
import type { Readable } from 'node:stream';
import { InvalidResponseError, RequestCanceledError, S3ResponseError, S3txError, type HeaderList } from '../core/errors.js';
import { backoffDelay, isRetryable, type RetryOptions } from './retry.js';
import type { Schedulable } from './scheduler.js';
import type { RequestSigner } from '../auth/signing.js';
import type { Exchange, ResponseSink, Transport } from '../http/transport.js';
import type { IncrementalBody } from '../http/h1-connection.js';
import { errorElement, responseError } from '../protocol/error-response.js';
import { headerList } from '../http/headers.js';
import type { Lease } from './buffer-pool.js';
import type { S3ChecksumAlgorithm } from '../core/enums.js';
import type { RequestMetricsCallback } from './request-metrics.js';
import type { Concurrency } from './concurrency-controller.js';

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** What onDone receives; the names mirror the reference's keyword arguments. */
export interface S3RequestDoneResult {
  /** null on success. */
  error: Error | null;
  /** Headers of the failed response when S3 answered with an error. */
  errorHeaders: HeaderList | null;
  /** Body of the failed response when S3 answered with an error. */
  errorBody: Buffer | null;
  /** The S3 operation that failed, for example `UploadPart`. */
  errorOperationName: string | null;
  /** Status of the failed response, or of the final response on success; null when no response decided the outcome. */
  statusCode: number | null;
  /** Whether a checksum of the body received was compared with S3's. */
  didValidateChecksum: boolean;
  checksumValidationAlgorithm: S3ChecksumAlgorithm | null;
}

/** The caller's callbacks, as the reference defines them. */
export interface S3RequestCallbacks {
  /** Once, with the status and headers of the whole response (synthesised for split GETs). */
  onHeaders?: (statusCode: number, headers: HeaderList) => void;
  /**
   * Body bytes in order of offset; the chunk is only valid during the call (or until the Promise
   * it returns settles). A returned Promise (s3tx) holds back the next part of a split GET until it
   * settles, so a slow consumer slows the download instead of growing memory.
   */
  onBody?: (chunk: Buffer, offset: number) => void | Promise<void>;
  /** Once, after `finishedFuture` has settled. */
  onDone?: (result: S3RequestDoneResult) => void;
  /** Bytes just transferred; the calls of a successful transfer sum to its size. */
  onProgress?: (bytes: number) => void;
}

/** What the client gives each transfer. */
export interface MetaRequestContext {
  transport: Transport;
  signer: RequestSigner | null;
  /** For S3 Express transfers: the signer of CopyObject and UploadPartCopy, which S3 takes only with IAM credentials. */
  iamSigner?: RequestSigner | null;
  /** `http(s)://host:port` of the endpoint. */
  origin: string;
  /** Value of the Host header. */
  host: string;
  retry: RetryOptions;
  /** The largest buffer a part may reserve: the client's memory limit. */
  maxPartMemory: number;
  /** Parts of the transfer in flight at most, and what moves that window: the client's rule for the endpoint. */
  concurrency: Concurrency;
  /**
   * Starts at once, whatever is in flight: a request that requests in flight wait on while they
   * hold their slots (S3 Express's CreateSession, awaited by their signing), which would otherwise
   * wait for a slot none of them gives up.
   */
  outsideLimits?: boolean;
  /** Told of every request sent, answered or failed. */
  onRequestMetrics?: RequestMetricsCallback | undefined;
  /** Ask the scheduler for a pass: a part became ready. */
  wake(): void;
  /** Called once when the transfer has ended, so the scheduler stops asking it. */
  detach(): void;
}

/** One HTTP request of a transfer. The path is encoded; query values are not. */
export interface PartRequest {
  operationName: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** A Buffer, one in memory sent in pieces, or a factory that opens the body afresh for each attempt. */
  body?: Buffer | IncrementalBody | (() => Readable) | null;
  bodyLength?: number;
  /** The body can be sent only once (a caller's stream), so the request is never retried. */
  oneShot?: boolean;
  /** Another endpoint than the transfer's (the source bucket of a copy, virtual-hosted). */
  endpoint?: { origin: string; host: string };
}

/** Where the body of a successful (2xx) response goes. */
export interface BodyTarget {
  /** Runs first on a 2xx response; may throw (for example on a Content-Range that is not the one asked for). */
  start?(statusCode: number, headers: ResponseHeaders): void;
  /** Each chunk with its offset in this response; may throw. */
  data(chunk: Buffer, offset: number): void;
  /** Memory the body may be read straight into, at its offsets; `data` then receives views of it. */
  destination?(): Buffer | null;
  /** True once bytes have left for the caller, after which the part can no longer be retried. */
  readonly committed?: boolean;
}

/** A 2xx body copied into a part's reserved buffer, which it must fill exactly. */
export class BufferTarget implements BodyTarget {
  readonly buffer: Buffer;
  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }
  data(chunk: Buffer, offset: number): void {
    if (offset + chunk.length > this.buffer.length) {
      throw new InvalidResponseError(`the response body is longer than the ${this.buffer.length} bytes asked for`, 'AWS_ERROR_S3_INCORRECT_CONTENT_LENGTH');
    }
    // Bytes the connection read straight into place need no copy.
    if (chunk.buffer !== this.buffer.buffer || chunk.byteOffset !== this.buffer.byteOffset + offset) this.buffer.set(chunk, offset);
  }
  destination(): Buffer {
    return this.buffer;
  }
}

/** Keeps a small body (S3's XML answers) whole. */
export class CollectTarget implements BodyTarget {
  #chunks: Buffer[] = [];
  #length = 0;
  constructor(readonly limit = 16 * 1024 * 1024) {}
  start(): void {
    this.#chunks = [];
    this.#length = 0;
  }
  data(chunk: Buffer): void {
    this.#length += chunk.length;
    if (this.#length > this.limit) throw new InvalidResponseError(`the response body is longer than ${this.limit} bytes`);
    this.#chunks.push(chunk);
  }
  get body(): Buffer {
    return this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length);
  }
}

/** Operations S3 Express takes signed with IAM credentials only (aws-c-s3's s3_copy_object.c bypasses sessions for them). */
const IAM_SIGNED: ReadonlySet<string> = new Set(['CopyObject', 'UploadPartCopy']);

/** Error bodies kept for S3ResponseError, and the most read of a body nobody asked for: S3's are under 4 KiB. */
const SMALL_BODY_LIMIT = 64 * 1024;

/** The target of responses that carry no body worth keeping (UploadPart, PutObject, DeleteObject): a few bytes at most. */
const NO_BODY: BodyTarget = {
  data(chunk, offset) {
    if (offset + chunk.length > SMALL_BODY_LIMIT)
      throw new InvalidResponseError(`a response that should have no body sent more than ${SMALL_BODY_LIMIT} bytes`);
  },
};

/** Bytes of a part request's body, when known. */
function bodyLength(request: PartRequest): number | undefined {
  return request.body && typeof request.body !== 'function' ? request.body.length : request.bodyLength;
}

export interface PartResponse {
  statusCode: number;
  headers: ResponseHeaders;
  /** Body bytes received. */
  length: number;
}

/**
 * Collects one response, routing a 2xx body to its target and keeping an error body. An error body
 * longer than S3 ever sends ends the exchange (and its connection) at once with the error it
 * carries: a server that streams one without end would otherwise be read for as long as it likes.
 */
class PartSink implements ResponseSink {
  statusCode = 0;
  headers: ResponseHeaders = {};
  length = 0;
  #target: BodyTarget;
  #operationName: string;
  #concurrency: Concurrency;
  #errorChunks: Buffer[] | null = null;

  constructor(target: BodyTarget, operationName: string, concurrency: Concurrency) {
    this.#target = target;
    this.#operationName = operationName;
    this.#concurrency = concurrency;
  }

  onResponseStart(statusCode: number, headers: ResponseHeaders): void {
    this.statusCode = statusCode;
    this.headers = headers;
    if (statusCode >= 200 && statusCode < 300) this.#target.start?.(statusCode, headers);
    else this.#errorChunks = [];
  }

  onResponseData(chunk: Buffer): void {
    if (this.#errorChunks) {
      if (this.length + chunk.length > SMALL_BODY_LIMIT) {
        this.#errorChunks.push(chunk.subarray(0, SMALL_BODY_LIMIT - this.length));
        throw responseError(this.statusCode, this.headers, this.errorBody, this.#operationName);
      }
      this.#errorChunks.push(chunk);
    } else {
      this.#target.data(chunk, this.length);
      this.#concurrency.transferred(chunk.length, performance.now());
    }
    this.length += chunk.length;
  }

  destination(): Buffer | null {
    return this.#errorChunks ? null : (this.#target.destination?.() ?? null);
  }

  get errorBody(): Buffer | null {
    return this.#errorChunks ? Buffer.concat(this.#errorChunks) : null;
  }
}

function queryString(query: Record<string, string>): string {
  const pairs = Object.entries(query).map(([key, value]) => `${encodeRfc3986(key)}=${encodeRfc3986(value)}`);
  return pairs.length > 0 ? `?${pairs.join('&')}` : '';
}

type State = 'active' | 'committing' | 'ending' | 'ended';

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new S3txError('AWS_ERROR_UNKNOWN', String(reason));
}

export interface SendOptions {
  checkErrorBody?: boolean;
  cleanup?: boolean;
  shielded?: boolean;
}

export abstract class MetaRequest implements Schedulable {
  /** Resolves on success, rejects with the error; settles before onDone runs. */
  readonly finished: Promise<void>;
  /** Resolves once every connection use, file handle and timer of this transfer is released. */
  readonly shutdown: Promise<void>;

  protected readonly context: MetaRequestContext;
  protected readonly callbacks: S3RequestCallbacks;
  /** Set by a transfer that compared the body received with S3's checksum, for onDone. */
  protected validatedChecksum: S3ChecksumAlgorithm | null = null;

  #state: State = 'active';
  #headersSent = false;
  #error: Error | null = null;
  #exchanges = new Set<Exchange>();
  #sleeps = new Set<{ timer: NodeJS.Timeout; wake: (error: Error) => void }>();
  #tasks = 0;
  #drained: (() => void) | null = null;
  #resolveFinished!: () => void;
  #rejectFinished!: (error: Error) => void;
  #resolveShutdown!: () => void;

  constructor(context: MetaRequestContext, callbacks: S3RequestCallbacks) {
    this.context = context;
    this.callbacks = callbacks;
    this.finished = new Promise<void>((resolve, reject) => {
      this.#resolveFinished = resolve;
      this.#rejectFinished = reject;
    });
    // A caller who only uses onDone must not see an unhandled rejection.
    this.finished.catch(() => {});
    this.shutdown = new Promise<void>((resolve) => {
      this.#resolveShutdown = resolve;
    });
  }

  get maxInFlight(): number {
    return this.context.concurrency.window;
  }

  get outsideLimits(): boolean {
    return this.context.outsideLimits ?? false;
  }

  abstract nextPartMemory(): number | null;
  abstract startNextPart(lease: Lease | null): Promise<void>;

  /** Undoes what a failed transfer left behind (an open multipart upload, a temporary file). Must not throw. */
  protected abstract cleanUpAfterFailure(): Promise<void>;

  /** The error the transfer is failing with, once it fails. */
  protected get failure(): Error | null {
    return this.#error;
  }

  /** True while the transfer may still start work. */
  protected get active(): boolean {
    return this.#state === 'active';
  }

  /** Runs one unit of work; whatever it throws ends the transfer. The promise never rejects. */
  protected track(work: () => Promise<void>): Promise<void> {
    this.#tasks++;
    return work()
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        if (--this.#tasks === 0) this.#drained?.();
      });
  }

  /** Calls a user callback and returns what it returns; an exception from it fails the transfer. */
  protected callUser<A extends unknown[], R>(callback: ((...args: A) => R) | undefined, ...args: A): R | undefined {
    if (!callback || (this.#state !== 'active' && this.#state !== 'committing')) return undefined;
    return callback(...args);
  }

  /** Calls onHeaders with the headers of the whole response; only once, even when the response that carried them is retried. */
  protected emitHeaders(statusCode: number, headers: ResponseHeaders): void {
    if (this.#headersSent) return;
    this.#headersSent = true;
    this.callUser(this.callbacks.onHeaders, statusCode, headerList(headers));
  }

  protected progress(bytes: number): void {
    if (bytes > 0) this.callUser(this.callbacks.onProgress, bytes);
  }

  /** Cancels the transfer; a no-op once it has ended. */
  cancel(error: Error = new RequestCanceledError()): void {
    this.fail(error);
  }

  /** The one failure path. */
  fail(reason: unknown): void {
    if (this.#state !== 'active') return;
    const error = asError(reason);
    this.#state = 'ending';
    this.#error = error;
    this.context.detach();
    for (const exchange of this.#exchanges) exchange.abort(error);
    for (const sleep of this.#sleeps) {
      clearTimeout(sleep.timer);
      sleep.wake(error);
    }
    this.#sleeps.clear();
    void this.#end(error);
  }

  /** Ends the transfer successfully with the final status code; call once all work is done. */
  protected succeed(statusCode: number): void {
    if (this.#state !== 'active') return;
    this.#state = 'ending';
    this.context.detach();
    void this.#end(null, statusCode);
  }

  /**
   * Ends the transfer with the outcome of `commit`, the step that cannot be taken back: a file's
   * rename over its target, or CompleteMultipartUpload, which S3 carries out whether or not the
   * client waits for its answer. From the moment it starts a cancel is too late, a no-op as after
   * the end, so that what the transfer reports is what happened: never RequestCanceledError with
   * the file or object in place. A commit that fails fails the transfer; a transfer already failing
   * commits nothing. `commit` returns the final status code.
   */
  protected async succeedWith(commit: () => Promise<number>): Promise<void> {
    if (this.#state !== 'active') return;
    this.#state = 'committing';
    this.context.detach();
    let statusCode: number;
    try {
      statusCode = await commit();
    } catch (reason) {
      this.#state = 'ending';
      this.#error = asError(reason);
      return void this.#end(this.#error);
    }
    this.#state = 'ending';
    void this.#end(null, statusCode);
  }

  async #end(error: Error | null, statusCode: number | null = null): Promise<void> {
    if (this.#tasks > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    if (error) await this.cleanUpAfterFailure();
    this.#state = 'ended';
    const response = error instanceof S3ResponseError ? error : null;
    if (error) this.#rejectFinished(error);
    else this.#resolveFinished();
    // Let everything already waiting on finishedFuture run before onDone.
    await this.finished.then(
      () => {},
      () => {},
    );
    try {
      this.callbacks.onDone?.({
        error,
        errorHeaders: response?.headers ?? null,
        errorBody: response?.body ?? null,
        errorOperationName: response?.operationName ?? null,
        statusCode: response?.statusCode ?? statusCode,
        didValidateChecksum: this.validatedChecksum !== null,
        checksumValidationAlgorithm: this.validatedChecksum,
      });
    } finally {
      this.#resolveShutdown();
    }
  }

  /**
   * Sends one part with retries. Only the failed part is repeated, after a backoff with
   * full jitter; a part whose body already reached the caller is not. `cleanup` lets
   * requests made while the transfer is ending (AbortMultipartUpload) go out. A `shielded`
   * request is not cut off when the transfer fails: its answer names something to clean up.
   */
  protected async send(request: PartRequest, target: BodyTarget = NO_BODY, options: SendOptions = {}): Promise<PartResponse> {
    const { maxRetries } = this.context.retry;
    for (let attempt = 0; ; attempt++) {
      if (!options.cleanup && this.#error) throw this.#error;
      const { concurrency } = this.context;
      const started = performance.now();
      concurrency.partStarted(started);
      try {
        const response = await this.#attempt(request, target, options);
        // The response's bytes were counted as they came.
        concurrency.partEnded(bodyLength(request) ?? 0, performance.now());
        this.#measured(request, attempt, started, response.statusCode, null);
        return response;
      } catch (error) {
        const statusCode = (error as { statusCode?: number }).statusCode ?? 0;
        const now = performance.now();
        if (statusCode === 503) concurrency.throttled(now);
        concurrency.partEnded(0, now);
        this.#measured(request, attempt, started, statusCode, error);
        const stopping = !options.cleanup && this.#error;
        if (stopping || !isRetryable(error) || attempt >= maxRetries || target.committed || request.oneShot) throw stopping || error;
        await this.#sleep(backoffDelay(attempt, this.context.retry), options.cleanup ?? false);
      }
    }
  }

  #measured(request: PartRequest, attempt: number, started: number, statusCode: number, error: unknown): void {
    const report = this.context.onRequestMetrics;
    if (!report) return;
    const failure = error as { s3Code?: string; code?: string } | null;
    try {
      report({
        operationName: request.operationName,
        method: request.method,
        origin: (request.endpoint ?? this.context).origin,
        path: request.path + queryString(request.query),
        statusCode,
        durationMs: performance.now() - started,
        attempt,
        errorCode: failure ? (failure.s3Code ?? failure.code ?? 'UNKNOWN') : null,
      });
    } catch {
      // An observer that throws must not fail the transfer it observes.
    }
  }

  async #attempt(request: PartRequest, target: BodyTarget, options: SendOptions): Promise<PartResponse> {
    const cleanup = options.cleanup ?? false;
    const { transport } = this.context;
    const signer = this.context.iamSigner !== undefined && IAM_SIGNED.has(request.operationName) ? this.context.iamSigner : this.context.signer;
    const { origin, host } = request.endpoint ?? this.context;
    const headers: Record<string, string> = { ...request.headers, host };
    const length = bodyLength(request);
    if (length !== undefined && (length > 0 || request.method === 'PUT' || request.method === 'POST')) headers['content-length'] = String(length);
    let signedHeaders = headers;
    if (signer) signedHeaders = await signer.sign({ method: request.method, path: request.path, query: request.query, headers });
    // Signing awaited credentials: the transfer may have failed meanwhile.
    if (!cleanup && this.#error) throw this.#error;
    const stream = typeof request.body === 'function' ? request.body() : null;
    const body = typeof request.body === 'function' ? stream : request.body;
    const sink = new PartSink(target, request.operationName, this.context.concurrency);
    const exchange = transport.send({ origin, method: request.method, path: request.path + queryString(request.query), headers: signedHeaders, body }, sink);
    if (!options.shielded) this.#exchanges.add(exchange);
    try {
      await exchange.done;
    } finally {
      this.#exchanges.delete(exchange);
      stream?.destroy();
    }
    if (sink.statusCode < 200 || sink.statusCode >= 300) {
      throw responseError(sink.statusCode, sink.headers, sink.errorBody, request.operationName);
    }
    if (options.checkErrorBody && target instanceof CollectTarget && errorElement(target.body)) {
      throw responseError(sink.statusCode, sink.headers, target.body, request.operationName);
    }
    return { statusCode: sink.statusCode, headers: sink.headers, length: sink.length };
  }

  #sleep(ms: number, cleanup: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const sleep = {
        timer: setTimeout(() => {
          this.#sleeps.delete(sleep);
          resolve();
        }, ms),
        wake: (error: Error) => (cleanup ? resolve() : reject(error)),
      };
      this.#sleeps.add(sleep);
    });
  }
}
