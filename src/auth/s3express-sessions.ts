/**
 * S3 Express One Zone sessions, as aws-c-s3's s3express_credentials_provider keeps them: the
 * credentials a CreateSession gives for a directory bucket, cached per bucket host, identity and
 * the headers that shape a session (its mode and encryption), and used while more than 5 s of
 * them remain. One CreateSession runs per key, and every request that needs it waits for it; a
 * failure fails them all and is not cached. A pass every 60 s renews the sessions within 60 s of
 * expiry that were used since the last pass and drops the others. Sending a CreateSession is the
 * caller's: this module decides when.
 */
import { createHash } from 'node:crypto';
import { S3ResponseError, S3txError } from '../core/errors.js';
import type { AwsCredentials } from './credentials.js';

/** aws-c-s3's s_expired_threshold_secs: a session this close to its end is not used. */
export const SESSION_EXPIRY_MARGIN_MS = 5_000;
/** aws-c-s3's s_about_to_expire_threshold_secs and s_background_refresh_interval_secs. */
export const SESSION_REFRESH_WINDOW_MS = 60_000;
export const SESSION_REFRESH_INTERVAL_MS = 60_000;
/** aws-c-s3's s_default_cache_capacity. */
export const SESSION_CACHE_CAPACITY = 100;

/** Headers of the request a session is made for that CreateSession takes as well (aws-c-s3's allowed list). */
export const SESSION_HEADERS = [
  'x-amz-create-session-mode',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-context',
  'x-amz-server-side-encryption-bucket-key-enabled',
] as const;

/** A session's credentials, from CreateSessionResult. */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** Where and how to ask for a session. */
export interface SessionRequest {
  /** The Host the CreateSession goes to: the data request's. */
  host: string;
  /** `/?session` for a virtual-hosted bucket, `/bucket?session` in path style. */
  path: string;
  region: string;
  /** The session-shaping headers copied from the data request. */
  headers: Record<string, string>;
  /** The identity the session is made for; CreateSession is signed with it. */
  credentials: AwsCredentials;
}

/** Sends a CreateSession; the caller's transport does it. */
export type CreateSession = (request: SessionRequest) => Promise<SessionCredentials>;

/**
 * CreateSession was answered with an error (aws-c-s3's AWS_ERROR_S3EXPRESS_CREATE_SESSION_FAILED);
 * S3's answer is the cause, its status and code copied here.
 */
export class CreateSessionError extends S3txError {
  readonly statusCode: number;
  readonly s3Code: string;

  constructor(cause: S3ResponseError) {
    super('AWS_ERROR_S3EXPRESS_CREATE_SESSION_FAILED', `CreateSession failed: ${cause.message}`, { cause });
    this.statusCode = cause.statusCode;
    this.s3Code = cause.s3Code;
  }
}

/** The bucket a directory-bucket request is for: in its Host (`name--zone--x-s3.…`) or, in path style, its path's first segment. */
export function sessionTarget(host: string, path: string): { host: string; path: string } {
  const label = host.split('.', 1)[0]!;
  if (label.endsWith('--x-s3') && host.includes('.')) return { host, path: '/?session' };
  const bucket = path.split('/')[1] ?? '';
  return { host, path: `/${bucket}?session` };
}

/** The session-shaping headers of a request (lower-case names), those with a value. */
export function sessionHeaders(headers: Record<string, string>): Record<string, string> {
  const copied: Record<string, string> = {};
  for (const name of SESSION_HEADERS) if (headers[name]) copied[name] = headers[name];
  return copied;
}

/** The cache key: the target, then a SHA-256 of the identity and the shaping headers, so two identities never share a session. */
export function sessionKey(target: { host: string; path: string }, credentials: AwsCredentials, headers: Record<string, string>): string {
  const hash = createHash('sha256').update(credentials.accessKeyId).update(credentials.secretAccessKey);
  for (const [name, value] of Object.entries(headers)) hash.update(`,${name}:${value}`);
  return `${target.host}${target.path} ${hash.digest('hex')}`;
}

/** Whether a session may sign a request at `now`: more than the margin of it remains. */
export function isUsable(session: SessionCredentials, now: number): boolean {
  return session.expiration.getTime() - now > SESSION_EXPIRY_MARGIN_MS;
}

interface Entry {
  request: SessionRequest;
  session: SessionCredentials | null;
  pending: Promise<SessionCredentials> | null;
  /** Asked for since the last refresh pass. */
  used: boolean;
}

/** The sessions of one client. */
export class S3ExpressSessions {
  readonly #create: CreateSession;
  readonly #now: () => number;
  readonly #intervalMs: number;
  /** Insertion order is recency: a hit moves its entry to the end, the first is the least recently used. */
  readonly #entries = new Map<string, Entry>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(create: CreateSession, options: { now?: () => number; refreshIntervalMs?: number } = {}) {
    this.#create = create;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.refreshIntervalMs ?? SESSION_REFRESH_INTERVAL_MS;
  }

  /** The session credentials to sign a request to `host` and `path` with, for `base` and the request's `headers`. */
  credentialsFor(base: AwsCredentials, host: string, path: string, region: string, headers: Record<string, string>): Promise<SessionCredentials> {
    const target = sessionTarget(host, path);
    const copied = sessionHeaders(headers);
    const key = sessionKey(target, base, copied);
    let entry = this.#entries.get(key);
    if (entry) this.#entries.delete(key);
    entry ??= { request: { ...target, region, headers: copied, credentials: base }, session: null, pending: null, used: false };
    this.#entries.set(key, entry);
    entry.used = true;
    this.#evict();
    if (entry.session && isUsable(entry.session, this.#now())) return Promise.resolve(entry.session);
    return this.#start(key, entry);
  }

  /** Stops the refresh pass and forgets every session. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#entries.clear();
  }

  /** The CreateSession of `entry`, one at a time; a failure is not kept, so the next request asks again. */
  #start(key: string, entry: Entry): Promise<SessionCredentials> {
    entry.pending ??= this.#create(entry.request).then(
      (session) => {
        entry.pending = null;
        entry.session = session;
        if (!this.#closed && this.#entries.get(key) === entry) this.#schedule();
        return session;
      },
      (error: unknown) => {
        entry.pending = null;
        if (this.#entries.get(key) === entry && !entry.session) this.#entries.delete(key);
        throw error instanceof S3ResponseError ? new CreateSessionError(error) : error;
      },
    );
    return entry.pending;
  }

  #evict(): void {
    while (this.#entries.size > SESSION_CACHE_CAPACITY) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** The refresh pass runs while any session is cached; it never keeps the process alive. */
  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#refresh(), this.#intervalMs);
    this.#timer.unref();
  }

  #refresh(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      const session = entry.session;
      if (session && session.expiration.getTime() - now <= SESSION_REFRESH_WINDOW_MS) {
        if (entry.used) this.#start(key, entry).catch(() => {});
        else if (!entry.pending) this.#entries.delete(key);
      }
      entry.used = false;
    }
    if (this.#entries.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}
