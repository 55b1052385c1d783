import { InvalidArgumentError, S3txError } from '../core/errors.js';

/** Credentials that sign requests. Never logged and never part of an error message. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When the credentials stop working; they are fetched again shortly before. */
  expiration?: Date;
}

/**
 * A source of credentials: any function resolving to {@link AwsCredentials}. The providers
 * of `@aws-sdk/credential-providers` fit this shape as they are.
 */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

class CredentialsSourceError extends S3txError {
  constructor(message: string, cause?: unknown) {
    super('AWS_AUTH_CREDENTIALS_PROVIDER_SOURCE_FAILURE', message, { cause });
  }
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Ready-made providers, named as in awscrt.auth.AwsCredentialsProvider. */
export const AwsCredentialsProvider = {
  /** Fixed credentials. */
  newStatic(accessKeyId: string, secretAccessKey: string, sessionToken?: string): AwsCredentialsProvider {
    if (!nonEmpty(accessKeyId) || !nonEmpty(secretAccessKey)) {
      throw new InvalidArgumentError(nonEmpty(accessKeyId) ? 'secretAccessKey' : 'accessKeyId', 'AwsCredentialsProvider.newStatic needs a non-empty access key id and secret access key');
    }
    const credentials: AwsCredentials = Object.freeze(sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey });
    return async () => credentials;
  },

  /** `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, read each time they are needed. */
  newEnvironment(): AwsCredentialsProvider {
    return async () => {
      const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
      if (!nonEmpty(accessKeyId) || !nonEmpty(secretAccessKey)) {
        throw new CredentialsSourceError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set in the environment');
      }
      return nonEmpty(sessionToken) ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
    };
  },

  /**
   * The standard Node chain of the AWS SDK (environment, SSO, shared files, process,
   * web identity, ECS and EC2 metadata), for `profile` or `AWS_PROFILE`. Loaded on first use, so it costs nothing at import.
   */
  newDefaultChain(profile?: string): AwsCredentialsProvider {
    let chain: AwsCredentialsProvider | undefined;
    return async () => {
      if (!chain) {
        const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
        chain = fromNodeProviderChain(profile ? { profile } : {});
      }
      try {
        return await chain();
      } catch (error) {
        throw new CredentialsSourceError('no credentials were found by the default provider chain', error);
      }
    };
  },
};

/** Credentials are fetched again this long before they expire. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** Wraps a provider so that it is called once and again only when its credentials near expiry; concurrent callers share one fetch. */
export function cachingProvider(provider: AwsCredentialsProvider, now: () => number = Date.now): AwsCredentialsProvider {
  let cached: AwsCredentials | undefined;
  let pending: Promise<AwsCredentials> | undefined;
  return () => {
    if (cached && (!cached.expiration || cached.expiration.getTime() - now() > REFRESH_MARGIN_MS)) {
      return Promise.resolve(cached);
    }
    pending ??= provider().then(
      (credentials) => {
        pending = undefined;
        cached = credentials;
        return credentials;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
}
