/** An object's tags: GetObjectTagging, PutObjectTagging, DeleteObjectTagging (`?tagging` on an object). */
import { S3Error } from '../s3-error.js';
import { tagsFromXml } from '../tags.js';
import type { Operation } from './context.js';
import { requireBucket, requireKey, requireObject } from './lookups.js';
import { readSmallBody, tag, xml } from './xml-answers.js';

/**
 * The most a Tagging document may take: ten tags of 128 and 256 characters fit in less than 16 KiB
 * even with every character written as a character reference; a longer one cannot be valid.
 */
const MAX_TAGGING_BYTES = 64 * 1024;

function noSuchKey(key: string): S3Error {
  return new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
}

export const TAGGING_OPERATIONS: Record<string, Operation> = {
  async GetObjectTagging(context) {
    const bucket = await requireBucket(context);
    const meta = await requireObject(context, bucket, requireKey(context));
    const inner = (meta.tags ?? []).map(([key, value]) => `<Tag>${tag('Key', key)}${tag('Value', value)}</Tag>`).join('');
    await context.respond(200, { 'content-type': 'application/xml' }, xml('Tagging', `<TagSet>${inner}</TagSet>`));
  },

  async PutObjectTagging(context) {
    const bucket = await requireBucket(context);
    const key = requireKey(context);
    await requireObject(context, bucket, key);
    const tags = tagsFromXml(await readSmallBody(context, MAX_TAGGING_BYTES));
    if (!(await context.storage.updateTags(bucket, key, tags.length > 0 ? tags : undefined))) throw noSuchKey(key);
    await context.respond(200, {}, null);
  },

  async DeleteObjectTagging(context) {
    const bucket = await requireBucket(context);
    const key = requireKey(context);
    if (!(await context.storage.updateTags(bucket, key, undefined))) throw noSuchKey(key);
    await context.respond(204, {}, null);
  },
};
