/** The bucket operations: ListBuckets, CreateBucket, HeadBucket, GetBucketLocation, GetBucketVersioning, DeleteBucket, and S3 Express's CreateSession. */
import { escapeXml } from '../../protocol/xml.js';
import { createSessionXml } from '../s3express.js';
import { S3Error } from '../s3-error.js';
import { DEFAULT_REGION } from '../sigv4.js';
import { header, type Operation } from './context.js';
import { requireBucket } from './lookups.js';
import { ownerXml, tag, xml, XMLNS } from './xml-answers.js';

export const BUCKET_OPERATIONS: Record<string, Operation> = {
  async ListBuckets(context) {
    const buckets = await context.storage.listBuckets();
    const inner = buckets.map((bucket) => `<Bucket>${tag('Name', bucket.name)}${tag('CreationDate', bucket.created)}</Bucket>`).join('');
    await context.respond(200, { 'content-type': 'application/xml' }, xml('ListAllMyBucketsResult', `${ownerXml()}<Buckets>${inner}</Buckets>`));
  },

  async CreateBucket(context) {
    for await (const _ of context.body()) {
      // The optional CreateBucketConfiguration names a region; every region is this one.
    }
    if (!(await context.storage.createBucket(context.route.bucket!))) {
      throw new S3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', {
        BucketName: context.route.bucket!,
      });
    }
    await context.respond(200, { location: `/${context.route.bucket}` }, null);
  },

  async HeadBucket(context) {
    await requireBucket(context);
    await context.respond(200, { 'x-amz-bucket-region': context.region }, null);
  },

  async GetBucketLocation(context) {
    await requireBucket(context);
    // S3 names no constraint for us-east-1, its original region, and the region itself for any other.
    const region = context.region;
    const constraint =
      region === DEFAULT_REGION ? `<LocationConstraint xmlns="${XMLNS}"/>` : `<LocationConstraint xmlns="${XMLNS}">${escapeXml(region)}</LocationConstraint>`;
    await context.respond(200, { 'content-type': 'application/xml' }, `<?xml version="1.0" encoding="UTF-8"?>\n${constraint}`);
  },

  async GetBucketVersioning(context) {
    await requireBucket(context);
    // No bucket here keeps versions: S3 answers for a bucket that never had versioning with no Status at all.
    await context.respond(200, { 'content-type': 'application/xml' }, `<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="${XMLNS}"/>`);
  },

  async CreateSession(context) {
    const bucket = await requireBucket(context);
    const session = context.sessions.create(bucket, header(context.headers, 'x-amz-create-session-mode'));
    await context.respond(200, { 'content-type': 'application/xml' }, createSessionXml(session));
  },

  async DeleteBucket(context) {
    const bucket = await requireBucket(context);
    if (!(await context.storage.bucketIsEmpty(bucket)))
      throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucket });
    await context.storage.deleteBucket(bucket);
    await context.respond(204, {}, null);
  },
};
