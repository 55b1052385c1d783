/**
 * The client's core: options in, a transport, a buffer pool and a scheduler shared by every
 * request it makes. makeRequest checks what every request type shares, has the type's rules
 * (request-types.ts) build its meta request, and hands that to the scheduler.
 */
import { instanceTypeNow } from '../platform/instance-type.js';
import { readUsableMemory } from '../platform/memory.js';
import { recommendedThroughputGbps } from '../platform/platforms.js';
import { interfaceAddresses } from '../platform/network-interfaces.js';
import { BufferPool } from '../meta-request/buffer-pool.js';
import type { MetaRequest, MetaRequestContext, PartRequest, S3RequestCallbacks } from '../meta-request/meta-request.js';
import { ConcurrencyController, FixedConcurrency, type Concurrency } from '../meta-request/concurrency-controller.js';
import { LOOPBACK_PARTS_IN_FLIGHT, defaultMultipartThreshold } from '../meta-request/part-planner.js';
import type { RequestChecksum } from '../meta-request/request-checksum.js';
import { Scheduler } from '../meta-request/scheduler.js';
import { directoryBucketZone, resolveEndpointConfig, readProfile, type EndpointConfig } from '../protocol/endpoint.js';
import { createSessionThrough } from './create-session.js';
import { S3RequestType } from '../core/enums.js';
import { InvalidArgumentError, RequestCanceledError } from '../core/errors.js';
import { S3ExpressSessions } from '../auth/s3express-sessions.js';
import { AwsSigningAlgorithm, resolveSigner, signingAlgorithm } from '../auth/signing.js';
import { Transport } from '../http/transport.js';
import { checkPartSizes, describe, resolveClientOptions, signingConfigFrom, type ResolvedClientConfig, type S3ClientOptions } from './options.js';
import {
  checkCallbacks,
  checkChecksumConfig,
  checkHttpRequest,
  checkRecvFile,
  checkRequestType,
  checkSendFile,
  isBufferLike,
  isStreamBody,
  normalizeHeaders,
  HIGH_LEVEL_BUCKET,
  resolveEndpoint,
  splitPath,
  type S3RequestOptions,
} from './request-options.js';
import { createMetaRequest } from './request-types.js';
import { S3Request } from './s3-request.js';

/** The largest part of a ranged GET from a directory bucket: aws-c-s3's bound (s3_util.c), as one part there serves over 100 Gbit/s. */
const S3EXPRESS_MAX_GET_PART = 128 * 1024 * 1024;

/** Endpoints whose windows are kept: virtual-hosted buckets are an origin each. */
const MAX_ENDPOINTS_MEASURED = 64;

/**
 * The engine's client: makeRequest and close, over one transport, buffer pool and scheduler.
 * S3Client (src/s3-client.ts) adds the high-level methods on top.
 */
export class S3ClientCore {
  readonly #config: ResolvedClientConfig;
  readonly #transport: Transport;
  readonly #pool: BufferPool;
  readonly #scheduler: Scheduler;
  readonly #active = new Set<MetaRequest>();
  #endpointConfig: EndpointConfig | null = null;
  /** S3 Express sessions, made on first use. */
  #sessions: S3ExpressSessions | null = null;
  #closed = false;
  /** The parts-in-flight rule of each endpoint, kept across transfers: what one measured, the next starts from. */
  readonly #concurrency = new Map<string, Concurrency>();

  constructor(options: S3ClientOptions) {
    this.#config = resolveClientOptions(options, {
      usableMemory: readUsableMemory(),
      recommendedThroughputGbps: recommendedThroughputGbps(instanceTypeNow()),
      env: process.env,
    });
    const localAddresses = interfaceAddresses(this.#config.networkInterfaceNames).map((entry) => {
      if ('problem' in entry) throw new InvalidArgumentError('networkInterfaceNames', entry.problem);
      return entry.address;
    });
    this.#transport = new Transport({
      connections: this.#config.connections,
      stallTimeoutMs: this.#config.stallTimeoutMs,
      connectTimeoutMs: this.#config.connectTimeoutMs,
      tlsConnectionOptions: this.#config.tls ? this.#config.tlsConnectionOptions : null,
      localAddresses,
      lookup: this.#config.lookup,
      proxy: this.#config.proxy,
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
  /**
   * The window of an endpoint: fixed at maxConnections when that was given, else measured (see
   * ConcurrencyController), from 4 parts on this machine's loopback, where few connections
   * win, and from the throughput target's count elsewhere, as aws-c-s3 starts.
   */
  #concurrencyFor(origin: string, loopback: boolean): Concurrency {
    let concurrency = this.#concurrency.get(origin);
    if (concurrency) {
      // Most recently used last, so that the first is the one to forget.
      this.#concurrency.delete(origin);
    } else {
      const { connections, maxConnectionsGiven } = this.#config;
      concurrency = maxConnectionsGiven
        ? new FixedConcurrency(connections)
        : new ConcurrencyController({ max: connections, initial: loopback ? LOOPBACK_PARTS_IN_FLIGHT : connections });
      if (this.#concurrency.size >= MAX_ENDPOINTS_MEASURED) this.#concurrency.delete(this.#concurrency.keys().next().value!);
    }
    this.#concurrency.set(origin, concurrency);
    return concurrency;
  }

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
    const concurrency = this.#concurrencyFor(endpoint.origin, endpoint.loopback);
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
    const express = signingAlgorithm(config.signingConfig, signingOverride) === AwsSigningAlgorithm.V4_S3EXPRESS;
    if (express && !config.enableS3Express) {
      throw new InvalidArgumentError('enableS3Express', 'must be true on the client for a request signed with AwsSigningAlgorithm.V4_S3EXPRESS');
    }
    const byBucket = directoryBucketZone(options[HIGH_LEVEL_BUCKET] ?? '') !== null;
    const sessions = express || byBucket ? (this.#sessions ??= new S3ExpressSessions(createSessionThrough(this))) : null;
    const signer = resolveSigner(config.region, config.signingConfig, signingOverride, { sessions, headers });
    // CopyObject and UploadPartCopy go with the identity itself: S3 Express takes them only so.
    const iamSigner = sessions ? resolveSigner(config.region, config.signingConfig, signingOverride, { sessions, iamOnly: true }) : undefined;

    delete headers.host;
    const base: PartRequest = { operationName: options.operationName ?? '', method: request.method.toUpperCase(), path, query, headers };
    const callbacks: S3RequestCallbacks = { onHeaders: options.onHeaders, onBody: options.onBody, onDone: options.onDone, onProgress: options.onProgress };
    let meta: MetaRequest | undefined;
    const context: MetaRequestContext = {
      transport: this.#transport,
      signer,
      iamSigner,
      origin: endpoint.origin,
      host: endpoint.host,
      retry: config.retry,
      maxPartMemory: config.memoryLimit,
      concurrency,
      // Data requests of S3 Express wait on it while holding their slots.
      outsideLimits: type === S3RequestType.DEFAULT && base.operationName === 'CreateSession',
      onRequestMetrics: config.onRequestMetrics,
      wake: () => this.#scheduler.wake(),
      detach: () => this.#scheduler.remove(meta!),
    };

    meta = createMetaRequest(type, context, callbacks, {
      options,
      base,
      endpoint,
      sendFile,
      recvFilepath,
      body,
      // aws-c-s3 keeps S3 Express's ranged GETs to 128 MiB parts.
      partSize: sessions && type === S3RequestType.GET_OBJECT ? Math.min(partSize, S3EXPRESS_MAX_GET_PART) : partSize,
      threshold,
      checksum,
      validate,
      memoryLimit: config.memoryLimit,
    });
    const started = meta;
    this.#active.add(started);
    void started.shutdown.then(() => this.#active.delete(started));
    this.#scheduler.add(started);
    return new S3Request(started);
  }

  /** Cancels the requests still running, waits for them to shut down, then closes every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#active];
    for (const meta of running) meta.cancel(new RequestCanceledError('the client was closed'));
    await Promise.all(running.map((meta) => meta.shutdown));
    this.#sessions?.close();
    await this.#transport.close();
  }
}
