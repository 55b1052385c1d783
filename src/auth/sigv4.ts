/**
 * The pieces of AWS Signature Version 4 that both sides need: the signer in the
 * client and the verifier in the local server build the same canonical request.
 */
import { createHash, createHmac } from 'node:crypto';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmac(key: Uint8Array | string, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

/** RFC 3986 percent-encoding, as SigV4 wants for query names and values. */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Keys derived per access key and scope, each kept with the secret it came from. Deriving one is
 * four HMACs and a scope changes once a day, while the client signs, and the local server checks,
 * every request with it.
 */
const derivedKeys = new Map<string, { secret: string; key: Buffer }>();

/** `AWS4<secret>` narrowed by date, region and service; the last ones are kept for the next request. */
export function signingKey(accessKeyId: string, secret: string, date: string, region: string, service: string): Buffer {
  const id = `${accessKeyId}/${date}/${region}/${service}`;
  const known = derivedKeys.get(id);
  if (known?.secret === secret) return known.key;
  if (derivedKeys.size >= 64) derivedKeys.clear();
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  derivedKeys.set(id, { secret, key });
  return key;
}

/** Decoded query pairs, encoded and sorted by name then value. */
export function canonicalQuery(pairs: Iterable<readonly [string, string]>): string {
  return Array.from(pairs, ([key, value]) => [encodeRfc3986(key), encodeRfc3986(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

/** A header value as signed: trimmed, runs of spaces folded into one. */
export function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

export interface CanonicalParts {
  method: string;
  /** The path as sent: S3 signs it without a second encoding or normalisation. */
  path: string;
  /** Output of {@link canonicalQuery}. */
  query: string;
  /** Lower-case names in sorted order, each with its canonical value. */
  headers: ReadonlyArray<readonly [string, string]>;
  payloadHash: string;
}

/** The string to sign for one request at `amzDate` (`YYYYMMDDTHHMMSSZ`) in `scope`. */
export function stringToSign(parts: CanonicalParts, amzDate: string, scope: string): string {
  const canonicalRequest = [
    parts.method,
    parts.path,
    parts.query,
    parts.headers.map(([name, value]) => `${name}:${value}\n`).join(''),
    parts.headers.map(([name]) => name).join(';'),
    parts.payloadHash,
  ].join('\n');
  return [SIGV4_ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
}

/** `YYYYMMDDTHHMMSSZ` for a time. */
export function amzDateOf(time: Date): string {
  return time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
