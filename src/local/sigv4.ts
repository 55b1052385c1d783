/**
 * SigV4 verification for the local server, from AWS's specification of the
 * canonical request: Authorization headers and presigned query strings.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { canonicalHeaderValue, canonicalQuery, hmac, signingKey, stringToSign } from '../auth/sigv4.js';
import { S3Error } from './s3-error.js';

/** How far a request's date may be from the server's clock, as S3 allows. */
const MAX_SKEW_MS = 15 * 60 * 1000;

/** The longest lifetime S3 gives a presigned URL: a week, in seconds. */
const MAX_EXPIRES = 604_800;

/** The region a server answers for unless told another, as S3's own default. */
export const DEFAULT_REGION = 'us-east-1';

/** The service a credential scope must name, unless the request is to a directory bucket (s3express). */
const SERVICE = 's3';

/**
 * S3's answer (InvalidRequest) to a request authenticated any other way: Signature Version 2, in an
 * `Authorization: AWS key:signature` header or a `?AWSAccessKeyId=&Signature=&Expires=` query,
 * and a browser's POST policy form; regions opened since 2014 take nothing else, and this server
 * does as they do.
 */
export const UNSUPPORTED_AUTHENTICATION = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

/** Options of {@link verifySignature}. */
export interface VerifyOptions {
  /** The server's region: a credential scope naming another is refused. {@link DEFAULT_REGION} by default. */
  region?: string;
  /** The time dates are checked against, in milliseconds since the epoch; the clock's by default. */
  now?: number;
  /** The service the scope must name: `s3`, or `s3express` for a directory bucket. */
  service?: string;
}

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
  /** The url's query, parsed, when the caller has it already. */
  query?: URLSearchParams;
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

interface ScopeFault {
  message: string;
  detail: Record<string, string>;
}

function fault(message: string, detail: Record<string, string> = {}): ScopeFault {
  return { message, detail };
}

/**
 * What is wrong with a credential scope (`<key>/<date>/<region>/<service>/aws4_request`), in S3's
 * words and order, with the members S3 names it by; null when nothing is.
 */
function scopeFault(parts: string[], region: string, expected: string): ScopeFault | null {
  if (parts.length !== 5) return fault('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  const [, date, scopeRegion, service, terminal] = parts as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date)) return fault(`incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`);
  if (scopeRegion === '') return fault('a non-empty region must be provided in the credential.');
  if (scopeRegion !== region) return fault(`the region '${scopeRegion}' is wrong; expecting '${region}'`, { Region: region });
  if (service !== expected) return fault(`incorrect service "${service}". This endpoint belongs to "${expected}".`);
  if (terminal !== 'aws4_request') return fault(`incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);
  return null;
}

/**
 * The lifetime of a presigned URL in seconds, from `X-Amz-Expires`; throws S3's
 * AuthorizationQueryParametersError for one that is not a number, negative or over a week.
 */
function presignLifetime(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  const seconds = Number(text);
  if (seconds < 0) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be non-negative');
  if (seconds > MAX_EXPIRES) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    );
  }
  return seconds;
}

/** `YYYY-MM-DDTHH:MM:SSZ`, as S3 names times in its refusals. */
function serverTime(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Verifies a request's signature. Returns null for an unsigned request (the caller
 * decides whether anonymous access is allowed); throws S3Error with S3's code otherwise,
 * checking what S3 checks in the order S3 checks it.
 */
export function verifySignature(
  request: SignedRequest,
  secretFor: (accessKeyId: string) => string | undefined,
  options: VerifyOptions = {},
): VerifiedRequest | null {
  const now = options.now ?? Date.now();
  const region = options.region ?? DEFAULT_REGION;
  const mark = request.url.indexOf('?');
  const path = mark < 0 ? request.url : request.url.slice(0, mark);
  const query = mark < 0 ? '' : request.url.slice(mark + 1);
  const authorization = headerText(request.headers, 'authorization');
  const params = request.query ?? new URLSearchParams(query);
  const presigned = params.get('X-Amz-Algorithm');

  let credential: string;
  let signedHeaders: string;
  let signature: string;
  let amzDate: string;
  let payloadHash: string;
  const version2 = authorization ? authorization.startsWith('AWS ') : presigned === null && (params.has('AWSAccessKeyId') || params.has('Signature'));
  if (version2) throw new S3Error('InvalidRequest', UNSUPPORTED_AUTHENTICATION);
  if (authorization) {
    const match = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!match) {
      throw new S3Error(
        'AuthorizationHeaderMalformed',
        'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.',
      );
    }
    [, credential, signedHeaders, signature] = match as unknown as [string, string, string, string];
    amzDate = headerText(request.headers, 'x-amz-date');
    payloadHash = headerText(request.headers, 'x-amz-content-sha256');
    if (!payloadHash) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    const time = parseAmzDate(amzDate);
    if (!Number.isFinite(time)) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    if (Math.abs(now - time) > MAX_SKEW_MS) {
      throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    }
  } else if (presigned !== null) {
    if (presigned !== 'AWS4-HMAC-SHA256') throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    credential = params.get('X-Amz-Credential') ?? '';
    signedHeaders = params.get('X-Amz-SignedHeaders') ?? '';
    signature = params.get('X-Amz-Signature') ?? '';
    amzDate = params.get('X-Amz-Date') ?? '';
    payloadHash = 'UNSIGNED-PAYLOAD';
    const expiresText = params.get('X-Amz-Expires');
    if (!credential || !signedHeaders || !/^[0-9a-f]{64}$/.test(signature) || !amzDate || expiresText === null) {
      throw new S3Error(
        'AuthorizationQueryParametersError',
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    }
    const time = parseAmzDate(amzDate);
    if (!Number.isFinite(time)) {
      throw new S3Error('AuthorizationQueryParametersError', `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
    }
    const expiresAt = time + presignLifetime(expiresText) * 1000;
    // A presign outlives the skew allowance, but cannot start later than it allows. S3 names its date in milliseconds here.
    if (time - now > MAX_SKEW_MS) {
      throw new S3Error('AccessDenied', 'Request is not yet valid', {
        'X-Amz-Date': String(time),
        Expires: serverTime(expiresAt),
        ServerTime: serverTime(now),
      });
    }
    if (now > expiresAt) {
      throw new S3Error('AccessDenied', 'Request has expired', { 'X-Amz-Expires': expiresText, Expires: serverTime(expiresAt), ServerTime: serverTime(now) });
    }
  } else {
    return null;
  }

  const parts = credential.split('/');
  const wrong = scopeFault(parts, region, options.service ?? SERVICE);
  if (wrong) {
    if (authorization) throw new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${wrong.message}`, wrong.detail);
    throw new S3Error('AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; ${wrong.message}`, wrong.detail);
  }
  const [accessKeyId, date, , service] = parts as [string, string, string, string];
  if (date !== amzDate.slice(0, 8)) {
    if (authorization) {
      throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.');
    }
    throw new S3Error(
      'AuthorizationQueryParametersError',
      `Invalid credential date "${date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
    );
  }
  const secret = secretFor(accessKeyId);
  if (secret === undefined) {
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId });
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) throw new S3Error('AccessDenied', 'The host header must be signed.');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const key = signingKey(accessKeyId, secret, date, region, service);
  const canonical = {
    method: request.method,
    path,
    query: canonicalQuery(queryPairs(query, presigned ? 'X-Amz-Signature' : null)),
    headers: names.map((name) => [name, headerText(request.headers, name)] as const),
    payloadHash,
  };
  const toSign = stringToSign(canonical, amzDate, scope);
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
