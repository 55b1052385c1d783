/**
 * A strict reader for the small XML documents S3 exchanges: elements, text,
 * the five predefined entities and character references, CDATA, comments and
 * processing instructions. Attributes are skipped; DTDs are refused, so no
 * entity can expand. The result is plain objects: an element with children
 * becomes an object, any other element its trimmed text, and a name that
 * repeats (or is listed in `arrays`) an array.
 */

export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

const NAME = /[A-Za-z_:][\w.:-]*/y;
const ATTRIBUTE = /\s+[A-Za-z_:][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*')/y;
// A bare `&` matches too, and is refused.
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([0-9A-Fa-f]{1,6}));|&/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

class Malformed extends Error {}

interface Frame {
  name: string;
  text: string;
  children: XmlObject | null;
}

function decodeText(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(ENTITY, (reference, name: string | undefined, decimal: string | undefined, hex: string | undefined) => {
    if (name) return NAMED[name]!;
    if (!decimal && !hex) throw new Malformed(reference);
    const code = decimal ? Number(decimal) : parseInt(hex!, 16);
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new Malformed(reference);
    return String.fromCodePoint(code);
  });
}

function add(parent: XmlObject, name: string, value: XmlValue, arrays: ReadonlySet<string>): void {
  const existing = parent[name];
  if (existing === undefined) parent[name] = arrays.has(name) ? [value] : value;
  else if (Array.isArray(existing)) existing.push(value);
  else parent[name] = [existing, value];
}

function match(pattern: RegExp, text: string, at: number): string | null {
  pattern.lastIndex = at;
  const found = pattern.exec(text);
  return found ? found[0] : null;
}

function skipPast(text: string, at: number, terminator: string): number {
  const end = text.indexOf(terminator, at);
  if (end < 0) throw new Malformed();
  return end + terminator.length;
}

function read(text: string, arrays: ReadonlySet<string>): XmlObject {
  const document: XmlObject = {};
  const stack: Frame[] = [];
  let rootSeen = false;
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('<', at);
    const raw = text.slice(at, open < 0 ? text.length : open);
    const top = stack[stack.length - 1];
    if (top) top.text += decodeText(raw);
    else if (raw.trim() !== '') throw new Malformed();
    if (open < 0) break;
    if (text.startsWith('<?', open)) at = skipPast(text, open + 2, '?>');
    else if (text.startsWith('<!--', open)) at = skipPast(text, open + 4, '-->');
    else if (text.startsWith('<![CDATA[', open)) {
      if (!top) throw new Malformed();
      const end = skipPast(text, open + 9, ']]>');
      top.text += text.slice(open + 9, end - 3);
      at = end;
    } else if (text.startsWith('</', open)) {
      const name = match(NAME, text, open + 2);
      const frame = stack.pop();
      if (!name || !frame || frame.name !== name) throw new Malformed();
      at = open + 2 + name.length;
      while (/\s/.test(text[at] ?? '')) at++;
      if (text[at] !== '>') throw new Malformed();
      at++;
      close(frame, stack, document, arrays);
    } else {
      // A DOCTYPE or any other markup declaration is refused: S3 never sends one.
      const name = match(NAME, text, open + 1);
      if (!name) throw new Malformed();
      if (!stack.length && rootSeen) throw new Malformed();
      rootSeen = true;
      at = open + 1 + name.length;
      for (let attribute = match(ATTRIBUTE, text, at); attribute; attribute = match(ATTRIBUTE, text, at)) at += attribute.length;
      while (/\s/.test(text[at] ?? '')) at++;
      const frame: Frame = { name, text: '', children: null };
      if (text.startsWith('/>', at)) {
        at += 2;
        close(frame, stack, document, arrays);
      } else if (text[at] === '>') {
        at++;
        stack.push(frame);
      } else throw new Malformed();
    }
  }
  if (stack.length || !rootSeen) throw new Malformed();
  return document;
}

function close(frame: Frame, stack: Frame[], document: XmlObject, arrays: ReadonlySet<string>): void {
  const parent = stack[stack.length - 1];
  const value = frame.children ?? frame.text.trim();
  if (parent) add((parent.children ??= {}), frame.name, value, arrays);
  else add(document, frame.name, value, arrays);
}

/**
 * Reads a document into plain objects keyed by element name, the root element
 * included. Returns null when the text is not well-formed XML.
 */
export function readXml(text: string, arrays: ReadonlySet<string> = new Set()): XmlObject | null {
  try {
    return read(text, arrays);
  } catch (error) {
    if (error instanceof Malformed) return null;
    throw error;
  }
}
