/**
 * Runs one makeRequest for the high-level methods: an AbortSignal cancels it,
 * progress is reported as running totals, and the response headers come back
 * as a plain object.
 */
import { RequestCanceledError } from '../core/errors.js';
import type { S3ClientCore } from '../client/s3-client-core.js';
import type { S3RequestOptions } from '../client/request-options.js';

/** Running totals of one transfer. */
export interface Progress {
  /** Bytes moved so far. */
  transferred: number;
  /** Bytes in all, when known. */
  total: number | null;
}

/** What every high-level method takes beside its own arguments. */
export interface TransferControl {
  /** Cancels the transfer: parts in flight are aborted, an upload is aborted, no partial file is left. */
  signal?: AbortSignal;
  /** Called as parts complete, with running totals. */
  onProgress?: (progress: Progress) => void;
}

export interface Performed {
  statusCode: number;
  headers: Record<string, string>;
  /** Bytes moved, as the progress reports counted them. */
  transferred: number;
}

/** Starts `options` on `client` and waits for it; the signal and progress of `control` are wired in. */
export async function perform(
  client: S3ClientCore,
  options: Omit<S3RequestOptions, 'onHeaders' | 'onProgress'>,
  control: TransferControl,
  total: number | null = null,
): Promise<Performed> {
  const { signal, onProgress } = control;
  if (signal?.aborted) throw new RequestCanceledError('the transfer was aborted before it started');
  let answer: Pick<Performed, 'statusCode' | 'headers'> = { statusCode: 0, headers: {} };
  let transferred = 0;
  const request = client.makeRequest({
    ...options,
    onHeaders: (statusCode, list) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of list) headers[name.toLowerCase()] = value;
      answer = { statusCode, headers };
    },
    onProgress: (bytes: number) => onProgress?.({ transferred: (transferred += bytes), total }),
  });
  const abort = () => request.cancel();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    await request.finishedFuture;
  } finally {
    signal?.removeEventListener('abort', abort);
    // onDone has run and every file handle and connection use is released once this resolves.
    await request.shutdownEvent;
  }
  return { ...answer, transferred };
}
