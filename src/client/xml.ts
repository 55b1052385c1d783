/** S3's XML bodies in and out: error documents and the few control-plane responses the engine reads. */
import { STATUS_CODES } from 'node:http';
import { readXml } from './xml-reader.js';
import { S3ResponseError, type HeaderList } from './errors.js';

/** Parses an XML document into plain objects, every value kept as a string. Returns null when the text is not XML. */
export function parseXml(body: Buffer | string): Record<string, unknown> | null {
  return readXml(body.toString());
}

/** The text of a child element, or null when absent or not text. */
export function textOf(node: unknown, name: string): string | null {
  if (!node || typeof node !== 'object') return null;
  const value = (node as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : null;
}

/** The child elements of one name: none, one or many, always as an array. */
export function elementsOf(node: unknown, name: string): unknown[] {
  if (!node || typeof node !== 'object') return [];
  const value = (node as Record<string, unknown>)[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Escapes text content; quotes stay as they are, as S3's own clients send ETags. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** Response headers as the reference's list of (name, value) pairs. */
export function headerList(headers: Record<string, string | string[] | undefined>): HeaderList {
  const list: HeaderList = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) list.push([name, item]);
  }
  return list;
}

export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The `<Error>` element of a body, when the body is an S3 error document. */
export function errorElement(body: Buffer | null): Record<string, unknown> | null {
  if (!body || body.length === 0) return null;
  // Cheap test first: a 200 body of a large GetObject-like response is not parsed.
  const head = body.subarray(0, 512).toString('latin1');
  if (!head.includes('<Error')) return null;
  const document = parseXml(body);
  const error = document?.Error;
  return error && typeof error === 'object' ? (error as Record<string, unknown>) : null;
}

// S3 explains a SignatureDoesNotMatch with the access key, the string it signed and the signature given.
const CREDENTIAL_DETAIL = /<(AWSAccessKeyId|SignatureProvided|StringToSign|StringToSignBytes|CanonicalRequest|CanonicalRequestBytes)>[^<]*<\/\1>/g;

/** An error body with the credential details S3 puts in some errors replaced by `[redacted]`. */
export function redactErrorBody(body: Buffer): Buffer {
  const text = body.toString('latin1');
  if (!text.includes('<Error')) return body;
  const redacted = text.replace(CREDENTIAL_DETAIL, '<$1>[redacted]</$1>');
  return redacted === text ? body : Buffer.from(redacted, 'latin1');
}

/** An S3ResponseError from a failed response; S3's code and message come from the XML body, else from the status. */
export function responseError(
  statusCode: number,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer | null,
  operationName: string | null,
): S3ResponseError {
  const element = errorElement(body);
  const statusName = (STATUS_CODES[statusCode] ?? `Http${statusCode}`).replace(/[^A-Za-z0-9]/g, '');
  const code = textOf(element, 'Code') ?? statusName;
  const detail = textOf(element, 'Message') ?? STATUS_CODES[statusCode] ?? 'unexpected response';
  return new S3ResponseError({
    s3Code: code,
    message: `${operationName ?? 'S3 request'} failed with ${statusCode} ${code}: ${detail}`,
    statusCode,
    headers: headerList(headers),
    body: body && redactErrorBody(body),
    operationName,
    requestId: headerValue(headers, 'x-amz-request-id') ?? textOf(element, 'RequestId'),
  });
}
