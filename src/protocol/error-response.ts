/**
 * S3's error answers: the `<Error>` document of a failed response (or of a 200 that failed, as
 * CompleteMultipartUpload and CopyObject can), read into an S3ResponseError, with the credential
 * details S3 adds to some of them redacted.
 */
import { STATUS_CODES } from 'node:http';
import { S3ResponseError } from '../core/errors.js';
import { headerList, headerValue } from '../http/headers.js';
import { parseXml, textOf } from './xml.js';

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
