/**
 * `s3tx/local`: a small S3-compatible server for development and tests, with fault injection.
 * Separate from the root entry so that importing `s3tx` never loads it.
 */
export { startLocalS3, type LocalCredentials, type LocalS3, type LocalS3Options } from './server.js';
export type { RecordedRequest } from './request-log.js';
export { FaultPlan, type FaultAction, type FaultRule } from './faults.js';
