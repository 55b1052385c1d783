/**
 * s3tx: a pure-TypeScript S3 transfer engine for Node.js, at parity with awscrt.s3.
 * This module only re-exports; importing it has no side effects.
 */
export { HttpRequest, type HttpRequestOptions } from './http/http-request.js';
export { S3Client, type FromEnvironmentOptions } from './s3-client.js';
export type { S3RequestOptions } from './client/request-options.js';
export { S3Request } from './client/s3-request.js';
export { S3RequestType, S3RequestTlsMode, S3ChecksumAlgorithm, S3ChecksumLocation, type S3ChecksumConfig } from './core/enums.js';
export type { S3ClientOptions } from './client/options.js';
export type { ProxyOptions } from './client/proxy-options.js';
export type { LookupFunction } from './http/addresses.js';
export type { TlsConnectionOptions } from './http/tls-options.js';
export type { S3RequestBody } from './client/request-options.js';
export { AwsCredentialsProvider, type AwsCredentials } from './auth/credentials.js';
export { AwsSigningAlgorithm, createDefaultS3SigningConfig, type S3SigningConfig } from './auth/signing.js';
export {
  S3txError,
  S3ResponseError,
  InvalidArgumentError,
  UnsupportedError,
  RequestCanceledError,
  InvalidResponseError,
  NetworkError,
  TlsError,
  ProxyError,
  FileIoError,
  UnsafePathError,
  ChecksumMismatchError,
  type HeaderList,
} from './core/errors.js';
export type { S3RequestCallbacks, S3RequestDoneResult } from './meta-request/meta-request.js';
export type { RequestMetrics, RequestMetricsCallback } from './meta-request/request-metrics.js';
export { CrossProcessLock, LockNotOwnedError, withLock } from './lock/cross-process-lock.js';
export { getEc2InstanceType, getOptimizedPlatforms, getRecommendedThroughputTargetGbps, isOptimizedForSystem } from './platform/system.js';
export type { EndpointConfig } from './protocol/endpoint.js';
export type { Progress, TransferControl } from './transfer/perform.js';
export type { ObjectAttributes, ObjectChecksum } from './transfer/object-headers.js';
export type { UploadOptions, UploadResult } from './transfer/upload.js';
export type { DownloadOptions, DownloadResult, DownloadSource } from './transfer/download.js';
export type { CopyOptions, CopyResult } from './transfer/copy.js';
export type { DirectoryResult, DownloadDirectoryOptions, S3Prefix, UploadDirectoryOptions } from './transfer/directories.js';
export { DestinationFolder, keyUnder, safeLocalPath } from './transfer/paths.js';
export { eachLimited } from './transfer/each-limited.js';
export { localFiles, type LocalFile, type LocalFilesOptions } from './transfer/local-files.js';
export type { DeleteObjectsResult, ListEntry, ListOptions, ObjectInfo, ObjectSummary } from './transfer/objects.js';
export type { S3ResumeToken } from './meta-request/auto-ranged-put.js';
