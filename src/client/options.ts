/**
 * Validation and defaults of the client's options, as pure functions: every
 * option is checked here, before a socket is opened or a byte is sent.
 */
import { S3RequestTlsMode, isEnumValue } from '../core/enums.js';
import { InvalidArgumentError, UnsupportedError } from '../core/errors.js';
import type { AwsCredentialsProvider } from '../auth/credentials.js';
import { AwsSigningAlgorithm, type S3SigningConfig } from '../auth/signing.js';
import { DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS, DEFAULT_MAX_RETRIES, type RetryOptions } from '../meta-request/retry.js';
import {
  DEFAULT_PART_SIZE,
  DEFAULT_THROUGHPUT_TARGET_GBPS,
  MAX_PART_SIZE,
  MAX_SINGLE_PUT_SIZE,
  connectionCount,
  defaultMemoryLimit,
  defaultMultipartThreshold,
  maxRequestsInFlight,
} from '../meta-request/part-planner.js';
import type { LookupFunction } from '../http/addresses.js';
import type { RequestMetricsCallback } from '../meta-request/request-metrics.js';
import type { ProxyEndpoint } from '../http/proxy.js';
import type { ProxyChoice } from '../http/proxy-rules.js';
import type { TlsConnectionOptions } from '../http/tls-options.js';
import { resolveProxy, type ProxyOptions } from './proxy-options.js';

/** Options of {@link S3Client}; the names mirror awscrt.s3.S3Client. */
export interface S3ClientOptions {
  /** Region the buckets live in. Required. */
  region: string;
  /** TLS on (default) or off. */
  tlsMode?: S3RequestTlsMode;
  /** How requests are signed; none means anonymous requests. */
  signingConfig?: S3SigningConfig;
  /** Deprecated in the reference in favour of `signingConfig`; signs with these credentials. */
  credentialProvider?: AwsCredentialsProvider;
  tlsConnectionOptions?: TlsConnectionOptions;
  /** Bytes per part of GET and PUT transfers; 8 MiB by default. */
  partSize?: number;
  /** Uploads larger than this are multipart; the larger of `partSize` and 5 MiB by default. */
  multipartUploadThreshold?: number;
  /** Throughput to aim for, in Gbit/s: the detected instance type's recommended value, else 10. Sets the number of connections. */
  throughputTargetGbps?: number;
  /**
   * S3 Express One Zone: requests signed with `AwsSigningAlgorithm.V4_S3EXPRESS` (the client's
   * signing config or a request's) get session credentials from CreateSession, cached per bucket
   * and identity. Needed for V4_S3EXPRESS; false by default, as in the reference. The high-level
   * methods use sessions for directory buckets (`name--zone--x-s3`) without it.
   */
  enableS3Express?: boolean;
  /** Bytes of part buffers the client may hold at once. */
  memoryLimit?: number;
  /** Spread connections over these network interfaces, bound to each one's address. */
  networkInterfaceNames?: readonly string[];
  /** s3tx: retries of one part after its first attempt; 5 by default. */
  maxRetries?: number;
  /** s3tx: a connection that moves no bytes for this long is dropped and its part retried; 30 s by default. */
  stallTimeoutMs?: number;
  /**
   * s3tx: a connection whose TCP connect and TLS handshake take longer than this fails (and its part
   * is retried); 10 s by default (aws-c-s3 uses 3 s, the AWS CLI 60 s). Separate from `stallTimeoutMs`,
   * which starts once the request is sent.
   */
  connectTimeoutMs?: number;
  /**
   * s3tx: where the high-level methods (upload, download, copy, ...) send requests, for example
   * `http://127.0.0.1:9000`. By default `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's
   * `endpoint_url`, else `https://s3.<region>.amazonaws.com`. makeRequest takes the Host of each request instead.
   */
  endpoint?: string;
  /**
   * s3tx: high-level methods address buckets as `/bucket/key` (true) or `bucket.host/key` (false).
   * By default the profile's `s3 = addressing_style`, else virtual-hosted for AWS's hosts
   * (`*.amazonaws.com`) and path style for any other endpoint, as botocore does. IP addresses,
   * localhost and bucket names that cannot be a host label are always path style.
   */
  forcePathStyle?: boolean;
  /**
   * s3tx (as aws-c-s3's max_active_connections_override): connections per endpoint, instead of
   * the count `throughputTargetGbps` gives (one per 0.4 Gbit/s, at least 10). Without it, a
   * transfer to an endpoint on this machine keeps at most 4 parts in flight, which is all loopback needs.
   */
  maxConnections?: number;
  /**
   * s3tx: the HTTP proxy every request goes through, or `false` for none. By default the
   * environment's, as curl and the AWS CLI read it: `HTTPS_PROXY` for https endpoints,
   * `HTTP_PROXY` for http ones, `ALL_PROXY` for either, `NO_PROXY` for the hosts that go direct
   * (each in lower or upper case). An https endpoint is reached through a CONNECT tunnel, with TLS
   * to the endpoint inside it; an http one with absolute-form requests.
   */
  proxy?: ProxyOptions | false;
  /**
   * s3tx, as the AWS SDKs name it: `WHEN_SUPPORTED` (the default, as the SDKs and AWS CLI v2 have
   * since 2025) makes the high-level uploads send a CRC32 unless told otherwise; `WHEN_REQUIRED`
   * sends one only when asked (`checksumAlgorithm`). makeRequest is not affected: it sends what
   * `checksumConfig` says, as the reference does.
   */
  requestChecksumCalculation?: RequestChecksumCalculation;
  /**
   * s3tx: resolves host names, as `dns.lookup(hostname, { all: true }, callback)` does (the
   * default): for service discovery, or a test's names. Every address it gives is used, new
   * connections taking them in turn.
   */
  lookup?: LookupFunction;
  /**
   * s3tx, as aws-c-s3's telemetry callback: called after every HTTP request the client sends
   * (each part, each retry, each listing page) with its operation, path, status and duration;
   * never a header or anything secret. It must be quick: it runs on the transfer's path.
   */
  onRequestMetrics?: RequestMetricsCallback;
}

/** Everything the client needs, resolved and checked. */
export interface ResolvedClientConfig {
  region: string;
  tls: boolean;
  tlsConnectionOptions: TlsConnectionOptions | null;
  signingConfig: S3SigningConfig | null;
  enableS3Express: boolean;
  partSize: number;
  multipartUploadThreshold: number;
  throughputTargetGbps: number;
  memoryLimit: number;
  connections: number;
  /** Whether `connections` came from maxConnections: then every transfer keeps that many parts in flight, unmeasured. */
  maxConnectionsGiven: boolean;
  maxRequestsInFlight: number;
  networkInterfaceNames: readonly string[];
  retry: RetryOptions;
  stallTimeoutMs: number;
  connectTimeoutMs: number;
  endpoint: string | null;
  forcePathStyle: boolean | null;
  proxy: ProxyChoice<ProxyEndpoint> | null;
  lookup: LookupFunction | undefined;
  onRequestMetrics: RequestMetricsCallback | undefined;
  requestChecksumCalculation: RequestChecksumCalculation;
}

/** When the high-level uploads compute a checksum: always where S3 takes one, or only when asked. */
export type RequestChecksumCalculation = 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';

/** `WHEN_SUPPORTED` or `WHEN_REQUIRED` in any case (the environment and profiles write them lower case), or an InvalidArgumentError naming `source`. */
export function checkChecksumCalculation(source: string, value: unknown): RequestChecksumCalculation {
  const upper = typeof value === 'string' ? value.trim().toUpperCase() : value;
  if (upper === 'WHEN_SUPPORTED' || upper === 'WHEN_REQUIRED') return upper;
  throw new InvalidArgumentError(source, `must be when_supported or when_required, got ${describe(value)}`);
}

export function requirePositiveInteger(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(option, `must be a positive whole number of bytes, got ${describe(value)}`);
  }
  return value;
}

/** Default of `stallTimeoutMs`. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
/** Default of `connectTimeoutMs`: longer than aws-c-s3's 3 s, for a TLS handshake over a slow or lossy link. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Node's timers hold at most 2^31 - 1 ms (about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function requireMilliseconds(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new InvalidArgumentError(option, `must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${describe(value)}`);
  }
  return value;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** Checks a part size and threshold pair; `where` prefixes option names in errors. */
export function checkPartSizes(partSize: number, threshold: number): void {
  requirePositiveInteger('partSize', partSize);
  requirePositiveInteger('multipartUploadThreshold', threshold);
  if (partSize > MAX_PART_SIZE) {
    throw new InvalidArgumentError('partSize', `must be at most 5 GiB (${MAX_PART_SIZE} bytes), got ${partSize}`);
  }
  if (threshold < partSize) {
    throw new InvalidArgumentError('multipartUploadThreshold', `must be at least partSize (${partSize}), got ${threshold}`);
  }
  // At or under the threshold an object goes as one PutObject, which S3 refuses past 5 GiB (EntityTooLarge).
  if (threshold > MAX_SINGLE_PUT_SIZE) {
    throw new InvalidArgumentError(
      'multipartUploadThreshold',
      `must be at most 5 GiB (${MAX_SINGLE_PUT_SIZE} bytes), the largest single PUT, got ${threshold}`,
    );
  }
}

function checkSigningConfig(option: string, config: unknown): S3SigningConfig | null {
  if (config === undefined || config === null) return null;
  if (typeof config !== 'object') throw new InvalidArgumentError(option, `must be an object from createDefaultS3SigningConfig(), got ${describe(config)}`);
  const { algorithm, region, service, credentialProvider, signedBodyValue } = config as S3SigningConfig;
  if (algorithm === AwsSigningAlgorithm.V4_ASYMMETRIC) {
    throw new UnsupportedError(`${option}.algorithm: SigV4a (V4_ASYMMETRIC) signing is not available in this build`);
  }
  if (algorithm !== undefined && algorithm !== AwsSigningAlgorithm.V4 && algorithm !== AwsSigningAlgorithm.V4_S3EXPRESS) {
    throw new InvalidArgumentError(`${option}.algorithm`, `must be AwsSigningAlgorithm.V4 or V4_S3EXPRESS, got ${describe(algorithm)}`);
  }
  for (const [name, value] of Object.entries({ region, service, signedBodyValue })) {
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new InvalidArgumentError(`${option}.${name}`, `must be a non-empty string, got ${describe(value)}`);
    }
  }
  checkCredentialProvider(`${option}.credentialProvider`, credentialProvider);
  return config as S3SigningConfig;
}

function checkCredentialProvider(option: string, provider: unknown): void {
  if (provider !== undefined && typeof provider !== 'function') {
    throw new InvalidArgumentError(option, 'must be a function returning a Promise of credentials, such as AwsCredentialsProvider.newStatic(...)');
  }
}

/** Merges the deprecated `credentialProvider` into a signing config, as the reference does. */
export function signingConfigFrom(signingConfig: unknown, credentialProvider: unknown): S3SigningConfig | null {
  const config = checkSigningConfig('signingConfig', signingConfig);
  checkCredentialProvider('credentialProvider', credentialProvider);
  if (!credentialProvider) return config;
  return { ...config, credentialProvider: config?.credentialProvider ?? (credentialProvider as AwsCredentialsProvider) };
}

function checkTlsOptions(value: unknown): TlsConnectionOptions | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') throw new InvalidArgumentError('tlsConnectionOptions', `must be an object, got ${describe(value)}`);
  const { verifyPeer, serverName } = value as TlsConnectionOptions;
  if (verifyPeer !== undefined && typeof verifyPeer !== 'boolean') {
    throw new InvalidArgumentError('tlsConnectionOptions.verifyPeer', `must be a boolean, got ${describe(verifyPeer)}`);
  }
  if (serverName !== undefined && (typeof serverName !== 'string' || serverName === '')) {
    throw new InvalidArgumentError('tlsConnectionOptions.serverName', `must be a non-empty string, got ${describe(serverName)}`);
  }
  return value as TlsConnectionOptions;
}

/** What the machine contributes to the defaults. */
export interface ClientEnvironment {
  /** The memory this process may use (platform/memory.ts); caps the default memory limit. */
  usableMemory: number;
  /** The detected instance type's recommended throughput target, or null. */
  recommendedThroughputGbps: number | null;
  /** The variables the proxy comes from when the options name none; none when unset. */
  env?: NodeJS.ProcessEnv;
}

/** Validates every client option and fills in the defaults. */
export function resolveClientOptions(options: S3ClientOptions, environment: ClientEnvironment): ResolvedClientConfig {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('options', 'S3Client needs an options object with at least a region');
  }
  // An http:// endpoint means no TLS unless said otherwise.
  const plainEndpoint = typeof options.endpoint === 'string' && /^http:/i.test(options.endpoint);
  const {
    region,
    tlsMode = plainEndpoint ? S3RequestTlsMode.DISABLED : S3RequestTlsMode.ENABLED,
    enableS3Express = false,
    networkInterfaceNames = [],
  } = options;
  if (typeof region !== 'string' || region.trim() === '') {
    throw new InvalidArgumentError('region', `must be a non-empty string such as "us-east-1", got ${describe(region)}`);
  }
  if (!isEnumValue(S3RequestTlsMode, tlsMode)) {
    throw new InvalidArgumentError('tlsMode', `must be S3RequestTlsMode.ENABLED or S3RequestTlsMode.DISABLED, got ${describe(tlsMode)}`);
  }
  if (typeof enableS3Express !== 'boolean') {
    throw new InvalidArgumentError('enableS3Express', `must be a boolean, got ${describe(enableS3Express)}`);
  }
  const signingConfig = signingConfigFrom(options.signingConfig, options.credentialProvider);
  if (signingConfig?.algorithm === AwsSigningAlgorithm.V4_S3EXPRESS && !enableS3Express) {
    throw new InvalidArgumentError('enableS3Express', 'must be true for a signing config with AwsSigningAlgorithm.V4_S3EXPRESS, as aws-c-s3 requires');
  }
  const tlsConnectionOptions = checkTlsOptions(options.tlsConnectionOptions);

  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  requirePositiveInteger('partSize', partSize);
  const multipartUploadThreshold = options.multipartUploadThreshold ?? defaultMultipartThreshold(partSize);
  checkPartSizes(partSize, multipartUploadThreshold);

  const throughputTargetGbps = options.throughputTargetGbps ?? environment.recommendedThroughputGbps ?? DEFAULT_THROUGHPUT_TARGET_GBPS;
  if (typeof throughputTargetGbps !== 'number' || !Number.isFinite(throughputTargetGbps) || throughputTargetGbps <= 0) {
    throw new InvalidArgumentError('throughputTargetGbps', `must be a positive number, got ${describe(throughputTargetGbps)}`);
  }

  const memoryLimit = options.memoryLimit ?? defaultMemoryLimit(throughputTargetGbps, environment.usableMemory);
  requirePositiveInteger('memoryLimit', memoryLimit);
  if (memoryLimit < partSize) {
    throw new InvalidArgumentError('memoryLimit', `must hold at least one part (partSize ${partSize}), got ${memoryLimit}`);
  }

  if (!Array.isArray(networkInterfaceNames) || networkInterfaceNames.some((name) => typeof name !== 'string' || name === '')) {
    throw new InvalidArgumentError('networkInterfaceNames', 'must be an array of interface names such as ["eth0", "eth1"]');
  }

  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
    throw new InvalidArgumentError('maxRetries', `must be a whole number, 0 or more, got ${describe(maxRetries)}`);
  }
  const stallTimeoutMs = requireMilliseconds('stallTimeoutMs', options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS);
  const connectTimeoutMs = requireMilliseconds('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);

  if (options.endpoint !== undefined && typeof options.endpoint !== 'string') {
    throw new InvalidArgumentError('endpoint', `must be a URL string, got ${describe(options.endpoint)}`);
  }
  if (options.forcePathStyle !== undefined && typeof options.forcePathStyle !== 'boolean') {
    throw new InvalidArgumentError('forcePathStyle', `must be a boolean, got ${describe(options.forcePathStyle)}`);
  }

  if (options.lookup !== undefined && typeof options.lookup !== 'function') {
    throw new InvalidArgumentError('lookup', `must be a function with dns.lookup's signature, got ${describe(options.lookup)}`);
  }
  if (options.onRequestMetrics !== undefined && typeof options.onRequestMetrics !== 'function') {
    throw new InvalidArgumentError('onRequestMetrics', `must be a function, got ${describe(options.onRequestMetrics)}`);
  }
  const proxy = resolveProxy(options.proxy, environment.env ?? {});
  const requestChecksumCalculation =
    options.requestChecksumCalculation === undefined
      ? 'WHEN_SUPPORTED'
      : checkChecksumCalculation('requestChecksumCalculation', options.requestChecksumCalculation);

  const connections = options.maxConnections === undefined ? connectionCount(throughputTargetGbps) : options.maxConnections;
  if (!Number.isSafeInteger(connections) || connections < 1) {
    throw new InvalidArgumentError('maxConnections', `must be a whole number, 1 or more, got ${describe(options.maxConnections)}`);
  }
  return {
    region,
    tls: tlsMode === S3RequestTlsMode.ENABLED,
    tlsConnectionOptions,
    signingConfig,
    enableS3Express,
    partSize,
    multipartUploadThreshold,
    throughputTargetGbps,
    memoryLimit,
    connections,
    maxConnectionsGiven: options.maxConnections !== undefined,
    maxRequestsInFlight: maxRequestsInFlight(connections),
    networkInterfaceNames,
    retry: { maxRetries, backoffBaseMs: DEFAULT_BACKOFF_BASE_MS, backoffMaxMs: DEFAULT_BACKOFF_MAX_MS },
    stallTimeoutMs,
    connectTimeoutMs,
    endpoint: options.endpoint ?? null,
    forcePathStyle: options.forcePathStyle ?? null,
    proxy,
    lookup: options.lookup,
    onRequestMetrics: options.onRequestMetrics,
    requestChecksumCalculation,
  };
}
