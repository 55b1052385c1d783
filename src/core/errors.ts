/**
 * The project's typed errors: one vocabulary of stable codes. Where the AWS Common Runtime has a
 * name for the failure (aws-c-common, aws-c-io, aws-c-s3's include/aws/s3/s3.h), the code is that
 * name, so that code written against awscrt.s3 reads the same here; s3tx's own codes, for failures
 * the CRT does not name, start with `ERR_S3TX_`. S3's own error code (`NoSuchKey`) is an
 * S3ResponseError's `s3Code`.
 */

/** HTTP headers as the reference gives them: a list of (name, value) pairs. */
export type HeaderList = Array<[string, string]>;

/** Base class of every error s3tx raises. */
export class S3txError extends Error {
  /** A stable, machine-readable code. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** An option or argument is missing, of the wrong type or out of range. Thrown before anything is sent. */
export class InvalidArgumentError extends S3txError {
  /** The option at fault, as the caller spelled it (for example `partSize`). */
  readonly option: string;

  constructor(option: string, message: string) {
    super('AWS_ERROR_INVALID_ARGUMENT', `${option}: ${message}`);
    this.option = option;
  }
}

/** A feature exists in the reference but is not available in this build or on this platform. */
export class UnsupportedError extends S3txError {
  constructor(message: string) {
    super('AWS_ERROR_UNSUPPORTED_OPERATION', message);
  }
}

/** The request was cancelled by `S3Request.cancel()` or by closing the client. */
export class RequestCanceledError extends S3txError {
  constructor(message = 'the request was canceled') {
    super('AWS_ERROR_S3_CANCELED', message);
  }
}

/** What an InvalidResponseError says was wrong, by the CRT's name where it has one. */
export type InvalidResponseCode =
  | 'AWS_ERROR_S3_MISSING_CONTENT_RANGE_HEADER'
  | 'AWS_ERROR_S3_INVALID_CONTENT_RANGE_HEADER'
  | 'AWS_ERROR_S3_MISSING_CONTENT_LENGTH_HEADER'
  | 'AWS_ERROR_S3_INVALID_CONTENT_LENGTH_HEADER'
  | 'AWS_ERROR_S3_MISSING_ETAG'
  | 'AWS_ERROR_S3_MISSING_UPLOAD_ID'
  | 'AWS_ERROR_S3_LIST_PARTS_PARSE_FAILED'
  | 'AWS_ERROR_S3_INCORRECT_CONTENT_LENGTH'
  /** Anything else S3 would never send: a document that is not the one expected, a body where none belongs. */
  | 'ERR_S3TX_INVALID_RESPONSE';

/** The code for a Content-Range that is missing (undefined) or not the one asked for. */
export function rangeFault(headers: Record<string, string | string[] | undefined>): InvalidResponseCode {
  return headers['content-range'] === undefined ? 'AWS_ERROR_S3_MISSING_CONTENT_RANGE_HEADER' : 'AWS_ERROR_S3_INVALID_CONTENT_RANGE_HEADER';
}

/** The code for a Content-Length that is missing (undefined) or no size. */
export function lengthFault(text: string | undefined): InvalidResponseCode {
  return text === undefined ? 'AWS_ERROR_S3_MISSING_CONTENT_LENGTH_HEADER' : 'AWS_ERROR_S3_INVALID_CONTENT_LENGTH_HEADER';
}

/** The server answered with something S3 would never send: a wrong range, a missing UploadId, a body of the wrong length. */
export class InvalidResponseError extends S3txError {
  constructor(message: string, code: InvalidResponseCode = 'ERR_S3TX_INVALID_RESPONSE') {
    super(code, message);
  }
}

/** A connection failed, was reset, or moved no bytes for longer than the stall timeout. */
export class NetworkError extends S3txError {
  constructor(message: string, cause: unknown) {
    super('ERR_S3TX_NETWORK', message, { cause });
  }
}

/**
 * The TLS handshake failed: the server's certificate did not verify, or the server does not
 * speak TLS. Not retried, and never answered by falling back to plain HTTP.
 */
export class TlsError extends S3txError {
  constructor(message: string, cause: unknown) {
    super('AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE', message, { cause });
  }
}

/**
 * A proxy refused to carry a request: its answer to CONNECT was not 2xx, or, for an http endpoint
 * reached through it, it answered with an error of its own (407; 401, 403 or a 5xx with neither
 * S3's request id nor an XML body). Not retried, as asking again gets the same answer, but for 503
 * and 504 (the proxy busy, or the server slow to it), which are retried as network errors are.
 * `proxy` names it without its credentials.
 */
export class ProxyError extends S3txError {
  /** The proxy, as `http://host:port`. */
  readonly proxy: string;
  /** The proxy's status code. */
  readonly statusCode: number;

  constructor(proxy: string, statusCode: number, reason: string) {
    super('AWS_ERROR_HTTP_PROXY_CONNECT_FAILED', `the proxy ${proxy} refused the request with ${statusCode}${reason ? ` ${reason}` : ''}`);
    this.proxy = proxy;
    this.statusCode = statusCode;
  }

  /** Whether asking again may go through: the proxy was busy (503) or timed out reaching the server (504). */
  get transient(): boolean {
    return this.statusCode === 503 || this.statusCode === 504;
  }
}

/** The request failed when reading the body to send or writing the body received to a file. */
export class FileIoError extends S3txError {
  constructor(message: string, cause: unknown) {
    super('ERR_S3TX_FILE_IO', message, { cause });
  }
}

/**
 * A file s3tx would create or continue is taken by something that is not its own: a symbolic
 * link, a folder or device, another user's file, a file with other names, or a folder on the way
 * that leads outside the destination. Nothing is written through it; the path is left as it was.
 */
export class UnsafePathError extends S3txError {
  /** The path that is taken. */
  readonly path: string;

  constructor(path: string, reason: string) {
    super('ERR_S3TX_UNSAFE_PATH', `refusing to write through ${path}: it ${reason}`);
    this.path = path;
  }
}

/** A body received does not match the checksum S3 stored for it. */
export class ChecksumMismatchError extends S3txError {
  readonly algorithm: string;
  readonly expected: string;
  readonly actual: string;

  constructor(algorithm: string, expected: string, actual: string) {
    super('AWS_ERROR_S3_RESPONSE_CHECKSUM_MISMATCH', `the ${algorithm} of the body received is ${actual}, but S3 has ${expected}`);
    this.algorithm = algorithm;
    this.expected = expected;
    this.actual = actual;
  }
}

export interface S3ResponseErrorInit {
  /** S3's error code (`NoSuchKey`), or the status's name when the body has none. */
  s3Code: string;
  message: string;
  statusCode: number;
  headers: HeaderList;
  body: Buffer | null;
  operationName: string | null;
  requestId?: string | null;
}

/**
 * The CRT's code for an error answer, as aws-c-s3 classifies it: by S3's code where it names a
 * failure worth retrying, else by the status (500 InternalError, 503 SlowDown), else
 * AWS_ERROR_S3_INVALID_RESPONSE_STATUS; an error document inside a 200 with another code is
 * AWS_ERROR_S3_NON_RECOVERABLE_ASYNC_ERROR.
 */
export function crtCodeOf(statusCode: number, s3Code: string): string {
  const named = RECOVERABLE_S3_CODES[s3Code.toLowerCase()];
  if (named) return named;
  if (statusCode >= 200 && statusCode < 300) return 'AWS_ERROR_S3_NON_RECOVERABLE_ASYNC_ERROR';
  if (statusCode === 500) return 'AWS_ERROR_S3_INTERNAL_ERROR';
  if (statusCode === 503) return 'AWS_ERROR_S3_SLOW_DOWN';
  return 'AWS_ERROR_S3_INVALID_RESPONSE_STATUS';
}

const RECOVERABLE_S3_CODES: Record<string, string> = {
  slowdown: 'AWS_ERROR_S3_SLOW_DOWN',
  internalerror: 'AWS_ERROR_S3_INTERNAL_ERROR',
  internalerrors: 'AWS_ERROR_S3_INTERNAL_ERROR',
  requesttimetooskewed: 'AWS_ERROR_S3_REQUEST_TIME_TOO_SKEWED',
  requesttimeout: 'AWS_ERROR_S3_REQUEST_TIMEOUT',
};

/**
 * S3 answered a request with an error: a non-2xx status, or an `<Error>` document inside a 200
 * (CompleteMultipartUpload, CopyObject). `code` is the CRT's classification (crtCodeOf), `s3Code`
 * S3's own.
 */
export class S3ResponseError extends S3txError {
  /** S3's error code, for example `NoSuchKey` or `SlowDown`; the status's name when the body named none. */
  readonly s3Code: string;
  /** HTTP status of the failed response. */
  readonly statusCode: number;
  /** Headers of the failed response. */
  readonly headers: HeaderList;
  /** Body of the failed response, usually S3's XML; null for HEAD. */
  readonly body: Buffer | null;
  /** The S3 operation that failed, for example `UploadPart`. */
  readonly operationName: string | null;
  /** S3's request id, for support cases. */
  readonly requestId: string | null;

  constructor(init: S3ResponseErrorInit) {
    super(crtCodeOf(init.statusCode, init.s3Code), init.message);
    this.s3Code = init.s3Code;
    this.statusCode = init.statusCode;
    this.headers = init.headers;
    this.body = init.body;
    this.operationName = init.operationName;
    this.requestId = init.requestId ?? null;
  }
}
