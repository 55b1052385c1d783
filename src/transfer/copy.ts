/** `client.copy()`: server side, through COPY_OBJECT; UploadPartCopy parts above the threshold. */
import { HIGH_LEVEL_BUCKET } from '../client/request-options.js';
import { HttpRequest } from '../http/http-request.js';
import { encodeKey, objectLocation } from '../protocol/endpoint.js';
import { S3RequestType } from '../core/enums.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { S3ClientCore } from '../client/s3-client-core.js';
import { attributeHeaders, checkObjectName, replacesAttributes, type ObjectAttributes } from './object-headers.js';
import { perform, type TransferControl } from './perform.js';

export interface CopyOptions extends ObjectAttributes, TransferControl {
  source: { bucket: string; key: string; versionId?: string };
  bucket: string;
  key: string;
  /** The source's size, when known: saves the HEAD that finds it. */
  sourceSize?: number;
  partSize?: number;
  multipartUploadThreshold?: number;
}

export interface CopyResult {
  bucket: string;
  key: string;
  etag: string | null;
  versionId: string | null;
}

export async function copy(client: S3ClientCore, options: CopyOptions): Promise<CopyResult> {
  if (!options || typeof options !== 'object' || !options.source)
    throw new InvalidArgumentError('options', 'copy needs { source: { bucket, key }, bucket, key }');
  checkObjectName(options.source.bucket, options.source.key, 'source.key');
  checkObjectName(options.bucket, options.key);
  const location = objectLocation(client.endpointConfig, options.bucket, options.key);
  const { source } = options;
  const copySource = `/${source.bucket}/${encodeKey(source.key)}${source.versionId ? `?versionId=${encodeURIComponent(source.versionId)}` : ''}`;
  const headers: Record<string, string> = { host: location.host, 'x-amz-copy-source': copySource, ...attributeHeaders(options) };
  // Content headers or metadata given for the copy replace the source's, as `aws s3 cp` does.
  if (replacesAttributes(options)) headers['x-amz-metadata-directive'] = 'REPLACE';
  const { headers: answer } = await perform(
    client,
    {
      [HIGH_LEVEL_BUCKET]: options.bucket,
      type: S3RequestType.COPY_OBJECT,
      request: new HttpRequest({ method: 'PUT', path: location.path, headers }),
      ...(options.sourceSize !== undefined ? { copySourceSize: options.sourceSize } : {}),
      ...(options.partSize !== undefined ? { partSize: options.partSize } : {}),
      ...(options.multipartUploadThreshold !== undefined ? { multipartUploadThreshold: options.multipartUploadThreshold } : {}),
    },
    options,
    options.sourceSize ?? null,
  );
  return { bucket: options.bucket, key: options.key, etag: answer.etag ?? null, versionId: answer['x-amz-version-id'] ?? null };
}
