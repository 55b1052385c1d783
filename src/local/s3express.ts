/**
 * S3 Express One Zone as the local server emulates it: CreateSession on a directory bucket
 * (`name--zone--x-s3`) gives a key pair and a token that expire after `sessionSeconds`, and every
 * other request to such a bucket must be signed with a live session of that bucket (token in
 * `x-amz-s3session-token`), except CopyObject and UploadPartCopy (and CreateBucket and
 * DeleteBucket, regional operations), which S3 takes only signed with IAM credentials. The rules are S3's: a token on CreateSession is InvalidRequest, an expired one
 * ExpiredToken, an unknown one InvalidToken, a ReadOnly session writing or an IAM-signed data
 * request AccessDenied.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { escapeXml } from '../protocol/xml.js';
import type { Route } from './router.js';
import { S3Error } from './s3-error.js';
import type { VerifiedRequest } from './sigv4.js';

/** How long a session lasts when the server is not told: S3's five minutes. */
export const DEFAULT_SESSION_SECONDS = 300;

export interface LocalSession {
  accessKeyId: string;
  secretAccessKey: string;
  token: string;
  bucket: string;
  mode: 'ReadWrite' | 'ReadOnly';
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const WRITES = new Set(['PUT', 'POST', 'DELETE']);
/** Signed with IAM credentials only: the copies, and the bucket operations of S3's regional (control plane) endpoint. */
const IAM_ONLY = new Set(['CopyObject', 'UploadPartCopy', 'CreateBucket', 'DeleteBucket']);

/** The sessions a server has given. Expired ones are kept a while, so that their use is told apart from a token never given. */
export class SessionRegistry {
  readonly #byKey = new Map<string, LocalSession>();
  readonly #seconds: number;
  readonly #now: () => number;

  constructor(seconds = DEFAULT_SESSION_SECONDS, now: () => number = Date.now) {
    if (!Number.isSafeInteger(seconds) || seconds < 1)
      throw new TypeError('startLocalS3: s3express.sessionSeconds must be a whole number of seconds, 1 or more');
    this.#seconds = seconds;
    this.#now = now;
  }

  /** The secret of a session's access key, for the signature check. */
  secretFor(accessKeyId: string): string | undefined {
    return this.#byKey.get(accessKeyId)?.secretAccessKey;
  }

  create(bucket: string, mode: string | undefined): LocalSession {
    if (mode !== undefined && mode !== 'ReadWrite' && mode !== 'ReadOnly') {
      throw new S3Error('InvalidArgument', 'x-amz-create-session-mode must be ReadWrite or ReadOnly');
    }
    const now = this.#now();
    // Sessions a day past their end go: the map holds only what can still be asked about.
    for (const [key, session] of this.#byKey) if (session.expiresAt < now - 86_400_000) this.#byKey.delete(key);
    const session: LocalSession = {
      accessKeyId: `ASIAS3X${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      token: randomBytes(96).toString('base64'),
      bucket,
      mode: mode ?? 'ReadWrite',
      expiresAt: now + this.#seconds * 1000,
    };
    this.#byKey.set(session.accessKeyId, session);
    return session;
  }

  /**
   * Throws S3's refusal unless the request may reach the directory bucket of `route` signed as
   * `auth` (`iam` tells whether its key is one of the server's own), its scope already checked to name s3express.
   */
  check(route: Route, method: string, headers: IncomingHttpHeaders, auth: VerifiedRequest, iam: boolean): void {
    const token = headers['x-amz-s3session-token'];
    if (route.operation === 'CreateSession') {
      if (token !== undefined) throw new S3Error('InvalidRequest', 'CreateSession takes no x-amz-s3session-token: sign it with your own credentials.');
      if (!iam) throw new S3Error('AccessDenied', 'CreateSession must be signed with IAM credentials.');
      return;
    }
    if (IAM_ONLY.has(route.operation)) {
      if (!iam || token !== undefined) throw new S3Error('AccessDenied', `${route.operation} on a directory bucket must be signed with IAM credentials.`);
      return;
    }
    if (iam) throw new S3Error('AccessDenied', 'Requests to a directory bucket need a session: call CreateSession and sign with its credentials.');
    const session = this.#byKey.get(auth.accessKeyId)!;
    if (typeof token !== 'string' || token !== session.token) throw new S3Error('InvalidToken', 'The provided token is malformed or otherwise invalid.');
    if (this.#now() >= session.expiresAt) throw new S3Error('ExpiredToken', 'The provided token has expired.');
    if (session.bucket !== route.bucket) throw new S3Error('AccessDenied', 'The session was created for another bucket.');
    if (session.mode === 'ReadOnly' && WRITES.has(method)) throw new S3Error('AccessDenied', 'The session is ReadOnly.');
  }
}

/**
 * What a directory bucket refuses whoever signs: Content-MD5 (it checks CRC32, CRC32C, SHA-1 or
 * SHA-256 instead), SSE-C, object versions, and a ListObjectsV2 delimiter other than `/`.
 */
export function checkDirectoryBucketRequest(route: Route, headers: IncomingHttpHeaders, query: URLSearchParams): void {
  if (headers['content-md5'] !== undefined) {
    throw new S3Error('InvalidRequest', 'Content-MD5 is not supported for directory buckets: send x-amz-checksum-crc32 (or CRC32C, SHA1, SHA256).');
  }
  if (headers['x-amz-server-side-encryption-customer-algorithm'] !== undefined) {
    throw new S3Error('InvalidArgument', 'Server-side encryption with customer-provided keys is not supported for directory buckets.');
  }
  if (query.has('versionId') && query.get('versionId') !== 'null') throw new S3Error('InvalidArgument', 'Directory buckets do not keep object versions.');
  if (route.operation === 'ListObjectsV2' && query.has('delimiter') && query.get('delimiter') !== '/') {
    throw new S3Error('InvalidArgument', 'Directory buckets support only / as a delimiter.');
  }
}

/** The CreateSessionResult document for `session`. */
export function createSessionXml(session: LocalSession): string {
  const field = (name: string, value: string) => `<${name}>${escapeXml(value)}</${name}>`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<CreateSessionResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Credentials>' +
    field('SessionToken', session.token) +
    field('SecretAccessKey', session.secretAccessKey) +
    field('AccessKeyId', session.accessKeyId) +
    field('Expiration', new Date(session.expiresAt).toISOString()) +
    '</Credentials></CreateSessionResult>'
  );
}
