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
  /**
   * Keep the source's metadata and content headers (`COPY`) or replace them with this copy's
   * (`REPLACE`). By default REPLACE when any content header or metadata is given, as `aws s3 cp`
   * does, else COPY.
   */
  metadataDirective?: 'COPY' | 'REPLACE';
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
  const { metadataDirective } = options;
  if (metadataDirective !== undefined && metadataDirective !== 'COPY' && metadataDirective !== 'REPLACE')
    throw new InvalidArgumentError('metadataDirective', `must be COPY or REPLACE, got ${JSON.stringify(metadataDirective)}`);
  // Content headers or metadata given for the copy replace the source's, as `aws s3 cp` does.
  const directive = metadataDirective ?? (replacesAttributes(options) ? 'REPLACE' : 'COPY');
  // COPY is S3's default: sent only when asked for, as the SDKs leave it out.
  if (directive === 'REPLACE' || metadataDirective === 'COPY') headers['x-amz-metadata-directive'] = directive;
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
