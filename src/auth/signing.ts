import { amzDateOf, canonicalHeaderValue, canonicalQuery, hmac, SIGV4_ALGORITHM, signingKey, stringToSign } from './sigv4.js';
import { cachingProvider, type AwsCredentials, type AwsCredentialsProvider } from './credentials.js';
import type { S3ExpressSessions } from './s3express-sessions.js';

/**
 * Signing algorithms of the reference, with its values. V4_S3EXPRESS signs with the credentials of
 * an S3 Express session made from the configured ones; V4_ASYMMETRIC (SigV4a) is not in this build.
 */
export enum AwsSigningAlgorithm {
  V4 = 0,
  V4_ASYMMETRIC = 1,
  V4_S3EXPRESS = 2,
}

/** The service S3 Express requests, CreateSession among them, are signed for. */
export const S3EXPRESS_SERVICE = 's3express';

/** The body hash S3 accepts when the payload is not hashed. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** How requests are signed. Every field is optional in a per-request override; the client's values fill the gaps. */
export interface S3SigningConfig {
  algorithm?: AwsSigningAlgorithm;
  /** Region in the credential scope; defaults to the client's region. */
  region?: string;
  /** Service in the credential scope; `s3`. */
  service?: string;
  credentialProvider?: AwsCredentialsProvider;
  /** Value of `x-amz-content-sha256`; `UNSIGNED-PAYLOAD` by default. */
  signedBodyValue?: string;
}

/** The default signing configuration for S3: SigV4, service `s3`, unsigned payload. */
export function createDefaultS3SigningConfig(options: { region: string; credentialProvider: AwsCredentialsProvider }): S3SigningConfig {
  return {
    algorithm: AwsSigningAlgorithm.V4,
    region: options.region,
    service: 's3',
    credentialProvider: options.credentialProvider,
    signedBodyValue: UNSIGNED_PAYLOAD,
  };
}

/** Headers a proxy or the HTTP stack may rewrite; signing them would break the signature on the way. */
const UNSIGNED_HEADERS = new Set([
  'authorization',
  'connection',
  'expect',
  'keep-alive',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

/** What a request needs to be signed: the path as sent, the decoded query and lower-case headers. */
export interface SignableRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
}

/**
 * Signs requests with one resolved configuration. Credentials are cached until shortly before they
 * expire. With S3 Express `sessions`, each request is signed with its bucket's session instead, the
 * session token in `x-amz-s3session-token` (never `x-amz-security-token`), for service s3express.
 */
export class RequestSigner {
  readonly signedBodyValue: string;
  readonly #region: string;
  readonly #service: string;
  readonly #credentials: AwsCredentialsProvider;
  readonly #sessions: S3ExpressSessions | null;
  readonly #sessionHeaders: Record<string, string>;

  constructor(config: {
    region: string;
    service: string;
    credentialProvider: AwsCredentialsProvider;
    signedBodyValue: string;
    sessions?: S3ExpressSessions | null;
    /** The headers of the request a transfer was asked for: a session's mode and encryption come from them, for every part. */
    sessionHeaders?: Record<string, string>;
  }) {
    this.signedBodyValue = config.signedBodyValue;
    this.#region = config.region;
    this.#service = config.sessions ? S3EXPRESS_SERVICE : config.service;
    this.#credentials = sharedCache(config.credentialProvider);
    this.#sessions = config.sessions ?? null;
    this.#sessionHeaders = config.sessionHeaders ?? {};
  }

  /** The credentials for `request`: the configured ones, or its bucket's session made from them. */
  async #credentialsFor(request: SignableRequest): Promise<AwsCredentials> {
    const base = await this.#credentials();
    if (!this.#sessions) return base;
    return this.#sessions.credentialsFor(base, request.headers.host ?? '', request.path, this.#region, this.#sessionHeaders);
  }

  /**
   * The request's headers with `x-amz-date`, `x-amz-content-sha256`, the session token and
   * `authorization` added. S3 keys are signed as sent: no second URI-encoding, no normalisation.
   */
  async sign(request: SignableRequest, now = new Date()): Promise<Record<string, string>> {
    const credentials = await this.#credentialsFor(request);
    const amzDate = amzDateOf(now);
    const date = amzDate.slice(0, 8);
    const headers: Record<string, string> = { ...request.headers, 'x-amz-date': amzDate };
    headers['x-amz-content-sha256'] ??= this.signedBodyValue;
    if (credentials.sessionToken) headers[this.#sessions ? 'x-amz-s3session-token' : 'x-amz-security-token'] = credentials.sessionToken;
    const signed = Object.keys(headers)
      .filter((name) => !UNSIGNED_HEADERS.has(name))
      .sort()
      .map((name) => [name, canonicalHeaderValue(headers[name]!)] as const);
    const scope = `${date}/${this.#region}/${this.#service}/aws4_request`;
    const toSign = stringToSign(
      {
        method: request.method,
        path: request.path,
        query: canonicalQuery(Object.entries(request.query)),
        headers: signed,
        payloadHash: headers['x-amz-content-sha256'],
      },
      amzDate,
      scope,
    );
    const key = signingKey(credentials.accessKeyId, credentials.secretAccessKey, date, this.#region, this.#service);
    const signature = hmac(key, toSign).toString('hex');
    const names = signed.map(([name]) => name).join(';');
    headers.authorization = `${SIGV4_ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names}, Signature=${signature}`;
    return headers;
  }
}

// One cache per provider function, so that every request of a client shares its credentials.
const cachedProviders = new WeakMap<AwsCredentialsProvider, AwsCredentialsProvider>();

function sharedCache(provider: AwsCredentialsProvider): AwsCredentialsProvider {
  let cached = cachedProviders.get(provider);
  if (!cached) {
    cached = cachingProvider(provider);
    cachedProviders.set(provider, cached);
  }
  return cached;
}

/** The algorithm a request is signed with: the override's, else the client's, else SigV4. */
export function signingAlgorithm(clientConfig: S3SigningConfig | null, override: S3SigningConfig | null): AwsSigningAlgorithm {
  return override?.algorithm ?? clientConfig?.algorithm ?? AwsSigningAlgorithm.V4;
}

/**
 * Builds a signer from the client's configuration and a request's override, or null for anonymous
 * requests. `sessions` signs with S3 Express sessions (the caller has checked that the algorithm
 * asks for them); `iamOnly` keeps an S3 Express request on the configured credentials with plain
 * SigV4 for s3express, as CopyObject and UploadPartCopy must be.
 */
export function resolveSigner(
  region: string,
  clientConfig: S3SigningConfig | null,
  override: S3SigningConfig | null,
  express: { sessions: S3ExpressSessions | null; iamOnly?: boolean; headers?: Record<string, string> } = { sessions: null },
): RequestSigner | null {
  const credentialProvider = override?.credentialProvider ?? clientConfig?.credentialProvider;
  if (!credentialProvider) return null;
  const service = express.sessions ? S3EXPRESS_SERVICE : (override?.service ?? clientConfig?.service ?? 's3');
  return new RequestSigner({
    region: override?.region ?? clientConfig?.region ?? region,
    service,
    credentialProvider,
    signedBodyValue: override?.signedBodyValue ?? clientConfig?.signedBodyValue ?? UNSIGNED_PAYLOAD,
    sessions: express.iamOnly ? null : express.sessions,
    sessionHeaders: express.headers ?? {},
  });
}
