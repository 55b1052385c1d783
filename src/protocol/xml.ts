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

/** Escapes text content; quotes stay as they are, as S3's own clients send ETags. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}
