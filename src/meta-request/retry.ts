import { NetworkError, ProxyError, S3ResponseError } from '../core/errors.js';

/** aws-c-s3 retries each part up to 5 times. */
export const DEFAULT_MAX_RETRIES = 5;
/** Scale and cap of the exponential backoff, in milliseconds. */
export const DEFAULT_BACKOFF_BASE_MS = 100;
export const DEFAULT_BACKOFF_MAX_MS = 20_000;

export interface RetryOptions {
  /** Retries of one part after its first attempt. */
  maxRetries: number;
  /** The first retry waits up to this long; each one after doubles it. */
  backoffBaseMs: number;
  /** No wait is longer than this. */
  backoffMaxMs: number;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
const RETRYABLE_CODES = new Set(['RequestTimeout', 'SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeTooSkewed']);

/** Whether a failed attempt is worth repeating: transient network failures and S3's throttling and server errors. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (error instanceof ProxyError) return error.transient;
  if (error instanceof S3ResponseError) {
    return RETRYABLE_STATUS.has(error.statusCode) || RETRYABLE_CODES.has(error.s3Code);
  }
  return false;
}

/**
 * "Full jitter" backoff: a uniform wait between 0 and base x 2^attempt, capped.
 * `attempt` counts from 0 for the first retry; `random` is injectable for tests.
 */
export function backoffDelay(attempt: number, options: Pick<RetryOptions, 'backoffBaseMs' | 'backoffMaxMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}
