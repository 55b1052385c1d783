/**
 * The client's observers and the options the `aws s3` flags stand on: onRequestMetrics (every
 * request, retries included, nothing secret; an observer that throws fails nothing), listing
 * pages of maxKeys, a copy's metadataDirective, a stream's expectedSize, anonymous clients.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3Client, type RequestMetrics } from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { createBucket, newClient } from './helpers/client.js';
import { ACCESS_KEY, MiB, SECRET_KEY } from './helpers/servers.js';

const bucket = 'metrics';
let server: LocalS3;

beforeAll(async () => {
  server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  await createBucket(server, bucket);
});

afterAll(async () => {
  await server?.close();
});

beforeEach(() => {
  server.resetRequests();
  server.faults.clear();
});

describe('onRequestMetrics', () => {
  it('hears of every request, each retry its own, with status, time and no header', async () => {
    const seen: RequestMetrics[] = [];
    const client = newClient({ endpoint: server.endpoint, partSize: 5 * MiB, onRequestMetrics: (metrics) => void seen.push(metrics) });
    try {
      server.faults.add({ operation: 'UploadPart', partNumber: 2, action: { type: 'error', status: 503, code: 'SlowDown' } });
      await client.upload({ bucket, key: 'parts', body: Buffer.alloc(12 * MiB) });
      const parts = seen.filter((metrics) => metrics.operationName === 'UploadPart');
      expect(parts).toHaveLength(4);
      expect(parts.filter((metrics) => metrics.statusCode === 503)).toMatchObject([{ attempt: 0, errorCode: 'SlowDown', method: 'PUT' }]);
      expect(parts.filter((metrics) => metrics.attempt === 1)).toMatchObject([{ statusCode: 200, errorCode: null }]);
      expect(seen.map((metrics) => metrics.operationName)).toEqual(expect.arrayContaining(['CreateMultipartUpload', 'CompleteMultipartUpload']));
      expect(seen.length).toBe(server.requests.length);
      for (const metrics of seen) {
        expect(metrics.origin).toBe(server.endpoint.replace(/\/$/, ''));
        expect(metrics.path).toMatch(new RegExp(`^/${bucket}/parts`));
        expect(metrics.durationMs).toBeGreaterThanOrEqual(0);
        expect(Object.keys(metrics).sort()).toEqual(['attempt', 'durationMs', 'errorCode', 'method', 'operationName', 'origin', 'path', 'statusCode']);
      }
    } finally {
      await client.close();
    }
  });

  it('that throws does not fail the transfer; one that is not a function is refused', async () => {
    const client = newClient({
      endpoint: server.endpoint,
      onRequestMetrics: () => {
        throw new Error('observer broke');
      },
    });
    try {
      await expect(client.upload({ bucket, key: 'fine', body: Buffer.from('x') })).resolves.toMatchObject({ bytes: 1 });
    } finally {
      await client.close();
    }
    expect(() => newClient({ onRequestMetrics: 'yes' as never })).toThrow(/onRequestMetrics: must be a function/);
  });
});

describe('the options under the aws s3 flags', () => {
  it('listObjects asks for maxKeys a page, and refuses what S3 would', async () => {
    const client = newClient({ endpoint: server.endpoint });
    try {
      await Promise.all(['a', 'b', 'c', 'd', 'e'].map((key) => client.upload({ bucket, key: `pages/${key}`, body: Buffer.from(key) })));
      server.resetRequests();
      const keys: string[] = [];
      for await (const entry of client.listObjects({ bucket, prefix: 'pages/', maxKeys: 2 })) if (entry.kind === 'object') keys.push(entry.key);
      expect(keys).toHaveLength(5);
      expect(server.requests.map((record) => record.query['max-keys'])).toEqual(['2', '2', '2']);
      for (const maxKeys of [0, 1001, 1.5])
        await expect(client.listObjects({ bucket, maxKeys }).next()).rejects.toThrow(/maxKeys: must be a whole number from 1 to 1000/);
    } finally {
      await client.close();
    }
  });

  it('copy sends metadataDirective as asked, and by default REPLACE only when attributes are given', async () => {
    const client = newClient({ endpoint: server.endpoint });
    try {
      await client.upload({ bucket, key: 'src', body: Buffer.from('x'), metadata: { a: '1' } });
      const directive = async (options: object) => {
        server.resetRequests();
        await client.copy({ source: { bucket, key: 'src' }, bucket, key: 'dst', ...options });
        return server.requests.find((record) => record.operation === 'CopyObject')!.headers['x-amz-metadata-directive'];
      };
      expect(await directive({})).toBeUndefined();
      expect(await directive({ metadata: { b: '2' } })).toBe('REPLACE');
      expect(await directive({ metadata: { b: '2' }, metadataDirective: 'COPY' })).toBe('COPY');
      expect((await client.headObject({ bucket, key: 'dst' })).metadata).toEqual({ a: '1' });
      expect(await directive({ metadataDirective: 'REPLACE' })).toBe('REPLACE');
      expect((await client.headObject({ bucket, key: 'dst' })).metadata).toEqual({});
      await expect(client.copy({ source: { bucket, key: 'src' }, bucket, key: 'dst', metadataDirective: 'KEEP' as never })).rejects.toThrow(
        /metadataDirective: must be COPY or REPLACE/,
      );
    } finally {
      await client.close();
    }
  });

  it('upload of a stream sizes its parts by expectedSize; a body of known length ignores it', async () => {
    const client = newClient({ endpoint: server.endpoint, partSize: 5 * MiB });
    try {
      await client.upload({ bucket, key: 'expected', body: Readable.from([Buffer.alloc(25 * MiB)]), expectedSize: 200 * 1024 * MiB });
      // 200 GiB in 10,000 parts: 20.48 MiB, so 21 MiB parts.
      expect(server.requests.filter((record) => record.operation === 'UploadPart').map((record) => record.bytesIn)).toEqual([21 * MiB, 4 * MiB]);
      server.resetRequests();
      await client.upload({ bucket, key: 'expected', body: Buffer.alloc(13 * MiB), expectedSize: 200 * 1024 * MiB });
      expect(server.requests.filter((record) => record.operation === 'UploadPart').map((record) => record.bytesIn)).toEqual([5 * MiB, 5 * MiB, 3 * MiB]);
      await expect(client.upload({ bucket, key: 'x', body: Readable.from([Buffer.from('x')]), expectedSize: -1 })).rejects.toThrow(/expectedSize: must be/);
      await expect(client.upload({ bucket, key: 'x', body: Readable.from([Buffer.from('x')]), expectedSize: 10_000 * 5 * 1024 * MiB + 1 })).rejects.toThrow(
        /expectedSize/,
      );
    } finally {
      await client.close();
    }
  });

  it('fromEnvironment({ anonymous }) signs nothing and looks up no credentials', async () => {
    const saved = { ...process.env };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    const client = S3Client.fromEnvironment({ endpoint: server.endpoint, region: 'us-east-1', anonymous: true });
    try {
      await expect(client.headObject({ bucket, key: 'src' })).rejects.toMatchObject({ statusCode: 403 });
      expect(server.requests.at(-1)).toMatchObject({ operation: 'HeadObject', signer: null });
      expect(server.requests.at(-1)!.headers['x-amz-date']).toBeUndefined();
    } finally {
      await client.close();
      process.env = saved;
    }
  });
});
