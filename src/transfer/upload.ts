/** `client.upload()`: a file, bytes or a stream to one object, through PUT_OBJECT. */
import { HIGH_LEVEL_BUCKET, type S3RequestOptions } from '../client/request-options.js';
import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { HttpRequest } from '../http/http-request.js';
import { objectLocation } from '../protocol/endpoint.js';
import { S3ChecksumAlgorithm, S3ChecksumLocation, S3RequestType } from '../core/enums.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { S3ClientCore } from '../client/s3-client-core.js';
import type { S3ResumeToken } from '../meta-request/auto-ranged-put.js';
import { planUpload } from '../meta-request/part-planner.js';
import { attributeHeaders, checkObjectName, checksumFromHeaders, contentTypeFor, type ObjectAttributes, type ObjectChecksum } from './object-headers.js';
import { perform, type TransferControl } from './perform.js';

export interface UploadOptions extends ObjectAttributes, TransferControl {
  bucket: string;
  key: string;
  /** A file path, bytes, a Node Readable, a web ReadableStream or an AsyncIterable of bytes. */
  body: string | Buffer | Uint8Array | Readable | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  /** The length of a stream body, when known: sizes the parts and checks the stream. */
  contentLength?: number;
  /**
   * For a stream of unknown length: the size it may reach (the AWS CLI's `--expected-size`), so
   * that parts grow enough for it to fit in S3's 10,000. Unlike contentLength it is not checked.
   */
  expectedSize?: number;
  /**
   * The checksum S3 checks and stores with the object: CRC32 by default (the AWS SDKs' default;
   * none when the client's `requestChecksumCalculation` is `WHEN_REQUIRED`); null for none.
   */
  checksumAlgorithm?: S3ChecksumAlgorithm | null;
  /**
   * Where the checksum goes: an aws-chunked trailer, computed as the body is sent (the default over
   * https), or a header, computed before (the default over plain http, as the SDKs do: some
   * S3-compatible servers cannot decode aws-chunked bodies).
   */
  checksumLocation?: S3ChecksumLocation;
  /** For a file body without `contentType`: guess the type from its name (true, the default, as `aws s3 cp`), or leave it to S3 (false). */
  guessContentType?: boolean;
  partSize?: number;
  multipartUploadThreshold?: number;
  /** Continue this multipart upload (a file or bytes body): parts S3 already holds are not sent again. */
  resumeToken?: S3ResumeToken;
  /** Called once a multipart upload exists, with the token that resumes it. */
  onResumeToken?: (token: S3ResumeToken) => void;
  /** False keeps the multipart upload when the transfer fails, for a later resumeToken. True by default. */
  abortOnFailure?: boolean;
}

export interface UploadResult {
  bucket: string;
  key: string;
  etag: string | null;
  versionId: string | null;
  /** The checksum S3 stored, when one was sent. */
  checksum: ObjectChecksum | null;
  bytes: number;
}

/** The checksumConfig of an upload: its algorithm (CRC32 unless told otherwise), in a trailer over https and a header over http. */
function checksumFor(client: S3ClientCore, options: UploadOptions): Pick<S3RequestOptions, 'checksumConfig'> {
  const algorithm =
    options.checksumAlgorithm === undefined
      ? client.config.requestChecksumCalculation === 'WHEN_SUPPORTED'
        ? S3ChecksumAlgorithm.CRC32
        : null
      : options.checksumAlgorithm;
  if (algorithm === null) return {};
  const location = options.checksumLocation ?? (client.endpointConfig.endpoint.protocol === 'https:' ? S3ChecksumLocation.TRAILER : S3ChecksumLocation.HEADER);
  return { checksumConfig: { algorithm, location } };
}

/** The part size: as asked, or for a stream whose size is only expected, grown to fit it in 10,000 parts. */
function partSizeFor(client: S3ClientCore, options: UploadOptions, total: number | null): { partSize?: number } {
  const { expectedSize, partSize } = options;
  if (expectedSize === undefined || total !== null) return partSize !== undefined ? { partSize } : {};
  if (!Number.isSafeInteger(expectedSize) || expectedSize <= 0)
    throw new InvalidArgumentError('expectedSize', `must be a whole number of bytes above 0, got ${String(expectedSize)}`);
  try {
    return { partSize: planUpload(expectedSize, partSize ?? client.config.partSize).partSize };
  } catch (error) {
    throw new InvalidArgumentError('expectedSize', (error as Error).message);
  }
}

export async function upload(client: S3ClientCore, options: UploadOptions): Promise<UploadResult> {
  if (!options || typeof options !== 'object') throw new InvalidArgumentError('options', 'upload needs { bucket, key, body }');
  const { bucket, key, body } = options;
  checkObjectName(bucket, key);
  const location = objectLocation(client.endpointConfig, bucket, key);
  const headers: Record<string, string> = { host: location.host, ...attributeHeaders(options) };
  let total: number | null = null;
  let sendFilepath: string | undefined;
  let requestBody: unknown;
  if (typeof body === 'string') {
    sendFilepath = body;
    try {
      total = statSync(body).size;
    } catch {
      throw new InvalidArgumentError('body', `is a file path, and ${JSON.stringify(body)} cannot be read`);
    }
    if (options.guessContentType !== false) headers['content-type'] ??= (await contentTypeFor(body)) ?? 'application/octet-stream';
  } else if (body instanceof Uint8Array) {
    requestBody = body;
    total = body.length;
  } else if (body && typeof body === 'object') {
    requestBody = body;
    if (options.contentLength !== undefined) {
      headers['content-length'] = String(options.contentLength);
      total = options.contentLength;
    }
  } else {
    throw new InvalidArgumentError('body', 'must be a file path, a Buffer or Uint8Array, a Readable, a ReadableStream or an AsyncIterable of bytes');
  }
  const { headers: answer, transferred } = await perform(
    client,
    {
      [HIGH_LEVEL_BUCKET]: options.bucket,
      type: S3RequestType.PUT_OBJECT,
      request: new HttpRequest({ method: 'PUT', path: location.path, headers, body: requestBody }),
      ...(sendFilepath !== undefined ? { sendFilepath } : {}),
      ...checksumFor(client, options),
      ...partSizeFor(client, options, total),
      ...(options.multipartUploadThreshold !== undefined ? { multipartUploadThreshold: options.multipartUploadThreshold } : {}),
      ...(options.resumeToken !== undefined ? { resumeToken: options.resumeToken } : {}),
      ...(options.onResumeToken !== undefined ? { onResumeToken: options.onResumeToken } : {}),
      ...(options.abortOnFailure !== undefined ? { abortOnFailure: options.abortOnFailure } : {}),
    },
    options,
    total,
  );
  return {
    bucket,
    key,
    etag: answer.etag ?? null,
    versionId: answer['x-amz-version-id'] ?? null,
    checksum: checksumFromHeaders(answer),
    bytes: total ?? transferred,
  };
}
