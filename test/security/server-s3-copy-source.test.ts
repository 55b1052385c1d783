/**
 * x-amz-copy-source is a bucket and a key like any request path's: a source that climbs out of
 * the storage folder (`..` as its bucket, plain or percent-encoded) is InvalidBucketName, and
 * nothing beside the folder is ever read, by CopyObject or by UploadPartCopy.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../src/local/index.js';
import { raw } from '../helpers/raw.js';
import { ACCESS_KEY, SECRET_KEY, tempFolder } from '../helpers/servers.js';

let server: LocalS3;
let folder: { path: string; remove: () => Promise<void> };
const bucket = 'victim';
const SECRET = 'secret bytes from beside the storage folder';

/**
 * Plants, one level above the storage root, what DiskStorage would read as the object `key` of
 * a bucket named `..`: `<root>/../objects/<sha256(key)>` and its `.json`.
 */
async function plant(key: string): Promise<void> {
  const objects = join(folder.path, 'objects');
  await mkdir(objects, { recursive: true });
  const file = join(objects, createHash('sha256').update(key).digest('hex'));
  await writeFile(file, SECRET);
  const meta = { key, size: SECRET.length, etag: '"0"', lastModified: new Date().toISOString(), contentType: 'text/plain', headers: {}, checksums: {} };
  await writeFile(`${file}.json`, JSON.stringify(meta));
}

beforeAll(async () => {
  folder = await tempFolder();
  server = await startLocalS3({ root: join(folder.path, 'root'), credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  await plant('secret-outside');
  await plant('x');
  expect((await raw(server.host, 'PUT', `/${bucket}`)).status).toBe(200);
  expect((await raw(server.host, 'PUT', `/${bucket}/source%20key%2B%25`, { body: 'inside' })).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
  await folder?.remove();
});

const ESCAPES = ['../secret-outside', '/../secret-outside', '/../x', '%2e%2e/x', '/%2E%2E/x', '%2e%2e/secret-outside'];

async function copy(source: string, target = `/${bucket}/stolen`) {
  return raw(server.host, 'PUT', target, { headers: { 'x-amz-copy-source': source } });
}

async function expectNothingStolen(key = 'stolen') {
  const read = await raw(server.host, 'GET', `/${bucket}/${key}`);
  expect(read.code).toBe('NoSuchKey');
  expect(read.body.toString()).not.toContain(SECRET);
}

describe('CopyObject source', () => {
  it('refuses a source bucket of `..`, plain or encoded, with InvalidBucketName', async () => {
    for (const source of ESCAPES) {
      const answer = await copy(source);
      expect([answer.status, answer.code], source).toEqual([400, 'InvalidBucketName']);
      expect(answer.body.toString()).not.toContain(SECRET);
      await expectNothingStolen();
    }
  });

  it('refuses a source bucket that is not a name as InvalidBucketName, and one that does not exist as NoSuchBucket', async () => {
    expect((await copy('Bad_Bucket/k')).code).toBe('InvalidBucketName');
    expect((await copy('a%2fb/k')).code).toBe('InvalidBucketName');
    const missing = await copy('/no-such-bucket/k');
    expect([missing.status, missing.code]).toEqual([404, 'NoSuchBucket']);
    expect(missing.body.toString()).toContain('<BucketName>no-such-bucket</BucketName>');
  });

  it('refuses a source that does not decode with InvalidArgument', async () => {
    for (const source of [`/${bucket}/%E0%A4%A`, `/${bucket}/%zz`, `/${bucket}/%FF`, '/%zz/k']) {
      const answer = await copy(source);
      expect([answer.status, answer.code], source).toEqual([400, 'InvalidArgument']);
    }
    await expectNothingStolen();
  });

  it('refuses a source key over 1024 bytes as a request key would be', async () => {
    expect((await copy(`/${bucket}/${'k'.repeat(1025)}`)).code).toBe('KeyTooLongError');
  });

  it('still copies a source named as S3 names it: encoded key, optional leading slash and versionId', async () => {
    for (const [index, source] of [`/${bucket}/source%20key%2B%25`, `${bucket}/source%20key%2B%25?versionId=null`].entries()) {
      expect((await copy(source, `/${bucket}/copy-${index}`)).status, source).toBe(200);
      expect((await raw(server.host, 'GET', `/${bucket}/copy-${index}`)).body.toString()).toBe('inside');
    }
  });
});

describe('UploadPartCopy source', () => {
  it('refuses a source bucket of `..` with InvalidBucketName and stores no part', async () => {
    const created = await raw(server.host, 'POST', `/${bucket}/assembled?uploads`);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())![1]!;
    for (const source of ESCAPES) {
      const answer = await raw(server.host, 'PUT', `/${bucket}/assembled?partNumber=1&uploadId=${uploadId}`, { headers: { 'x-amz-copy-source': source } });
      expect([answer.status, answer.code], source).toEqual([400, 'InvalidBucketName']);
    }
    const parts = await raw(server.host, 'GET', `/${bucket}/assembled?uploadId=${uploadId}`);
    expect(parts.body.toString()).not.toContain('<Part>');
    const missing = await raw(server.host, 'PUT', `/${bucket}/assembled?partNumber=1&uploadId=${uploadId}`, {
      headers: { 'x-amz-copy-source': '/no-such-bucket/k' },
    });
    expect(missing.code).toBe('NoSuchBucket');
  });
});
