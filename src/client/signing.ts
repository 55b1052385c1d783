import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest as SmithyHttpRequest, SourceData } from '@smithy/types';
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

function toBytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** node:crypto behind the hash interface the smithy signer expects (HMAC when given a key). */
export class NodeSha256 {
  #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
}

/** Signs requests with one resolved configuration. Credentials are cached until shortly before they expire. */
export class RequestSigner {
  readonly signedBodyValue: string;
  #signer: SignatureV4;

  constructor(config: { region: string; service: string; credentialProvider: AwsCredentialsProvider; signedBodyValue: string }) {
    this.signedBodyValue = config.signedBodyValue;
    // S3 keys are signed as sent: no second URI-encoding and no path normalisation.
    this.#signer = new SignatureV4({
      service: config.service,
      region: config.region,
      credentials: sharedCache(config.credentialProvider),
      sha256: NodeSha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  /** Adds `x-amz-date`, `x-amz-content-sha256`, the session token and `authorization` to the request. */
  async sign(request: SmithyHttpRequest): Promise<SmithyHttpRequest> {
    request.headers['x-amz-content-sha256'] ??= this.signedBodyValue;
    return (await this.#signer.sign(request)) as SmithyHttpRequest;
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
