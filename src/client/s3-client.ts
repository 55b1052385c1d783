/**
 * The client: options in, a transport, a buffer pool and a scheduler shared by
 * every request it makes. makeRequest validates everything, builds the meta
 * request for the type and hands it to the scheduler.
 */
import { createReadStream } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { instanceTypeNow } from '../platform/instance-type.js';
import { readUsableMemory } from '../platform/memory.js';
import { recommendedThroughputGbps } from '../platform/platforms.js';
import { interfaceAddresses } from '../platform/network-interfaces.js';
import { AutoRangedGet } from '../multipart/auto-ranged-get.js';
import { AutoRangedPut, type AutoRangedPutOptions, type PutBody, type S3ResumeToken } from '../multipart/auto-ranged-put.js';
import { BufferPool } from '../multipart/buffer-pool.js';
import { CopyObject } from '../multipart/copy-object.js';
import { DefaultRequest } from '../multipart/default-request.js';
import type { MetaRequest, MetaRequestContext, PartRequest, S3RequestCallbacks } from '../multipart/meta-request.js';
import { defaultMultipartThreshold, parseRangeHeader } from '../multipart/part-planner.js';
import type { ChecksumSource, RequestChecksum } from '../multipart/request-checksum.js';
import type { CopyOptions, CopyResult } from '../transfer/copy.js';
import type { DirectoryResult, DownloadDirectoryOptions, S3Prefix, UploadDirectoryOptions } from '../transfer/directories.js';
import type { DownloadOptions, DownloadResult, DownloadSource } from '../transfer/download.js';
import type { DeleteObjectsResult, ListEntry, ListOptions, ObjectInfo } from '../transfer/objects.js';
import type { UploadOptions, UploadResult } from '../transfer/upload.js';
import { AwsCredentialsProvider } from './credentials.js';
import { readProfile, resolveEndpointConfig, type EndpointConfig } from './endpoint.js';
import { S3RequestType, type S3ChecksumConfig } from './enums.js';
import { InvalidArgumentError, RequestCanceledError } from './errors.js';
import {
  checkPartSizes,
  describe,
  requirePositiveInteger,
  resolveClientOptions,
  signingConfigFrom,
  type ResolvedClientConfig,
  type S3ClientOptions,
} from './options.js';
import {
  asAsyncIterable,
  asBuffer,
  checkCallbacks,
  checkChecksumConfig,
  checkHttpRequest,
  checkRecvFile,
  checkRequestType,
  checkSendFile,
  copySourceLocation,
  declaredLength,
  isBufferLike,
  isStreamBody,
  normalizeHeaders,
  parseCopySource,
  resolveEndpoint,
  splitPath,
  type Endpoint,
  type HttpRequestLike,
} from './request-options.js';
import { S3Request } from './s3-request.js';
import { Scheduler } from './scheduler.js';
import { createDefaultS3SigningConfig, resolveSigner, type S3SigningConfig } from './signing.js';
import { Transport } from './transport.js';

/** Arguments of {@link S3Client.makeRequest}; the names mirror awscrt.s3.S3Client.make_request. */
export interface S3RequestOptions extends S3RequestCallbacks {
  type: S3RequestType;
  /** The whole S3 request: method, path (`/bucket/key`), headers with Host, and optionally a body. */
  request: HttpRequestLike;
  /** The S3 operation; required for DEFAULT (for example `ListObjectsV2`). */
  operationName?: string;
  /** Write the response body to this file (atomically) instead of calling onBody. */
  recvFilepath?: string;
  /** Read the request body from this file; the request must have no body of its own. */
  sendFilepath?: string;
  /** Overrides the client's signing configuration for this request. */
  signingConfig?: S3SigningConfig;
  /** Deprecated in the reference in favour of `signingConfig`. */
  credentialProvider?: AwsCredentialsProvider;
  checksumConfig?: S3ChecksumConfig;
  partSize?: number;
  multipartUploadThreshold?: number;
  /** COPY_OBJECT (s3tx): the source's size when known, which saves the HEAD that would find it. */
  copySourceSize?: number;
  /**
   * GET_OBJECT with onBody (s3tx): fetch at most this many bytes ahead of what onBody has taken.
   * With an onBody that returns Promises, a slow consumer then slows the download. By default
   * as many parts as run at once (one per connection, at most 4 to an endpoint on this machine):
   * parts that arrive early wait no further ahead than that.
   */
  readAhead?: number;
  /**
   * GET_OBJECT with recvFilepath (s3tx): write into `<target>.s3tx-partial` beside a small state
   * file, both kept when the download fails, so that the same call later fetches only the parts
   * still missing (when the object's ETag and size are unchanged).
   */
  resumable?: boolean;
  /** PUT_OBJECT from a file or Buffer (s3tx): continue this multipart upload; parts S3 already holds are not sent again. */
  resumeToken?: S3ResumeToken;
  /** PUT_OBJECT (s3tx): called once a multipart upload exists, with the token that resumes it. */
  onResumeToken?: (token: S3ResumeToken) => void;
  /**
   * PUT_OBJECT (s3tx): abort the multipart upload when the transfer fails or is cancelled; true by
   * default. False keeps it for a later `resumeToken`: the caller then owns it, to resume or abort.
   */
  abortOnFailure?: boolean;
}

/** Splits S3 GETs and PUTs into parts and runs them over many connections at once. */
export class S3Client {
  readonly #config: ResolvedClientConfig;
  readonly #transport: Transport;
  readonly #pool: BufferPool;
  readonly #scheduler: Scheduler;
  readonly #active = new Set<MetaRequest>();
  #endpointConfig: EndpointConfig | null = null;
  #closed = false;

  constructor(options: S3ClientOptions) {
    this.#config = resolveClientOptions(options, { usableMemory: readUsableMemory(), recommendedThroughputGbps: recommendedThroughputGbps(instanceTypeNow()) });
    const localAddresses = interfaceAddresses(this.#config.networkInterfaceNames).map((entry) => {
      if ('problem' in entry) throw new InvalidArgumentError('networkInterfaceNames', entry.problem);
      return entry.address;
    });
    this.#transport = new Transport({
      connections: this.#config.connections,
      stallTimeoutMs: this.#config.stallTimeoutMs,
      tlsConnectionOptions: this.#config.tls ? this.#config.tlsConnectionOptions : null,
      localAddresses,
    });
    this.#pool = new BufferPool(this.#config.memoryLimit, () => this.#scheduler.wake());
    this.#scheduler = new Scheduler(this.#pool, this.#config.maxRequestsInFlight);
  }

  /**
   * Where the high-level methods send requests: `endpoint` and `forcePathStyle` of the options, else
   * `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL` and the profile's settings, else AWS's regional endpoint.
   * Resolved on first use.
   */
  get endpointConfig(): EndpointConfig {
    const { region, endpoint, forcePathStyle, tls } = this.#config;
    this.#endpointConfig ??= resolveEndpointConfig(
      { region, ...(endpoint ? { endpoint } : {}), ...(forcePathStyle !== null ? { forcePathStyle } : {}), env: process.env, profile: readProfile() },
      tls,
    );
    if ((this.#endpointConfig.endpoint.protocol === 'https:') !== tls) {
      const scheme = this.#endpointConfig.endpoint.protocol;
      this.#endpointConfig = null;
      throw new InvalidArgumentError('endpoint', `is ${scheme} but tlsMode is ${tls ? 'ENABLED' : 'DISABLED'}: they must agree`);
    }
    return this.#endpointConfig;
  }

  /** The configuration in force, defaults resolved (credentials are not part of it). */
  get config(): Readonly<Omit<ResolvedClientConfig, 'signingConfig' | 'tlsConnectionOptions'>> {
    const { signingConfig: _signing, tlsConnectionOptions: _tls, ...rest } = this.#config;
    return rest;
  }

  /** Starts a request. Every argument is checked first; a bad one throws here and nothing is sent. */
  makeRequest(options: S3RequestOptions): S3Request {
    if (this.#closed) throw new InvalidArgumentError('client', 'is closed');
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('options', 'makeRequest needs an options object');
    const type = checkRequestType(options.type);
    const request = checkHttpRequest(options.request);
    checkCallbacks(options as unknown as Record<string, unknown>);
    const checksumConfig = checkChecksumConfig(options.checksumConfig, type);
    const validate = checksumConfig?.validateResponse === true;
    const checksum: RequestChecksum | null =
      checksumConfig?.algorithm !== undefined ? { algorithm: checksumConfig.algorithm, location: checksumConfig.location! } : null;
    if (type === S3RequestType.DEFAULT && (typeof options.operationName !== 'string' || options.operationName === '')) {
      throw new InvalidArgumentError('operationName', 'is required for S3RequestType.DEFAULT (for example "ListObjectsV2")');
    }

    const config = this.#config;
    const partSize = options.partSize ?? config.partSize;
    const threshold =
      options.multipartUploadThreshold ?? (options.partSize !== undefined ? defaultMultipartThreshold(partSize) : config.multipartUploadThreshold);
    checkPartSizes(partSize, threshold);

    const headers = normalizeHeaders(request.headers);
    const endpoint = resolveEndpoint(request, headers, config.tls);
    const partsInFlight = endpoint.loopback ? config.loopbackPartsInFlight : config.connections;
    const { path, query } = splitPath(request);
    const sendFile = options.sendFilepath !== undefined ? checkSendFile(options.sendFilepath) : null;
    const recvFilepath = options.recvFilepath !== undefined ? checkRecvFile(options.recvFilepath) : null;
    const body = request.body;
    if (type === S3RequestType.GET_OBJECT && (sendFile || (body !== undefined && body !== null))) {
      throw new InvalidArgumentError(sendFile ? 'sendFilepath' : 'request.body', 'a GET_OBJECT sends no body');
    }
    if (type === S3RequestType.COPY_OBJECT && (sendFile || recvFilepath || (body !== undefined && body !== null) || checksum)) {
      throw new InvalidArgumentError(
        sendFile ? 'sendFilepath' : recvFilepath ? 'recvFilepath' : checksum ? 'checksumConfig.algorithm' : 'request.body',
        'a COPY_OBJECT moves no bytes through the client: S3 copies, and computes checksums, server side',
      );
    }
    if (type === S3RequestType.PUT_OBJECT && recvFilepath) {
      throw new InvalidArgumentError('recvFilepath', 'a PUT_OBJECT has no response body to write; its headers come to onHeaders');
    }
    if (sendFile && body !== undefined && body !== null) {
      throw new InvalidArgumentError('sendFilepath', 'cannot be used with a request body: give one or the other');
    }
    if (body !== undefined && body !== null && !isBufferLike(body) && !isStreamBody(body)) {
      throw new InvalidArgumentError('request.body', `must be a Buffer, Uint8Array, string, Readable, AsyncIterable or ReadableStream, got ${describe(body)}`);
    }
    const signingOverride = signingConfigFrom(options.signingConfig, options.credentialProvider);
    const signer = resolveSigner(config.region, config.signingConfig, signingOverride);

    delete headers.host;
    const base: PartRequest = { operationName: options.operationName ?? '', method: request.method.toUpperCase(), path, query, headers };
    const callbacks: S3RequestCallbacks = { onHeaders: options.onHeaders, onBody: options.onBody, onDone: options.onDone, onProgress: options.onProgress };
    let meta: MetaRequest | undefined;
    const context: MetaRequestContext = {
      transport: this.#transport,
      signer,
      origin: endpoint.origin,
      host: endpoint.host,
      retry: config.retry,
      maxPartMemory: config.memoryLimit,
      partsInFlight,
      wake: () => this.#scheduler.wake(),
      detach: () => this.#scheduler.remove(meta!),
    };

    switch (type) {
      case S3RequestType.GET_OBJECT:
        if (options.readAhead !== undefined) requirePositiveInteger('readAhead', options.readAhead);
        if (options.resumable !== undefined && typeof options.resumable !== 'boolean') throw new InvalidArgumentError('resumable', 'must be a boolean');
        if (options.resumable && !recvFilepath) throw new InvalidArgumentError('resumable', 'needs recvFilepath: it is the partial file that is resumed');
        if (options.resumable && validate) {
          throw new InvalidArgumentError('resumable', 'cannot be combined with validateResponse: the parts written earlier are not read again');
        }
        meta = this.#autoRangedGet(
          context,
          callbacks,
          base,
          partSize,
          recvFilepath,
          validate,
          options.readAhead ?? partsInFlight * partSize,
          options.resumable ?? false,
        );
        break;
      case S3RequestType.PUT_OBJECT:
        meta = this.#autoRangedPut(context, callbacks, base, sendFile, body, partSize, threshold, checksum, checkResume(options));
        break;
      case S3RequestType.COPY_OBJECT:
        meta = this.#copyObject(context, callbacks, base, endpoint, partSize, threshold, options.copySourceSize);
        break;
      default:
        meta = new DefaultRequest(context, callbacks, {
          request: defaultBody(base, sendFile, body),
          recvFilepath,
          checksum: checksum && { ...checksum, source: checksumSource(sendFile, body) },
          validate,
        });
    }
    const started = meta;
    this.#active.add(started);
    void started.shutdown.then(() => this.#active.delete(started));
    this.#scheduler.add(started);
    return new S3Request(started);
  }

  #autoRangedGet(
    context: MetaRequestContext,
    callbacks: S3RequestCallbacks,
    base: PartRequest,
    partSize: number,
    recvFilepath: string | null,
    validate: boolean,
    readAhead: number | null,
    resumable: boolean,
  ): MetaRequest {
    const rangeHeader = base.headers.range;
    const range = rangeHeader === undefined ? null : parseRangeHeader(rangeHeader);
    if (rangeHeader !== undefined && !range)
      throw new InvalidArgumentError('request.headers.range', `must be a single range such as "bytes=0-99", got ${describe(rangeHeader)}`);
    this.#checkFits('partSize', partSize);
    const headers = { ...base.headers };
    delete headers.range;
    return new AutoRangedGet(context, callbacks, {
      request: { ...base, method: 'GET', headers },
      range,
      partSize,
      recvFilepath,
      validate,
      readAhead,
      resumable,
    });
  }

  #autoRangedPut(
    context: MetaRequestContext,
    callbacks: S3RequestCallbacks,
    base: PartRequest,
    sendFile: { path: string; size: number } | null,
    body: unknown,
    partSize: number,
    threshold: number,
    checksum: RequestChecksum | null,
    resume: Pick<AutoRangedPutOptions, 'resume' | 'onResumeToken' | 'abortOnFailure'>,
  ): MetaRequest {
    let putBody: PutBody;
    if (sendFile) putBody = { kind: 'file', ...sendFile };
    else if (isStreamBody(body)) {
      if (resume.resume)
        throw new InvalidArgumentError('resumeToken', 'a resumed upload reads its body again: give a file (sendFilepath) or a Buffer, not a stream');
      putBody = { kind: 'stream', source: asAsyncIterable(body), size: declaredLength(base.headers) };
    } else putBody = { kind: 'buffer', data: body === undefined || body === null ? Buffer.alloc(0) : asBuffer(body as string) };
    let largest: number;
    try {
      largest = AutoRangedPut.largestLease(putBody, partSize, threshold);
    } catch (error) {
      throw new InvalidArgumentError('partSize', (error as Error).message);
    }
    this.#checkFits(putBody.kind === 'stream' && AutoRangedPut.sizeOf(putBody)! <= threshold ? 'multipartUploadThreshold' : 'partSize', largest);
    const headers = { ...base.headers };
    delete headers['content-length'];
    return new AutoRangedPut(context, callbacks, {
      request: { ...base, method: 'PUT', headers },
      body: putBody,
      partSize,
      multipartUploadThreshold: threshold,
      checksum,
      ...resume,
    });
  }

  #copyObject(
    context: MetaRequestContext,
    callbacks: S3RequestCallbacks,
    base: PartRequest,
    endpoint: Endpoint,
    partSize: number,
    threshold: number,
    sourceSize: number | undefined,
  ): MetaRequest {
    if (base.method !== 'PUT') throw new InvalidArgumentError('request.method', `a COPY_OBJECT is a PUT, got ${describe(base.method)}`);
    const source = parseCopySource(base.headers['x-amz-copy-source']);
    if (sourceSize !== undefined && (!Number.isSafeInteger(sourceSize) || sourceSize < 0)) {
      throw new InvalidArgumentError('copySourceSize', `must be a whole number of bytes, got ${describe(sourceSize)}`);
    }
    let head: PartRequest | null = null;
    if (sourceSize === undefined) {
      const location = copySourceLocation(source, endpoint);
      const conditions = Object.fromEntries(
        Object.entries(base.headers)
          .filter(([name]) => name.startsWith('x-amz-copy-source-') && name !== 'x-amz-copy-source-range')
          .map(([name, value]) => [name.replace('x-amz-copy-source-', name.includes('server-side-encryption') ? 'x-amz-' : ''), value]),
      );
      head = {
        operationName: 'HeadObject',
        method: 'HEAD',
        path: location.path,
        query: source.versionId ? { versionId: source.versionId } : {},
        headers: conditions,
        endpoint: location.endpoint,
      };
    }
    return new CopyObject(context, callbacks, { request: base, head, sourceSize: sourceSize ?? null, partSize, multipartUploadThreshold: threshold });
  }

  /** A transfer whose one part is larger than the memory limit could never start. */
  #checkFits(option: string, bytes: number): void {
    if (bytes > this.#config.memoryLimit) {
      throw new InvalidArgumentError(option, `a part of ${bytes} bytes does not fit in memoryLimit (${this.#config.memoryLimit} bytes)`);
    }
  }

  /**
   * A client configured as the AWS SDKs configure theirs: region from the options, `AWS_REGION`,
   * `AWS_DEFAULT_REGION` or the profile; endpoint from the options, `AWS_ENDPOINT_URL_S3`,
   * `AWS_ENDPOINT_URL` or the profile (`endpoint_url`, `s3 = endpoint_url / addressing_style`);
   * credentials from the SDK's default chain for the profile (`AWS_PROFILE`), unless given.
   * An `http://` endpoint turns TLS off.
   */
  static fromEnvironment(options: Partial<S3ClientOptions> & { profile?: string } = {}): S3Client {
    const { profile: profileName, ...rest } = options;
    const profile = readProfile(profileName);
    const endpointConfig = resolveEndpointConfig({
      ...(rest.region ? { region: rest.region } : {}),
      ...(rest.endpoint ? { endpoint: rest.endpoint } : {}),
      ...(rest.forcePathStyle !== undefined ? { forcePathStyle: rest.forcePathStyle } : {}),
      env: process.env,
      profile,
    });
    const configured = rest.endpoint ?? (endpointConfig.endpoint.hostname.endsWith('.amazonaws.com') ? undefined : endpointConfig.endpoint.href);
    return new S3Client({
      signingConfig: createDefaultS3SigningConfig({ region: endpointConfig.region, credentialProvider: AwsCredentialsProvider.newDefaultChain(profileName) }),
      ...rest,
      region: endpointConfig.region,
      forcePathStyle: endpointConfig.forcePathStyle,
      ...(configured ? { endpoint: configured } : {}),
    });
  }

  /** Uploads a file, bytes or a stream to one object: multipart and parallel above the threshold. */
  async upload(options: UploadOptions): Promise<UploadResult> {
    return (await import('../transfer/upload.js')).upload(this, options);
  }

  /** Downloads one object to a file (atomically) or a Writable, in parallel ranged parts. */
  async download(options: DownloadOptions): Promise<DownloadResult> {
    return (await import('../transfer/download.js')).download(this, options);
  }

  /** One object as a Readable, fetched in parallel parts ahead of the reader as far as memory allows; backpressure stops it. */
  downloadStream(options: DownloadSource): Readable {
    const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
    import('../transfer/download.js').then(
      ({ downloadStream }) => {
        const source = downloadStream(this, options);
        source.once('error', (error) => stream.destroy(error));
        stream.once('close', () => source.destroy());
        source.pipe(stream);
      },
      (error: Error) => stream.destroy(error),
    );
    return stream;
  }

  /** Copies an object server side: one CopyObject, or UploadPartCopy parts above the threshold. */
  async copy(options: CopyOptions): Promise<CopyResult> {
    return (await import('../transfer/copy.js')).copy(this, options);
  }

  /** Uploads every file below `folder` to `s3://bucket/prefix`, a bounded number at a time. */
  async uploadDirectory(folder: string, target: S3Prefix, options?: UploadDirectoryOptions): Promise<DirectoryResult> {
    return (await import('../transfer/directories.js')).uploadDirectory(this, folder, target, options);
  }

  /** Downloads every object below `s3://bucket/prefix` into `folder`; keys that would leave it are skipped and counted. */
  async downloadDirectory(source: S3Prefix, folder: string, options?: DownloadDirectoryOptions): Promise<DirectoryResult> {
    return (await import('../transfer/directories.js')).downloadDirectory(this, source, folder, options);
  }

  /** Every object (and common prefix, with a delimiter) under a prefix. */
  async *listObjects(options: ListOptions): AsyncGenerator<ListEntry> {
    yield* (await import('../transfer/objects.js')).listObjects(this, options);
  }

  /** The account's buckets. */
  async listBuckets(): Promise<Array<{ name: string; created: Date | null }>> {
    return (await import('../transfer/objects.js')).listBuckets(this);
  }

  /** An object's size, ETag, content type, metadata and checksum. */
  async headObject(options: { bucket: string; key: string; versionId?: string }): Promise<ObjectInfo> {
    return (await import('../transfer/objects.js')).headObject(this, options);
  }

  /** Deletes one object. */
  async deleteObject(options: { bucket: string; key: string }): Promise<void> {
    return (await import('../transfer/objects.js')).deleteObject(this, options);
  }

  /** Aborts a multipart upload (one kept for a resume that will not come). */
  async abortMultipartUpload(options: { bucket: string; key: string; uploadId: string }): Promise<void> {
    return (await import('../transfer/objects.js')).abortMultipartUpload(this, options);
  }

  /** Deletes many objects, a thousand per request. */
  async deleteObjects(options: { bucket: string; keys: string[] }): Promise<DeleteObjectsResult> {
    return (await import('../transfer/objects.js')).deleteObjects(this, options);
  }

  /** Cancels the requests still running, waits for them to shut down, then closes every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#active];
    for (const meta of running) meta.cancel(new RequestCanceledError('the client was closed'));
    await Promise.all(running.map((meta) => meta.shutdown));
    await this.#transport.close();
  }
}

/** The resume options of a PUT_OBJECT, checked. */
function checkResume(options: S3RequestOptions): Pick<AutoRangedPutOptions, 'resume' | 'onResumeToken' | 'abortOnFailure'> {
  const { resumeToken, onResumeToken, abortOnFailure = true } = options;
  if (resumeToken !== undefined) {
    const { uploadId, partSize, totalSize } = (resumeToken ?? {}) as Partial<S3ResumeToken>;
    if (typeof uploadId !== 'string' || uploadId === '' || !Number.isSafeInteger(partSize) || !Number.isSafeInteger(totalSize)) {
      throw new InvalidArgumentError('resumeToken', 'must be { uploadId, partSize, totalSize } as given to onResumeToken');
    }
  }
  if (onResumeToken !== undefined && typeof onResumeToken !== 'function') throw new InvalidArgumentError('onResumeToken', 'must be a function');
  if (typeof abortOnFailure !== 'boolean') throw new InvalidArgumentError('abortOnFailure', `must be a boolean, got ${describe(abortOnFailure)}`);
  return { resume: resumeToken ?? null, onResumeToken: onResumeToken ?? null, abortOnFailure };
}

/** What a DEFAULT request's checksum is computed over: a Buffer or a file. A caller's stream can be read only once. */
function checksumSource(sendFile: { path: string; size: number } | null, body: unknown): ChecksumSource {
  if (sendFile) return { kind: 'file', ...sendFile };
  if (body === undefined || body === null) throw new InvalidArgumentError('checksumConfig.algorithm', 'this request has no body to put a checksum on');
  if (isBufferLike(body)) return { kind: 'buffer', data: asBuffer(body) };
  throw new InvalidArgumentError('checksumConfig.algorithm', 'a DEFAULT request with a checksum needs a Buffer or sendFilepath body, not a stream');
}

/** A DEFAULT request's body: a file opened afresh for each attempt, a Buffer, or a caller's stream, which can be sent once. */
function defaultBody(base: PartRequest, sendFile: { path: string; size: number } | null, body: unknown): PartRequest {
  if (sendFile) return { ...base, body: () => createReadStream(sendFile.path), bodyLength: sendFile.size };
  if (body === undefined || body === null) return base;
  if (isBufferLike(body)) return { ...base, body: asBuffer(body) };
  const stream = isStreamBody(body) ? asAsyncIterable(body) : null;
  const length = declaredLength(base.headers);
  return {
    ...base,
    body: () => (stream instanceof Readable ? stream : Readable.from(stream!)),
    ...(length !== null ? { bodyLength: length } : {}),
    oneShot: true,
  };
}
