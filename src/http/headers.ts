/** Response headers as a record (names in lower case, repeats as arrays) and as the reference's list of pairs. */
import type { HeaderList } from '../core/errors.js';

/** Response headers as the reference's list of (name, value) pairs. */
export function headerList(headers: Record<string, string | string[] | undefined>): HeaderList {
  const list: HeaderList = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) list.push([name, item]);
  }
  return list;
}

/** A header's value; the first, when it was repeated. */
export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
