/**
 * Validation of makeRequest's arguments, as functions of their inputs and the
 * file system's answers: a bad request fails here, at the call, before any
 * connection is opened.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { S3ChecksumAlgorithm, S3ChecksumLocation, S3RequestType, isEnumValue, type S3ChecksumConfig } from '../core/enums.js';
import { isLoopbackHost } from '../http/hosts.js';
import { InvalidArgumentError } from '../core/errors.js';
import { HTTP_TOKEN, UNSAFE_HEADER_VALUE } from '../http/h1-parser.js';
import { describe } from './options.js';
import type { AwsCredentialsProvider } from '../auth/credentials.js';
import type { S3SigningConfig } from '../auth/signing.js';
import type { S3ResumeToken } from '../meta-request/auto-ranged-put.js';
import type { S3RequestCallbacks } from '../meta-request/meta-request.js';

/** What `request.body` may be. */
export type S3RequestBody = Buffer | Uint8Array | string | Readable | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** The endpoint a request goes to. */
export interface Endpoint {
  /** `http(s)://host:port`, what the connection pool is keyed by. */
  origin: string;
  /** The Host header as sent and signed. */
  host: string;
  /** Whether the host is this machine (localhost, 127.0.0.0/8, ::1). */
  loopback: boolean;
}

/** The shape of an HttpRequest that makeRequest reads (s3tx's own or `@smithy/protocol-http`'s). */
export interface HttpRequestLike {
  method: string;
  path: string;
  hostname?: string;
  port?: number;
  query?: Record<string, string | string[] | null | undefined>;
  headers: Record<string, string | undefined>;
  body?: unknown;
}

export function checkHttpRequest(request: unknown): HttpRequestLike {
  if (!request || typeof request !== 'object') {
    throw new InvalidArgumentError('request', 'must be an HttpRequest (from s3tx, or @smithy/protocol-http)');
  }
  const { method, path, headers } = request as HttpRequestLike;
  if (typeof method !== 'string' || !/^[A-Z]+$/i.test(method))
    throw new InvalidArgumentError('request.method', `must be an HTTP method, got ${describe(method)}`);
  if (typeof path !== 'string' || !path.startsWith('/')) throw new InvalidArgumentError('request.path', `must start with "/", got ${describe(path)}`);
  const raw = /[^\x21-\x7e]/.exec(path);
  if (raw) throw new InvalidArgumentError('request.path', `must be URI-encoded (encodeURIComponent each key segment); it contains ${JSON.stringify(raw[0])}`);
  if (!headers || typeof headers !== 'object') throw new InvalidArgumentError('request.headers', 'must be an object of header names to values');
  return request as HttpRequestLike;
}

/** Header names in lower case, values as strings; a name or value that would break the request's head is refused. */
export function normalizeHeaders(headers: Record<string, unknown>): Record<string, string> {
  const normalized: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || value === null) continue;
    if (!HTTP_TOKEN.test(name)) throw new InvalidArgumentError('request.headers', `has a header name that is not an HTTP token: ${JSON.stringify(name)}`);
    if (UNSAFE_HEADER_VALUE.test(String(value))) throw new InvalidArgumentError('request.headers', `header ${name} has a line break or NUL in its value`);
    const key = name.toLowerCase();
    normalized[key] = key in normalized ? `${normalized[key]}, ${String(value)}` : String(value);
  }
  return normalized;
}

/**
 * The endpoint: the Host header when there is one (its port honoured), else the
 * request's hostname and port. The scheme comes from the client's TLS mode.
 */
export function resolveEndpoint(request: HttpRequestLike, headers: Record<string, string>, tls: boolean): Endpoint {
  const scheme = tls ? 'https' : 'http';
  let host = headers.host?.trim();
  if (!host) {
    const hostname = request.hostname;
    if (!hostname) throw new InvalidArgumentError('request.headers.host', 'is needed: name the endpoint in a Host header or in request.hostname');
    const bracketed = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
    host = request.port ? `${bracketed}:${request.port}` : bracketed;
  }
  let url: URL;
  try {
    url = new URL(`${scheme}://${host}`);
  } catch {
    throw new InvalidArgumentError('request.headers.host', `is not a valid host, got ${describe(host)}`);
  }
  if (url.pathname !== '/' || url.search || url.username)
    throw new InvalidArgumentError('request.headers.host', `must be a host and optional port, got ${describe(host)}`);
  return { origin: url.origin, host, loopback: isLoopbackHost(url.hostname) };
}

/** Splits `/bucket/key?a=b` into the encoded path and decoded query values, merged with `request.query`. */
export function splitPath(request: HttpRequestLike): { path: string; query: Record<string, string> } {
  const mark = request.path.indexOf('?');
  const path = mark < 0 ? request.path : request.path.slice(0, mark);
  const query: Record<string, string> = {};
  if (mark >= 0) {
    for (const pair of request.path.slice(mark + 1).split('&')) {
      if (pair === '') continue;
      const equals = pair.indexOf('=');
      const key = equals < 0 ? pair : pair.slice(0, equals);
      const value = equals < 0 ? '' : pair.slice(equals + 1);
      try {
        query[decodeURIComponent(key)] = decodeURIComponent(value);
      } catch {
        throw new InvalidArgumentError('request.path', `has a malformed query string: ${describe(request.path)}`);
      }
    }
  }
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (Array.isArray(value)) throw new InvalidArgumentError(`request.query.${key}`, 'S3 takes one value per query parameter');
    if (value !== undefined) query[key] = value ?? '';
  }
  return { path, query };
}

/** Stat of a file to upload: it must exist and be a regular file. */
export function checkSendFile(path: unknown): { path: string; size: number } {
  if (typeof path !== 'string' || path === '') throw new InvalidArgumentError('sendFilepath', `must be a file path, got ${describe(path)}`);
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new InvalidArgumentError('sendFilepath', `no file exists at ${path}`);
  }
  if (!stats.isFile()) throw new InvalidArgumentError('sendFilepath', `${path} is ${stats.isDirectory() ? 'a folder' : 'not a regular file'}`);
  return { path, size: stats.size };
}

/** A download's target: its folder must exist, and the target must not be a folder. */
export function checkRecvFile(path: unknown): string {
  if (typeof path !== 'string' || path === '') throw new InvalidArgumentError('recvFilepath', `must be a file path, got ${describe(path)}`);
  const absolute = resolve(path);
  const folder = dirname(absolute);
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    // reported below
  }
  if (!isFolder) throw new InvalidArgumentError('recvFilepath', `the folder ${folder} does not exist`);
  try {
    if (statSync(absolute).isDirectory()) throw new InvalidArgumentError('recvFilepath', `${absolute} is a folder`);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
  }
  return absolute;
}

export function checkRequestType(type: unknown): S3RequestType {
  if (!isEnumValue(S3RequestType, type)) {
    throw new InvalidArgumentError('type', `must be S3RequestType.DEFAULT, GET_OBJECT, PUT_OBJECT or COPY_OBJECT, got ${describe(type)}`);
  }
  return type;
}

export function checkCallbacks(options: Record<string, unknown>): void {
  for (const name of ['onHeaders', 'onBody', 'onDone', 'onProgress']) {
    if (options[name] !== undefined && typeof options[name] !== 'function')
      throw new InvalidArgumentError(name, `must be a function, got ${describe(options[name])}`);
  }
}

/** Checks a checksum configuration: valid enums, an algorithm always with its location, none on a GET. */
export function checkChecksumConfig(config: unknown, type: S3RequestType): S3ChecksumConfig | null {
  if (config === undefined || config === null) return null;
  if (typeof config !== 'object') throw new InvalidArgumentError('checksumConfig', `must be an object, got ${describe(config)}`);
  const { algorithm, location, validateResponse } = config as S3ChecksumConfig;
  if (algorithm !== undefined && !isEnumValue(S3ChecksumAlgorithm, algorithm)) {
    throw new InvalidArgumentError('checksumConfig.algorithm', `must be an S3ChecksumAlgorithm, got ${describe(algorithm)}`);
  }
  if (location !== undefined && !isEnumValue(S3ChecksumLocation, location)) {
    throw new InvalidArgumentError('checksumConfig.location', `must be S3ChecksumLocation.HEADER or TRAILER, got ${describe(location)}`);
  }
  if (validateResponse !== undefined && typeof validateResponse !== 'boolean') {
    throw new InvalidArgumentError('checksumConfig.validateResponse', `must be a boolean, got ${describe(validateResponse)}`);
  }
  if (algorithm !== undefined && location === undefined) {
    throw new InvalidArgumentError('checksumConfig.location', 'is needed when an algorithm is set: HEADER or TRAILER');
  }
  if (location !== undefined && algorithm === undefined) throw new InvalidArgumentError('checksumConfig.algorithm', 'is needed when a location is set');
  if (algorithm !== undefined && type === S3RequestType.GET_OBJECT) {
    throw new InvalidArgumentError('checksumConfig.algorithm', 'a GET_OBJECT sends no body to put a checksum on; use validateResponse');
  }
  return config as S3ChecksumConfig;
}

export function isBufferLike(body: unknown): body is Buffer | Uint8Array | string {
  return typeof body === 'string' || body instanceof Uint8Array;
}

export function isStreamBody(body: unknown): body is Readable | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> {
  return !!body && typeof body === 'object' && (Symbol.asyncIterator in body || typeof (body as ReadableStream).getReader === 'function');
}

export function asBuffer(body: Buffer | Uint8Array | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** A stream body as an async iterable (a web ReadableStream without one gets a reader loop). */
export function asAsyncIterable(body: Readable | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  if (Symbol.asyncIterator in body) return body as AsyncIterable<Uint8Array>;
  return Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>);
}

/** A declared body length from Content-Length, or null. */
export function declaredLength(headers: Record<string, string>): number | null {
  const text = headers['content-length'];
  if (text === undefined) return null;
  const length = Number(text);
  if (!Number.isSafeInteger(length) || length < 0)
    throw new InvalidArgumentError('request.headers.content-length', `must be a whole number of bytes, got ${describe(text)}`);
  return length;
}

/** The source of a copy, from `x-amz-copy-source` (`/bucket/key` or `bucket/key`, URL-encoded, optional `?versionId=`). */
export function parseCopySource(value: string | undefined): { bucket: string; key: string; versionId: string | null } {
  const mark = value?.indexOf('?') ?? -1;
  const source = (mark < 0 ? value : value!.slice(0, mark))?.replace(/^\//, '') ?? '';
  const slash = source.indexOf('/');
  if (slash <= 0 || slash === source.length - 1) {
    throw new InvalidArgumentError('request.headers.x-amz-copy-source', `must name the source as "/bucket/key", got ${describe(value)}`);
  }
  const versionId = mark < 0 ? null : new URLSearchParams(value!.slice(mark + 1)).get('versionId');
  return { bucket: source.slice(0, slash), key: source.slice(slash + 1), versionId };
}

// Virtual-hosted S3 endpoints: the first label of the host is the bucket.
const VIRTUAL_HOSTED = /^[^.]+\.(s3[.-][^:]*amazonaws\.com(?:\.cn)?)(:\d+)?$/i;

/** Where a HEAD of the copy source goes: the source bucket's own host when virtual-hosted, else the same host, path style. */
export function copySourceLocation(source: { bucket: string; key: string }, endpoint: Endpoint): { endpoint: Endpoint; path: string } {
  const match = VIRTUAL_HOSTED.exec(endpoint.host);
  if (!match) return { endpoint, path: `/${source.bucket}/${source.key}` };
  const host = `${source.bucket}.${match[1]}${match[2] ?? ''}`;
  // An amazonaws.com host, never this machine.
  return { endpoint: { origin: `${new URL(endpoint.origin).protocol}//${host}`, host, loopback: false }, path: `/${source.key}` };
}

/**
 * Set by the high-level methods to the bucket a request is for: a directory bucket's
 * (`name--zone--x-s3`) requests are signed with S3 Express sessions by themselves, as the AWS
 * SDKs do, without `enableS3Express` or a V4_S3EXPRESS signing config. A symbol, so it is no
 * option a caller types.
 */
export const HIGH_LEVEL_BUCKET = Symbol('s3tx.highLevelBucket');

/** Arguments of {@link S3ClientCore.makeRequest}; the names mirror awscrt.s3.S3Client.make_request. */
export interface S3RequestOptions extends S3RequestCallbacks {
  [HIGH_LEVEL_BUCKET]?: string;
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
