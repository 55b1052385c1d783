/** One vocabulary of error codes: the CRT's names where it has one, ERR_S3TX_ otherwise, and S3's own as s3Code. */
import { describe, expect, it } from 'vitest';
import {
  ChecksumMismatchError,
  FileIoError,
  InvalidArgumentError,
  InvalidResponseError,
  LockNotOwnedError,
  NetworkError,
  RequestCanceledError,
  S3ResponseError,
  TlsError,
  UnsafePathError,
  UnsupportedError,
} from '../src/index.js';
import { crtCodeOf } from '../src/core/errors.js';

const answer = (statusCode: number, s3Code: string) =>
  new S3ResponseError({ s3Code, message: s3Code, statusCode, headers: [], body: null, operationName: 'GetObject' });

describe('error codes', () => {
  it('every error class has a code of the vocabulary', () => {
    const errors = [
      new InvalidArgumentError('partSize', 'x'),
      new UnsupportedError('x'),
      new RequestCanceledError(),
      new InvalidResponseError('x'),
      new InvalidResponseError('x', 'AWS_ERROR_S3_MISSING_ETAG'),
      new NetworkError('x', null),
      new TlsError('x', null),
      new FileIoError('x', null),
      new UnsafePathError('/p', 'is a symbolic link'),
      new ChecksumMismatchError('CRC32C', 'a', 'b'),
      new LockNotOwnedError('name'),
      answer(404, 'NoSuchKey'),
    ];
    for (const error of errors) expect(error.code, error.name).toMatch(/^(AWS_(ERROR|IO)_[A-Z0-9_]+|ERR_S3TX_[A-Z_]+)$/);
    expect(new ChecksumMismatchError('CRC32C', 'a', 'b').code).toBe('AWS_ERROR_S3_RESPONSE_CHECKSUM_MISMATCH');
    expect(new LockNotOwnedError('name').code).toBe('AWS_ERROR_MUTEX_CALLER_NOT_OWNER');
    expect(new InvalidArgumentError('partSize', 'x').code).toBe('AWS_ERROR_INVALID_ARGUMENT');
  });

  it("an S3 error answer is classified as aws-c-s3 does, with S3's code beside it", () => {
    expect(answer(404, 'NoSuchKey')).toMatchObject({ code: 'AWS_ERROR_S3_INVALID_RESPONSE_STATUS', s3Code: 'NoSuchKey', statusCode: 404 });
    expect(crtCodeOf(503, 'SlowDown')).toBe('AWS_ERROR_S3_SLOW_DOWN');
    expect(crtCodeOf(503, 'ServiceUnavailable')).toBe('AWS_ERROR_S3_SLOW_DOWN');
    expect(crtCodeOf(500, 'InternalError')).toBe('AWS_ERROR_S3_INTERNAL_ERROR');
    expect(crtCodeOf(500, 'InternalServerError')).toBe('AWS_ERROR_S3_INTERNAL_ERROR');
    expect(crtCodeOf(400, 'SlowDown')).toBe('AWS_ERROR_S3_SLOW_DOWN');
    expect(crtCodeOf(403, 'RequestTimeTooSkewed')).toBe('AWS_ERROR_S3_REQUEST_TIME_TOO_SKEWED');
    expect(crtCodeOf(400, 'RequestTimeout')).toBe('AWS_ERROR_S3_REQUEST_TIMEOUT');
    expect(crtCodeOf(200, 'InternalError')).toBe('AWS_ERROR_S3_INTERNAL_ERROR');
    expect(crtCodeOf(200, 'InvalidPart')).toBe('AWS_ERROR_S3_NON_RECOVERABLE_ASYNC_ERROR');
    expect(crtCodeOf(412, 'PreconditionFailed')).toBe('AWS_ERROR_S3_INVALID_RESPONSE_STATUS');
  });
});
