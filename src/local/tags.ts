/**
 * Object tags as S3 takes them: from `x-amz-tagging` (a URL-encoded query string) on PutObject,
 * CreateMultipartUpload and CopyObject, and from PutObjectTagging's `<Tagging>` document; checked
 * with S3's limits (10 tags, keys of 1 to 128 characters, values of up to 256, letters, digits,
 * spaces and `+ - = . _ : / @`, no `aws:` key, no key twice) and S3's error codes for each.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { readXml } from '../protocol/xml-reader.js';
import { S3Error } from './s3-error.js';

/** Key and value pairs, in the order given. */
export type TagSet = Array<[string, string]>;

const MAX_TAGS = 10;
const MAX_KEY = 128;
const MAX_VALUE = 256;
/** The characters S3 allows in tag keys and values (any language's letters and digits). */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}+\-=._:/@]*$/u;

const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema';
const BAD_HEADER = "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";

function invalidTag(message: string): S3Error {
  return new S3Error('InvalidTag', message);
}

/** Length in characters (code points), as S3 counts a tag's. */
function characters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Throws S3's refusal for the first thing wrong with `tags`; returns them otherwise. */
function checked(tags: TagSet): TagSet {
  if (tags.length > MAX_TAGS) throw new S3Error('BadRequest', `Object tags cannot be greater than ${MAX_TAGS}`);
  const seen = new Set<string>();
  for (const [key, value] of tags) {
    if (characters(key) > MAX_KEY) throw invalidTag(`The TagKey you have provided is too long, max ${MAX_KEY}`);
    if (key === '' || !TAG_TEXT.test(key)) throw invalidTag('The TagKey you have provided is invalid');
    if (key.startsWith('aws:')) throw invalidTag('Your TagKey cannot be prefixed with aws:');
    if (characters(value) > MAX_VALUE) throw invalidTag(`The TagValue you have provided is too long, max ${MAX_VALUE}`);
    if (!TAG_TEXT.test(value)) throw invalidTag('The TagValue you have provided is invalid');
    if (seen.has(key)) throw invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(key);
  }
  return tags;
}

/** The tags `x-amz-tagging` names (`k1=v1&k2=v2`, URL-encoded); null when the header is absent. */
export function tagsFromHeader(headers: IncomingHttpHeaders): TagSet | null {
  const value = headers['x-amz-tagging'];
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value.join('&') : value;
  const tags: TagSet = [];
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    try {
      const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, '%20'));
      tags.push([decode(equals < 0 ? pair : pair.slice(0, equals)), decode(equals < 0 ? '' : pair.slice(equals + 1))]);
    } catch {
      throw new S3Error('InvalidArgument', BAD_HEADER, { ArgumentName: 'x-amz-tagging' });
    }
  }
  // In the header, S3 calls a key given twice a malformed header rather than a bad tag.
  if (new Set(tags.map(([key]) => key)).size !== tags.length) throw new S3Error('InvalidArgument', BAD_HEADER, { ArgumentName: 'x-amz-tagging' });
  return checked(tags);
}

/** The tags of PutObjectTagging's body: `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>`. */
export function tagsFromXml(text: string): TagSet {
  const document = readXml(text, new Set(['Tag']));
  const tagging = document?.Tagging;
  if (tagging === undefined || Array.isArray(tagging)) throw new S3Error('MalformedXML', MALFORMED);
  // An empty <TagSet/> reads as '' and clears the tags.
  const tagSet = typeof tagging === 'string' ? '' : tagging.TagSet;
  if (tagSet === undefined || Array.isArray(tagSet)) throw new S3Error('MalformedXML', MALFORMED);
  const tags: TagSet = [];
  for (const tag of typeof tagSet === 'string' ? [] : ((tagSet.Tag as unknown[] | undefined) ?? [])) {
    const { Key: key, Value: value } = (tag ?? {}) as Record<string, unknown>;
    if (typeof key !== 'string' || typeof value !== 'string') throw new S3Error('MalformedXML', MALFORMED);
    tags.push([key, value]);
  }
  return checked(tags);
}

/** `x-amz-tagging-count` for a GET or HEAD, which S3 sends only when the object has tags. */
export function tagCountHeader(stored: { tags?: TagSet }): Record<string, number> {
  return stored.tags?.length ? { 'x-amz-tagging-count': stored.tags.length } : {};
}
