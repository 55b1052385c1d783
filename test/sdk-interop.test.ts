/**
 * The local server driven by clients no one here wrote: the AWS SDK for JavaScript
 * (with its default and explicit checksums), lib-storage, and minio-js. Their
 * validation of what the server sends is the proof that it speaks S3.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client as SdkClient,
  type ChecksumAlgorithm,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import * as Minio from 'minio';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { MiB, makeBuffer, sha256 } from './helpers/servers.js';

let server: LocalS3;
let sdk: SdkClient;
const bucket = 'interop';

beforeAll(async () => {
  server = await startLocalS3();
  sdk = new SdkClient({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: server.credentials });
  await sdk.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  sdk?.destroy();
  await server?.close();
});

async function bytesOf(body: { transformToByteArray(): Promise<Uint8Array> } | undefined): Promise<Buffer> {
  return Buffer.from(await body!.transformToByteArray());
}

describe('@aws-sdk/client-s3', () => {
  it('puts a stream with its default CRC32 checksum in an aws-chunked trailer', async () => {
    const data = makeBuffer(300_000);
    server.resetRequests();
    const put = await sdk.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'default/stream',
        Body: Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]),
        ContentLength: data.length,
      }),
    );
    const request = server.requests[0]!;
    expect(request.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expect(request.headers['x-amz-trailer']).toBe('x-amz-checksum-crc32');
    const got = await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: 'default/stream', ChecksumMode: 'ENABLED' }));
    expect(got.ChecksumCRC32).toBe(put.ChecksumCRC32);
    expect(sha256(await bytesOf(got.Body))).toBe(sha256(data));
  });

  it('puts a Buffer with a signed payload hash and its default CRC32 header, and gets, heads, lists and deletes', async () => {
    const data = makeBuffer(300_000);
    server.resetRequests();
    const put = await sdk.send(new PutObjectCommand({ Bucket: bucket, Key: 'default/object', Body: data }));
    const request = server.requests[0]!;
    expect(request.headers['x-amz-content-sha256']).toBe(sha256(data));
    expect(request.headers['x-amz-checksum-crc32']).toBe(put.ChecksumCRC32);

    const got = await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: 'default/object', ChecksumMode: 'ENABLED' }));
    expect(got.ChecksumCRC32).toBe(put.ChecksumCRC32);
    expect(sha256(await bytesOf(got.Body))).toBe(sha256(data));

    const head = await sdk.send(new HeadObjectCommand({ Bucket: bucket, Key: 'default/object' }));
    expect(head.ContentLength).toBe(data.length);
    expect(head.ETag).toBe(put.ETag);
    const listed = await sdk.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'default/' }));
    expect(listed.Contents?.map((entry) => [entry.Key, entry.Size])).toEqual([
      ['default/object', data.length],
      ['default/stream', data.length],
    ]);
    await sdk.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'default/object' }));
    await expect(sdk.send(new HeadObjectCommand({ Bucket: bucket, Key: 'default/object' }))).rejects.toMatchObject({ name: 'NotFound' });
    await expect(sdk.send(new GetObjectCommand({ Bucket: bucket, Key: 'default/object' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  for (const algorithm of ['CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as ChecksumAlgorithm[]) {
    it(`puts with ${algorithm}, and a checksum-mode GET returns the value the SDK validates`, async () => {
      const data = makeBuffer(1 * MiB + 17);
      const put = await sdk.send(new PutObjectCommand({ Bucket: bucket, Key: `alg/${algorithm}`, Body: data, ChecksumAlgorithm: algorithm }));
      const field = `Checksum${algorithm}` as 'ChecksumCRC32C';
      expect(put[field]).toBeDefined();
      const got = await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: `alg/${algorithm}`, ChecksumMode: 'ENABLED' }));
      expect(got[field]).toBe(put[field]);
      expect(sha256(await bytesOf(got.Body))).toBe(sha256(data));
    });
  }

  it('a ranged GET returns the range', async () => {
    const data = makeBuffer(100_000);
    await sdk.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranged', Body: data }));
    const got = await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged', Range: 'bytes=1000-1999' }));
    expect(got.ContentRange).toBe('bytes 1000-1999/100000');
    expect((await bytesOf(got.Body)).equals(data.subarray(1000, 2000))).toBe(true);
  });

  it('rejects a body whose byte was flipped on the way, by its checksum', async () => {
    const data = makeBuffer(200_000);
    await sdk.send(new PutObjectCommand({ Bucket: bucket, Key: 'corrupted', Body: data, ChecksumAlgorithm: 'CRC32C' }));
    server.faults.add({ operation: 'GetObject', key: 'corrupted', action: { type: 'flip-byte' } });
    const got = await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: 'corrupted', ChecksumMode: 'ENABLED' }));
    await expect(bytesOf(got.Body)).rejects.toThrow(/checksum/i);
  });

  it('a PutObject whose declared checksum is wrong is refused with BadDigest and nothing is stored', async () => {
    await expect(
      sdk.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad-digest', Body: 'hello', ChecksumSHA256: Buffer.alloc(32).toString('base64') })),
    ).rejects.toMatchObject({ name: 'BadDigest' });
    await expect(sdk.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad-digest' }))).rejects.toMatchObject({ name: 'NotFound' });
  });
});

describe('@aws-sdk/lib-storage', () => {
  it('uploads 64 MiB in parts with its checksums; the object reads back byte for byte', async () => {
    const data = makeBuffer(64 * MiB);
    server.resetRequests();
    const upload = new Upload({ client: sdk, params: { Bucket: bucket, Key: 'lib-storage', Body: data }, partSize: 8 * MiB, queueSize: 4 });
    const result = await upload.done();
    expect(server.requests.filter((r) => r.operation === 'UploadPart')).toHaveLength(8);
    expect(result.ETag).toMatch(/^"[0-9a-f]{32}-8"$/);
    const got = await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: 'lib-storage' }));
    expect(sha256(await bytesOf(got.Body))).toBe(sha256(data));
    expect(server.requests.filter((r) => r.operation === 'ListMultipartUploads')).toHaveLength(0);
  });

  for (const algorithm of ['CRC32C', 'SHA256', 'CRC64NVME'] as ChecksumAlgorithm[]) {
    it(`uploads in parts with ${algorithm} and the server keeps the object checksum`, async () => {
      const data = makeBuffer(12 * MiB);
      await new Upload({
        client: sdk,
        params: { Bucket: bucket, Key: `lib-${algorithm}`, Body: data, ChecksumAlgorithm: algorithm },
        partSize: 5 * MiB,
      }).done();
      const head = await sdk.send(new HeadObjectCommand({ Bucket: bucket, Key: `lib-${algorithm}`, ChecksumMode: 'ENABLED' }));
      expect(head[`Checksum${algorithm}` as 'ChecksumCRC32C']).toBeDefined();
      const got = await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: `lib-${algorithm}` }));
      expect(sha256(await bytesOf(got.Body))).toBe(sha256(data));
    });
  }
});

describe('minio-js', () => {
  it('makes a bucket, puts, stats, lists, gets a range and removes', async () => {
    const url = new URL(server.endpoint);
    const minio = new Minio.Client({
      endPoint: url.hostname,
      port: Number(url.port),
      useSSL: false,
      accessKey: server.credentials.accessKeyId,
      secretKey: server.credentials.secretAccessKey,
      region: 'us-east-1',
      pathStyle: true,
    });
    await minio.makeBucket('minio-bucket', 'us-east-1');
    expect(await minio.bucketExists('minio-bucket')).toBe(true);
    const data = makeBuffer(7 * MiB);
    await minio.putObject('minio-bucket', 'dir/object', data, data.length);
    const stat = await minio.statObject('minio-bucket', 'dir/object');
    expect(stat.size).toBe(data.length);
    const names: string[] = [];
    for await (const item of minio.listObjectsV2('minio-bucket', 'dir/', true)) names.push((item as { name: string }).name);
    expect(names).toEqual(['dir/object']);
    const stream = await minio.getPartialObject('minio-bucket', 'dir/object', 100, 1000);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data.subarray(100, 1100))).toBe(true);
    await minio.removeObject('minio-bucket', 'dir/object');
    await expect(minio.statObject('minio-bucket', 'dir/object')).rejects.toMatchObject({ code: 'NotFound' });
  });
});
