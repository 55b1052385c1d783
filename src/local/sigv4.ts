/**
 * SigV4 verification for the local server, from AWS's specification of the
 * canonical request: Authorization headers and presigned query strings.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { canonicalHeaderValue, canonicalQuery, hmac, signingKey, stringToSign } from '../client/sigv4.js';
import { S3Error } from './s3-error.js';

/** How far a request's date may be from the server's clock, as S3 allows. */
const MAX_SKEW_MS = 15 * 60 * 1000;

export interface VerifiedRequest {
  accessKeyId: string;
  /** Key that signs the chunks of an aws-chunked body. */
  signingKey: Buffer;
  /** The request's signature: the seed of a chunk signature chain. */
  signature: string;
  /** `date/region/service/aws4_request`. */
  scope: string;
  amzDate: string;
  /** `x-amz-content-sha256`, or UNSIGNED-PAYLOAD for presigned URLs. */
  payloadHash: string;
}

export interface SignedRequest {
  method: string;
  /** Raw path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    throw new S3Error('InvalidArgument', 'malformed query string');
  }
}

function queryPairs(query: string, skip: string | null): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const key = decode(equals < 0 ? pair : pair.slice(0, equals));
    if (key !== skip) pairs.push([key, equals < 0 ? '' : decode(pair.slice(equals + 1))]);
  }
  return pairs;
}

function headerText(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return canonicalHeaderValue(Array.isArray(value) ? value.join(',') : (value ?? ''));
}

function parseAmzDate(text: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return NaN;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
}

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verifies a request's signature. Returns null for an unsigned request (the caller
 * decides whether anonymous access is allowed); throws S3Error with S3's code otherwise.
 */
export function verifySignature(request: SignedRequest, secretFor: (accessKeyId: string) => string | undefined, now = Date.now()): VerifiedRequest | null {
  const mark = request.url.indexOf('?');
  const path = mark < 0 ? request.url : request.url.slice(0, mark);
  const query = mark < 0 ? '' : request.url.slice(mark + 1);
  const authorization = headerText(request.headers, 'authorization');
  const params = new URLSearchParams(query);
  const presigned = params.get('X-Amz-Algorithm');

  let credential: string;
  let signedHeaders: string;
  let signature: string;
  let amzDate: string;
  let payloadHash: string;
  if (authorization) {
    const match = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!match) throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed.');
    [, credential, signedHeaders, signature] = match as unknown as [string, string, string, string];
    amzDate = headerText(request.headers, 'x-amz-date');
    payloadHash = headerText(request.headers, 'x-amz-content-sha256');
    if (!payloadHash) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  } else if (presigned !== null) {
    if (presigned !== 'AWS4-HMAC-SHA256') throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    credential = params.get('X-Amz-Credential') ?? '';
    signedHeaders = params.get('X-Amz-SignedHeaders') ?? '';
    signature = params.get('X-Amz-Signature') ?? '';
    amzDate = params.get('X-Amz-Date') ?? '';
    payloadHash = 'UNSIGNED-PAYLOAD';
    const expires = Number(params.get('X-Amz-Expires'));
    if (!credential || !signedHeaders || !/^[0-9a-f]{64}$/.test(signature) || !Number.isInteger(expires)) {
      throw new S3Error(
        'AuthorizationQueryParametersError',
        'Query-string authentication requires the X-Amz-Credential, X-Amz-SignedHeaders, X-Amz-Signature, X-Amz-Date and X-Amz-Expires parameters.',
      );
    }
    if (now > parseAmzDate(amzDate) + expires * 1000) throw new S3Error('AccessDenied', 'Request has expired');
  } else {
    return null;
  }

  const [accessKeyId = '', date = '', region = '', service = '', terminal] = credential.split('/');
  if (terminal !== 'aws4_request') throw new S3Error('AuthorizationHeaderMalformed', 'The credential scope is malformed.');
  const secret = secretFor(accessKeyId);
  if (secret === undefined) {
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId });
  }
  const time = parseAmzDate(amzDate);
  if (!Number.isFinite(time)) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (!presigned && Math.abs(now - time) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) throw new S3Error('AccessDenied', 'The host header must be signed.');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const key = signingKey(accessKeyId, secret, date, region, service);
  const parts = {
    method: request.method,
    path,
    query: canonicalQuery(queryPairs(query, presigned ? 'X-Amz-Signature' : null)),
    headers: names.map((name) => [name, headerText(request.headers, name)] as const),
    payloadHash,
  };
  const toSign = stringToSign(parts, amzDate, scope);
  if (!sameSignature(hmac(key, toSign).toString('hex'), signature)) {
    // As S3 does, the details that help a client find its mistake: the key, what was signed and the signature.
    throw new S3Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { AWSAccessKeyId: accessKeyId, StringToSign: toSign, SignatureProvided: signature },
    );
  }
  return { accessKeyId, signingKey: key, signature, scope, amzDate, payloadHash };
}
