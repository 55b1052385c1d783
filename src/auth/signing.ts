import { amzDateOf, canonicalHeaderValue, canonicalQuery, hmac, SIGV4_ALGORITHM, signingKey, stringToSign } from './sigv4.js';
import { cachingProvider, type AwsCredentialsProvider } from './credentials.js';

/** Signing algorithms of the reference; only SigV4 is available in this build. */
export enum AwsSigningAlgorithm {
  V4 = 0,
}

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

/** Signs requests with one resolved configuration. Credentials are cached until shortly before they expire. */
export class RequestSigner {
  readonly signedBodyValue: string;
  readonly #region: string;
  readonly #service: string;
  readonly #credentials: AwsCredentialsProvider;

  constructor(config: { region: string; service: string; credentialProvider: AwsCredentialsProvider; signedBodyValue: string }) {
    this.signedBodyValue = config.signedBodyValue;
    this.#region = config.region;
    this.#service = config.service;
    this.#credentials = sharedCache(config.credentialProvider);
  }

  /**
   * The request's headers with `x-amz-date`, `x-amz-content-sha256`, the session token and
   * `authorization` added. S3 keys are signed as sent: no second URI-encoding, no normalisation.
   */
  async sign(request: SignableRequest, now = new Date()): Promise<Record<string, string>> {
    const credentials = await this.#credentials();
    const amzDate = amzDateOf(now);
    const date = amzDate.slice(0, 8);
    const headers: Record<string, string> = { ...request.headers, 'x-amz-date': amzDate };
    headers['x-amz-content-sha256'] ??= this.signedBodyValue;
    if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
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

/** Builds a signer from the client's configuration and a request's override, or null for anonymous requests. */
export function resolveSigner(region: string, clientConfig: S3SigningConfig | null, override: S3SigningConfig | null): RequestSigner | null {
  const credentialProvider = override?.credentialProvider ?? clientConfig?.credentialProvider;
  if (!credentialProvider) return null;
  return new RequestSigner({
    region: override?.region ?? clientConfig?.region ?? region,
    service: override?.service ?? clientConfig?.service ?? 's3',
    credentialProvider,
    signedBodyValue: override?.signedBodyValue ?? clientConfig?.signedBodyValue ?? UNSIGNED_PAYLOAD,
  });
}
