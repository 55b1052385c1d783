/**
 * The project's typed errors. Every error s3tx raises has a stable `code`; the
 * client-side codes follow the names the AWS Common Runtime uses for the same
 * failure so that code written against awscrt.s3 reads the same here.
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
    super('ERR_S3TX_INVALID_ARGUMENT', `${option}: ${message}`);
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

/** The server answered with something S3 would never send: a wrong range, a missing UploadId, a body of the wrong length. */
export class InvalidResponseError extends S3txError {
  constructor(message: string) {
    super('AWS_ERROR_S3_INVALID_RESPONSE', message);
  }
}

/** A connection failed, was reset, or moved no bytes for longer than the stall timeout. */
export class NetworkError extends S3txError {
  constructor(message: string, cause: unknown) {
    super('AWS_ERROR_S3_NETWORK', message, { cause });
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

/** The request failed when reading the body to send or writing the body received to a file. */
export class FileIoError extends S3txError {
  constructor(message: string, cause: unknown) {
    super('AWS_ERROR_S3_FILE_IO', message, { cause });
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
    super('ChecksumMismatch', `the ${algorithm} of the body received is ${actual}, but S3 has ${expected}`);
    this.algorithm = algorithm;
    this.expected = expected;
    this.actual = actual;
  }
}

export interface S3ResponseErrorInit {
  code: string;
  message: string;
  statusCode: number;
  headers: HeaderList;
  body: Buffer | null;
  operationName: string | null;
  requestId?: string | null;
}

/** S3 answered a request with an error: a non-2xx status, or an `<Error>` document inside a 200 (CompleteMultipartUpload, CopyObject). */
export class S3ResponseError extends S3txError {
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
    super(init.code, init.message);
    this.statusCode = init.statusCode;
    this.headers = init.headers;
    this.body = init.body;
    this.operationName = init.operationName;
    this.requestId = init.requestId ?? null;
  }
}
