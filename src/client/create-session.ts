/**
 * S3 Express's CreateSession, sent through the client itself: `GET /?session` (or `/bucket?session`
 * in path style) to the directory bucket, no body, signed with plain SigV4 for service s3express
 * with the identity the session is for, and the session-shaping headers of the request that needs
 * it. Its retries are any request's; its answer, CreateSessionResult, gives the session's keys.
 */
import { AwsCredentialsProvider } from '../auth/credentials.js';
import type { CreateSession, SessionCredentials } from '../auth/s3express-sessions.js';
import { AwsSigningAlgorithm, S3EXPRESS_SERVICE, UNSIGNED_PAYLOAD } from '../auth/signing.js';
import { S3RequestType } from '../core/enums.js';
import { InvalidResponseError } from '../core/errors.js';
import { readXml, type XmlObject } from '../protocol/xml-reader.js';
import type { S3RequestOptions } from './request-options.js';

/** What CreateSession needs of the client: its makeRequest. */
export interface RequestMaker {
  makeRequest(options: S3RequestOptions): { finishedFuture: Promise<unknown> };
}

/** The session a CreateSessionResult gives, or an InvalidResponseError naming what is missing. */
export function parseCreateSession(body: string): SessionCredentials {
  const root = readXml(body);
  const credentials = (root?.CreateSessionResult as XmlObject | undefined)?.Credentials as XmlObject | undefined;
  const field = (name: string): string => {
    const value = credentials?.[name];
    if (typeof value !== 'string' || value === '') throw new InvalidResponseError(`the CreateSession answer has no Credentials/${name}`);
    return value;
  };
  const expiration = new Date(field('Expiration'));
  if (Number.isNaN(expiration.getTime())) throw new InvalidResponseError('the CreateSession answer has an Expiration that is no date');
  return { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey'), sessionToken: field('SessionToken'), expiration };
}

/** CreateSession as `client` sends it. */
export function createSessionThrough(client: RequestMaker): CreateSession {
  return async ({ host, path, region, headers, credentials }) => {
    const chunks: Buffer[] = [];
    const request = client.makeRequest({
      type: S3RequestType.DEFAULT,
      operationName: 'CreateSession',
      request: { method: 'GET', path, headers: { host, ...headers } },
      signingConfig: {
        algorithm: AwsSigningAlgorithm.V4,
        service: S3EXPRESS_SERVICE,
        region,
        signedBodyValue: UNSIGNED_PAYLOAD,
        credentialProvider: AwsCredentialsProvider.newStatic(credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken),
      },
      onBody: (chunk) => void chunks.push(Buffer.from(chunk)),
    });
    await request.finishedFuture;
    return parseCreateSession(Buffer.concat(chunks).toString('utf8'));
  };
}
