import { describe, expect, it } from 'vitest';
import { InvalidResponseError, NetworkError, S3ResponseError } from '../src/core/errors.js';
import { backoffDelay, isRetryable } from '../src/meta-request/retry.js';

function s3Error(statusCode: number, code: string): S3ResponseError {
  return new S3ResponseError({ s3Code: code, message: code, statusCode, headers: [], body: null, operationName: 'UploadPart' });
}

describe('retry policy', () => {
  it('retries connection failures, throttling and server errors', () => {
    expect(isRetryable(new NetworkError('reset', null))).toBe(true);
    for (const status of [500, 502, 503, 504]) expect(isRetryable(s3Error(status, 'X'))).toBe(true);
    expect(isRetryable(s3Error(400, 'RequestTimeout'))).toBe(true);
    expect(isRetryable(s3Error(200, 'InternalError'))).toBe(true);
  });

  it('does not retry what will fail again', () => {
    expect(isRetryable(s3Error(404, 'NoSuchKey'))).toBe(false);
    expect(isRetryable(s3Error(403, 'AccessDenied'))).toBe(false);
    expect(isRetryable(s3Error(412, 'PreconditionFailed'))).toBe(false);
    expect(isRetryable(new InvalidResponseError('bad'))).toBe(false);
    expect(isRetryable(new Error('bug'))).toBe(false);
  });

  it('waits a uniformly random time up to base x 2^attempt, capped (full jitter)', () => {
    const options = { backoffBaseMs: 100, backoffMaxMs: 1000 };
    expect(backoffDelay(0, options, () => 0.999)).toBe(99);
    expect(backoffDelay(2, options, () => 0.5)).toBe(200);
    expect(backoffDelay(10, options, () => 0.999)).toBe(999);
    expect(backoffDelay(3, options, () => 0)).toBe(0);
  });
});
