/**
 * s3tx: a pure-TypeScript S3 transfer engine for Node.js, at parity with awscrt.s3.
 * This module only re-exports; importing it has no side effects.
 */
export { HttpRequest, type HttpRequestOptions } from './client/http-request.js';
export { S3Client, type S3RequestOptions } from './client/s3-client.js';
export { S3Request } from './client/s3-request.js';
export { S3RequestType, S3RequestTlsMode, S3ChecksumAlgorithm, S3ChecksumLocation, type S3ChecksumConfig } from './client/enums.js';
export type { S3ClientOptions, TlsConnectionOptions } from './client/options.js';
export type { S3RequestBody } from './client/request-options.js';
export { AwsCredentialsProvider, type AwsCredentials } from './client/credentials.js';
export { AwsSigningAlgorithm, createDefaultS3SigningConfig, type S3SigningConfig } from './client/signing.js';
export {
  S3txError,
  S3ResponseError,
  InvalidArgumentError,
  UnsupportedError,
  RequestCanceledError,
  InvalidResponseError,
  NetworkError,
  TlsError,
  FileIoError,
  UnsafePathError,
  ChecksumMismatchError,
  type HeaderList,
} from './client/errors.js';
export type { S3RequestCallbacks, S3RequestDoneResult } from './multipart/meta-request.js';
export { CrossProcessLock, LockNotOwnedError, withLock } from './lock/cross-process-lock.js';
export { getEc2InstanceType, getOptimizedPlatforms, getRecommendedThroughputTargetGbps, isOptimizedForSystem } from './platform/system.js';
export type { EndpointConfig } from './client/endpoint.js';
export type { Progress, TransferControl } from './transfer/perform.js';
export type { ObjectAttributes, ObjectChecksum } from './transfer/object-headers.js';
export type { UploadOptions, UploadResult } from './transfer/upload.js';
export type { DownloadOptions, DownloadResult, DownloadSource } from './transfer/download.js';
export type { CopyOptions, CopyResult } from './transfer/copy.js';
export type { DirectoryResult, DownloadDirectoryOptions, S3Prefix, UploadDirectoryOptions } from './transfer/directories.js';
export { DestinationFolder, keyUnder, safeLocalPath } from './transfer/paths.js';
export type { DeleteObjectsResult, ListEntry, ListOptions, ObjectInfo, ObjectSummary } from './transfer/objects.js';
export type { S3ResumeToken } from './multipart/auto-ranged-put.js';
