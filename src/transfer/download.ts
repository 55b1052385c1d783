/** `client.download()` and `client.downloadStream()`: one object to a file, a Writable or a Readable, through GET_OBJECT. */
import { lutimes } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { HttpRequest } from '../http/http-request.js';
import { objectLocation } from '../protocol/endpoint.js';
import { S3RequestType } from '../core/enums.js';
import { FileIoError, InvalidArgumentError, RequestCanceledError } from '../core/errors.js';
import type { S3ClientCore } from '../client/s3-client-core.js';
import { HIGH_LEVEL_BUCKET, type S3RequestOptions } from '../client/request-options.js';
import { parseByteCount } from '../http/h1-parser.js';
import { checkObjectName, metadataFromHeaders } from './object-headers.js';
import { perform, type TransferControl } from './perform.js';

export interface DownloadSource extends TransferControl {
  bucket: string;
  key: string;
  versionId?: string;
  /** A single range, `bytes=0-99`, `bytes=100-` or `bytes=-100`. */
  range?: string;
  /** Fail with 412 unless the object still has this ETag. */
  ifMatch?: string;
  /** Compare the bytes with the checksum S3 stored, when it has one. */
  validateChecksum?: boolean;
  /** Any other request headers (SSE-C keys, requester pays), sent as given. */
  headers?: Record<string, string>;
  partSize?: number;
  /** To a Writable or a stream: bytes fetched ahead of the consumer at most; 8 parts by default. */
  readAhead?: number;
}

export interface DownloadOptions extends DownloadSource {
  /** A file path (written through a temporary file and renamed when complete; its modification time becomes the object's) or a Writable. */
  to: string | Writable;
  /**
   * To a file: write into `<to>.s3tx-partial` beside a state file, both kept if the download fails,
   * so that the same call later fetches only the parts still missing (if the ETag is unchanged).
   */
  resumable?: boolean;
}

export interface DownloadResult {
  bucket: string;
  key: string;
  bytes: number;
  etag: string | null;
  versionId: string | null;
  contentType: string | null;
  lastModified: Date | null;
  metadata: Record<string, string>;
  /** True when the bytes were compared with a checksum S3 stored. */
  checksumValidated: boolean;
}

function getRequest(client: S3ClientCore, source: DownloadSource): Omit<S3RequestOptions, 'onHeaders' | 'onProgress'> {
  checkObjectName(source.bucket, source.key);
  const location = objectLocation(client.endpointConfig, source.bucket, source.key);
  const headers: Record<string, string> = { host: location.host, ...source.headers };
  if (source.range !== undefined) headers.range = source.range;
  if (source.ifMatch !== undefined) headers['if-match'] = source.ifMatch;
  return {
    [HIGH_LEVEL_BUCKET]: source.bucket,
    type: S3RequestType.GET_OBJECT,
    request: new HttpRequest({ method: 'GET', path: location.path, headers, ...(source.versionId ? { query: { versionId: source.versionId } } : {}) }),
    ...(source.validateChecksum ? { checksumConfig: { validateResponse: true } } : {}),
    ...(source.partSize !== undefined ? { partSize: source.partSize } : {}),
  };
}

/** The read-ahead window of a download to a consumer that may be slow. */
function readAheadOf(client: S3ClientCore, source: DownloadSource): number {
  return source.readAhead ?? READ_AHEAD_PARTS * (source.partSize ?? client.config.partSize);
}

/** Parts fetched ahead of a Writable or Readable consumer: enough to keep connections busy, bounded whatever the file size. */
const READ_AHEAD_PARTS = 8;

/** Writes chunks to a Writable, waiting for 'drain' when it asks to: the download slows down to its pace. */
function writeTo(target: Writable): (chunk: Buffer) => void | Promise<void> {
  return (chunk) => {
    // The chunk is a view of a part buffer that will be reused: the Writable gets its own copy.
    if (target.write(Buffer.from(chunk))) return;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        target.off('drain', done).off('error', done).off('close', closed);
        if (error) reject(error);
        else resolve();
      };
      const closed = () => done(new FileIoError('the target stream was closed before the download finished', null));
      target.once('drain', done).once('error', done).once('close', closed);
    });
  };
}

export async function download(client: S3ClientCore, options: DownloadOptions): Promise<DownloadResult> {
  if (!options || typeof options !== 'object') throw new InvalidArgumentError('options', 'download needs { bucket, key, to }');
  const { to } = options;
  if (typeof to !== 'string' && !(to && typeof to === 'object' && typeof (to as Writable).write === 'function')) {
    throw new InvalidArgumentError('to', 'must be a file path or a Writable');
  }
  let checksumValidated = false;
  const { headers, transferred } = await perform(
    client,
    {
      ...getRequest(client, options),
      ...(typeof to === 'string'
        ? { recvFilepath: to, ...(options.resumable ? { resumable: true } : {}) }
        : { onBody: writeTo(to), readAhead: readAheadOf(client, options) }),
      onDone: (result) => (checksumValidated = result.didValidateChecksum),
    },
    options,
  );
  const lastModified = headers['last-modified'] ? new Date(headers['last-modified']) : null;
  // As `aws s3 cp` does: the file carries the object's time, which is what a sync compares. lutimes,
  // as a link planted under the name since the rename must not have its target's time changed.
  if (typeof to === 'string' && lastModified && !Number.isNaN(lastModified.getTime())) await lutimes(to, lastModified, lastModified).catch(() => {});
  return {
    bucket: options.bucket,
    key: options.key,
    bytes: parseByteCount(headers['content-length']) ?? transferred,
    etag: headers.etag ?? null,
    versionId: headers['x-amz-version-id'] ?? null,
    contentType: headers['content-type'] ?? null,
    lastModified,
    metadata: metadataFromHeaders(headers),
    checksumValidated,
  };
}

/**
 * A Readable of the object's bytes. Parts are fetched in parallel ahead of the reader, as far as
 * the memory limit allows, and no further: a reader that stops stops the download. Destroying the
 * stream cancels it; a failure destroys the stream with the error.
 */
export function downloadStream(client: S3ClientCore, source: DownloadSource): Readable {
  const request = getRequest(client, source);
  let resume: (() => void) | null = null;
  const stream = new Readable({
    highWaterMark: 1024 * 1024,
    read() {
      resume?.();
      resume = null;
    },
    destroy(error, callback) {
      controller.abort();
      resume?.();
      callback(error);
    },
  });
  const controller = new AbortController();
  source.signal?.addEventListener('abort', () => stream.destroy(new RequestCanceledError('the download was aborted')), { once: true });
  perform(
    client,
    {
      ...request,
      readAhead: readAheadOf(client, source),
      onBody: (chunk) => {
        if (stream.push(Buffer.from(chunk))) return;
        return new Promise<void>((resolve) => (resume = resolve));
      },
    },
    { signal: controller.signal, onProgress: source.onProgress },
  ).then(
    () => stream.push(null),
    (error: unknown) => stream.destroy(error as Error),
  );
  return stream;
}
