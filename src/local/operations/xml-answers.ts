/** S3's XML as the operations write it (namespace, elements, dates) and read it from a request body. */
import { readXml } from '../../protocol/xml-reader.js';
import { escapeXml } from '../../protocol/xml.js';
import { S3Error } from '../s3-error.js';
import { MiB, type OperationContext } from './context.js';

export const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function xml(root: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${XMLNS}">${inner}</${root}>`;
}

export function tag(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/**
 * The server's one account, which owns every bucket and object and initiates every upload; its ID
 * has the shape of an S3 canonical user ID (64 hex digits).
 */
const OWNER_ID = '5e3c0a5100000000000000000000000000000000000000000000000000000000';
const OWNER_NAME = 's3tx';

/** `<Owner>` (or `<Initiator>`, which S3 writes the same way) naming the server's account. */
export function ownerXml(element: 'Owner' | 'Initiator' = 'Owner'): string {
  return `<${element}>${tag('ID', OWNER_ID)}${tag('DisplayName', OWNER_NAME)}</${element}>`;
}

export function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}

const LISTED = new Set(['Part', 'Object']);

export function parseBody(text: string): Record<string, unknown> {
  const document = readXml(text, LISTED);
  if (document) return document;
  throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
}

export async function readSmallBody(context: OperationContext, limit = 4 * MiB): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of context.body()) {
    length += chunk.length;
    if (length > limit) throw new S3Error('MalformedXML', 'The XML you provided was too large.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
