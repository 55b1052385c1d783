/** S3's XML in and out: documents read into plain objects, the helpers that walk them, text escaped for writing. */
import { readXml } from './xml-reader.js';

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

/** Escapes text for XML as S3 writes its answers: `&`, `<`, `>`, and both quotes (an ETag is `&quot;...&quot;`). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Escapes text content but leaves quotes as they are, as the AWS SDKs write request bodies
 * (CompleteMultipartUpload's ETags, DeleteObjects' keys): S3-compatible servers are not all as
 * careful with entities as S3.
 */
export function escapeXmlKeepingQuotes(text: string): string {
  return text.replace(/[&<>]/g, (c) => XML_ENTITIES[c]!);
}
