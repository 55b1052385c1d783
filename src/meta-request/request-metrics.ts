/**
 * What the client tells `onRequestMetrics` of each HTTP request it sends, as aws-c-s3's
 * telemetry callback does: enough to see a transfer's requests and their answers, and nothing
 * that could be a secret (no header, no body, no signature).
 */
export interface RequestMetrics {
  /** S3's name of the operation: GetObject, UploadPart, ListObjectsV2, ... */
  operationName: string;
  method: string;
  /** `scheme://host:port` the request went to. */
  origin: string;
  /** The path and query string, as sent. */
  path: string;
  /** The answer's status; 0 when none came (the connection failed, the transfer was cancelled). */
  statusCode: number;
  /** From the first byte sent (after signing) to the last byte of the answer, or the failure. */
  durationMs: number;
  /** 0 for the first try of a part, 1 for its first retry, ... */
  attempt: number;
  /** The failure's stable code (S3's, such as SlowDown, or s3tx's), when the request failed. */
  errorCode: string | null;
}

export type RequestMetricsCallback = (metrics: RequestMetrics) => void;
