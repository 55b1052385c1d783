/**
 * S3's general-purpose bucket naming rules, enforced by the local server on every request and
 * by its storage itself, so that no name can reach a path outside the storage folder.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../src/local/index.js';
import { DiskStorage, MemoryStorage } from '../../src/local/storage.js';
import { raw } from '../helpers/raw.js';
import { ACCESS_KEY, SECRET_KEY, tempFolder } from '../helpers/servers.js';

let server: LocalS3;
let folder: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  folder = await tempFolder();
  server = await startLocalS3({ root: join(folder.path, 'root'), credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
});

afterAll(async () => {
  await server?.close();
  await folder?.remove();
});

/** Names that break one rule each, from S3's list of general purpose bucket naming rules. */
const INVALID = [
  'a..b',
  'xn--bucket',
  'sthree-bucket',
  'sthree-configurator',
  'amzn-s3-demo-bucket',
  'bucket-s3alias',
  'bucket--ol-s3',
  'bucket.mrap',
  'bucket--x-s3',
  'bucket--table-s3',
  '192.168.5.4',
  'ab',
  'a'.repeat(64),
  'Bucket',
  '-bucket',
  'bucket-',
  'bu_cket',
];

describe('bucket names', () => {
  it('refuses every name S3 refuses with InvalidBucketName, creating nothing', async () => {
    for (const name of INVALID) {
      const answer = await raw(server.host, 'PUT', `/${encodeURIComponent(name)}`);
      expect([answer.status, answer.code], name).toEqual([400, 'InvalidBucketName']);
    }
    expect(await readdir(join(folder.path, 'root'))).toEqual(['.tmp']);
  });

  it('accepts names that only come close to a rule', async () => {
    for (const name of ['a.b-c', 'xn-bucket', 'bucket-s3', 'abc', 'a'.repeat(63), 'sthree', 'bucket.mrap.x', '192.168.5.4a']) {
      expect((await raw(server.host, 'PUT', `/${name}`)).status, name).toBe(200);
    }
  });
});

describe('storage refuses what is not a bucket name', () => {
  it('DiskStorage never makes a path of a name with dots or slashes', async () => {
    const root = join(folder.path, 'disk');
    await mkdir(root);
    const storage = new DiskStorage(root);
    await storage.init();
    for (const name of ['..', '../escaped', 'a/b', 'a..b', '.tmp', '']) {
      await expect(storage.createBucket(name), name).rejects.toMatchObject({ code: 'InvalidBucketName' });
      await expect(storage.hasBucket(name), name).rejects.toMatchObject({ code: 'InvalidBucketName' });
      await expect(storage.headObject(name, 'k'), name).rejects.toMatchObject({ code: 'InvalidBucketName' });
    }
    expect((await readdir(folder.path)).sort()).toEqual(['disk', 'root']);
    expect(await readdir(root)).toEqual(['.tmp']);
  });

  it('DiskStorage lists only folders that are bucket names', async () => {
    const root = join(folder.path, 'listed');
    await mkdir(join(root, 'Not_A_Bucket'), { recursive: true });
    const storage = new DiskStorage(root);
    await storage.init();
    expect(await storage.createBucket('real-bucket')).toBe(true);
    expect((await storage.listBuckets()).map((bucket) => bucket.name)).toEqual(['real-bucket']);
  });

  it('MemoryStorage creates no bucket of a name that is not one', async () => {
    const storage = new MemoryStorage();
    await expect(storage.createBucket('../escaped')).rejects.toMatchObject({ code: 'InvalidBucketName' });
    expect(await storage.listBuckets()).toEqual([]);
  });
});
