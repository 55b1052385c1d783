/** The kind of S3 request; GET_OBJECT and PUT_OBJECT are split into parts and accelerated. */
export enum S3RequestType {
  /** Any S3 operation other than GetObject and PutObject, sent as one request. */
  DEFAULT = 0,
  /** GetObject, split into parallel ranged GETs. */
  GET_OBJECT = 1,
  /** PutObject, split into a multipart upload above the threshold. */
  PUT_OBJECT = 2,
  /** CopyObject (s3tx, as aws-c-s3): server side, split into UploadPartCopy parts above the threshold. */
  COPY_OBJECT = 3,
}

/** Whether connections use TLS. */
export enum S3RequestTlsMode {
  ENABLED = 0,
  DISABLED = 1,
}

/** Checksum algorithm used to verify object integrity. */
export enum S3ChecksumAlgorithm {
  CRC32C = 1,
  CRC32 = 2,
  SHA1 = 3,
  SHA256 = 4,
  CRC64NVME = 5,
}

/** Where the request checksum goes. */
export enum S3ChecksumLocation {
  /** A request header, computed before any byte of the body is sent. */
  HEADER = 1,
  /** A trailer of an aws-chunked body, computed while the body streams. */
  TRAILER = 2,
}

/** Checksum settings of a request. */
export interface S3ChecksumConfig {
  /** Compute a checksum with this algorithm and send it; needs `location`. */
  algorithm?: S3ChecksumAlgorithm;
  /** Where to put the request checksum. */
  location?: S3ChecksumLocation;
  /** Ask S3 for the stored checksum and compare it with the body received. */
  validateResponse?: boolean;
}

export function isEnumValue<E extends Record<string, string | number>>(enumObject: E, value: unknown): value is E[keyof E] {
  return typeof value === 'number' && Object.values(enumObject).includes(value);
}
