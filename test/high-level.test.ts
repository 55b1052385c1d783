import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AwsCredentialsProvider,
  RequestCanceledError,
  S3ChecksumAlgorithm,
  S3Client,
  S3RequestType,
  createDefaultS3SigningConfig,
  type Progress,
  type S3ResumeToken,
} from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { awsEnvironment, httpRequest, run } from './helpers/client.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, sha256, tempFolder } from './helpers/servers.js';

let server: LocalS3;
let client: S3Client;
let folder: { path: string; remove: () => Promise<void> };
const bucket = 'high-level';
const data = makeBuffer(19 * MiB + 5);

beforeAll(async () => {
  server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  client = newClient();
  folder = await tempFolder();
  await run(client, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', `/${bucket}`) });
});

function newClient(maxConnections?: number): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    partSize: 5 * MiB,
    ...(maxConnections ? { maxConnections } : {}),
    signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS_KEY, SECRET_KEY) }),
  });
}

afterAll(async () => {
  await client?.close();
  await server?.close();
  await folder?.remove();
});

async function bytesOf(key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await client.download({ bucket, key, to: new Writable({ write: (chunk, _, done) => (chunks.push(chunk), done()) }) });
  return Buffer.concat(chunks);
}

describe('upload', () => {
  it('takes a file path, bytes, a Readable, a web ReadableStream and an AsyncIterable', async () => {
    const file = join(folder.path, 'source.json');
    await writeFile(file, data);
    const bodies = {
      file,
      buffer: data,
      uint8: new Uint8Array(data.buffer, data.byteOffset, data.length),
      readable: Readable.from([data.subarray(0, 7 * MiB), data.subarray(7 * MiB)]),
      web: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
      iterable: (async function* () {
        for (let offset = 0; offset < data.length; offset += MiB) yield data.subarray(offset, offset + MiB);
      })(),
    };
    for (const [name, body] of Object.entries(bodies)) {
      const progress: Progress[] = [];
      const result = await client.upload({ bucket, key: `bodies/${name}`, body, onProgress: (p) => progress.push(p) });
      expect(result, name).toMatchObject({ bucket, key: `bodies/${name}`, bytes: data.length });
      expect(result.etag, name).toMatch(/^"[0-9a-f]+-4"$/);
      expect(progress.at(-1)?.transferred, name).toBe(data.length);
      expect(sha256(await bytesOf(`bodies/${name}`)), name).toBe(sha256(data));
    }
    expect((await client.headObject({ bucket, key: 'bodies/file' })).contentType).toBe('application/json');
  });

  it('sends content headers, metadata, storage class and a checksum, and reports what S3 stored', async () => {
    const result = await client.upload({
      bucket,
      key: 'attributes.bin',
      body: data.subarray(0, MiB),
      contentType: 'application/x-custom',
      cacheControl: 'max-age=60',
      metadata: { Origin: 'test', 'two-words': 'a b' },
      storageClass: 'STANDARD_IA',
      checksumAlgorithm: S3ChecksumAlgorithm.CRC32C,
    });
    expect(result.checksum?.algorithm).toBe(S3ChecksumAlgorithm.CRC32C);
    const info = await client.headObject({ bucket, key: 'attributes.bin' });
    expect(info).toMatchObject({ size: MiB, contentType: 'application/x-custom', metadata: { origin: 'test', 'two-words': 'a b' } });
    expect(info.checksum).toEqual(result.checksum);
    const put = server.requests.find((request) => request.operation === 'PutObject' && request.key === 'attributes.bin');
    expect(put?.headers).toMatchObject({ 'cache-control': 'max-age=60', 'x-amz-storage-class': 'STANDARD_IA' });
  });

  it('stops on an AbortSignal and leaves no upload behind', async () => {
    const controller = new AbortController();
    const pending = client.upload({
      bucket,
      key: 'aborted',
      body: data,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(pending).rejects.toBeInstanceOf(RequestCanceledError);
    const uploads = await run(client, {
      type: S3RequestType.DEFAULT,
      operationName: 'ListMultipartUploads',
      request: httpRequest(server.host, 'GET', `/${bucket}?uploads`),
    });
    expect(uploads.body.toString()).not.toContain('<Upload>');
    await expect(client.upload({ bucket, key: 'never', body: data, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(RequestCanceledError);
  });
});

describe('download', () => {
  it('writes a file through a temporary name and reports the object', async () => {
    await client.upload({ bucket, key: 'dl/object.bin', body: data, metadata: { kind: 'x' }, checksumAlgorithm: S3ChecksumAlgorithm.CRC32 });
    const target = join(folder.path, 'object.bin');
    const result = await client.download({ bucket, key: 'dl/object.bin', to: target, validateChecksum: true });
    expect(result).toMatchObject({ bytes: data.length, metadata: { kind: 'x' }, checksumValidated: true });
    expect(sha256(await readFile(target))).toBe(sha256(data));
  });

  it('follows a slow Writable: the download waits for it instead of buffering ahead', async () => {
    const chunks: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk, _, done) => {
        chunks.push(chunk);
        setTimeout(done, 1);
      },
    });
    const result = await client.download({ bucket, key: 'dl/object.bin', to: slow, range: `bytes=${MiB}-${12 * MiB}` });
    expect(result.bytes).toBe(11 * MiB + 1);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(data.subarray(MiB, 12 * MiB + 1)));
  });

  it('downloadStream gives a Readable with backpressure, and destroying it cancels the download', async () => {
    const stream = client.downloadStream({ bucket, key: 'dl/object.bin' });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(data));

    server.resetRequests();
    const paused = client.downloadStream({ bucket, key: 'dl/object.bin', partSize: MiB, readAhead: 2 * MiB });
    await new Promise((resolve) => paused.once('readable', resolve));
    // Nobody reads: after the first parts the download must stop asking for more.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const asked = server.requests.filter((request) => request.operation === 'GetObject').length;
    expect(asked).toBeLessThanOrEqual(4);
    paused.destroy();
    await new Promise((resolve) => paused.once('close', resolve));
  });
});

describe('copy and folders', () => {
  it('copies server side, in parts above the threshold', async () => {
    server.resetRequests();
    const result = await client.copy({ source: { bucket, key: 'dl/object.bin' }, bucket, key: 'copied.bin' });
    expect(result.etag).toMatch(/-4"$/);
    expect(server.requests.filter((request) => request.operation === 'UploadPartCopy')).toHaveLength(4);
    expect(sha256(await bytesOf('copied.bin'))).toBe(sha256(data));
  });

  it('round-trips a folder with nested and unicode names, a bounded number of files at a time', async () => {
    const source = join(folder.path, 'tree');
    const names = ['a.txt', 'nested/b.bin', 'nested/deeper/c.json', 'ünïcødé/名前.txt', 'space name/x y.txt'];
    for (const [i, name] of names.entries()) {
      await mkdir(join(source, name, '..'), { recursive: true });
      await writeFile(join(source, name), makeBuffer(1000 * (i + 1)));
    }
    const files: string[] = [];
    const up = await client.uploadDirectory(source, `s3://${bucket}/tree`, { concurrency: 2, onFile: (event) => files.push(event.key) });
    expect(up).toMatchObject({ files: names.length, failed: [] });
    expect(files.sort()).toEqual(names.map((name) => `tree/${name}`).sort());
    const target = join(folder.path, 'tree-copy');
    const down = await client.downloadDirectory(`s3://${bucket}/tree/`, target, { concurrency: 3 });
    expect(down).toMatchObject({ files: names.length, failed: [], skipped: [] });
    for (const name of names) expect(await readFile(join(target, name))).toEqual(await readFile(join(source, name)));
  });

  it('never writes outside the target folder, whatever the keys', async () => {
    for (const key of ['evil/../../escaped.txt', 'evil//double', 'evil/ok.txt', 'evil/back\\slash', 'evil/dir/']) {
      await run(client, {
        type: S3RequestType.PUT_OBJECT,
        request: httpRequest(server.host, 'PUT', `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, {}, Buffer.from(key)),
      });
    }
    const target = join(folder.path, 'safe', 'inside');
    const result = await client.downloadDirectory(`s3://${bucket}/evil/`, target);
    expect(result.files).toBe(1);
    expect(result.skipped.map((skip) => skip.key).sort()).toEqual(['evil/../../escaped.txt', 'evil/back\\slash', 'evil/dir/', 'evil//double'].sort());
    expect(await readdir(join(folder.path, 'safe'))).toEqual(['inside']);
    expect(await readdir(target)).toEqual(['ok.txt']);
  });

  it('lists, and deletes many objects at once', async () => {
    const listed: string[] = [];
    for await (const entry of client.listObjects({ bucket, prefix: 'tree/', delimiter: '/' })) listed.push(entry.kind === 'prefix' ? entry.prefix : entry.key);
    expect(listed.sort()).toEqual(['tree/a.txt', 'tree/nested/', 'tree/space name/', 'tree/ünïcødé/'].sort());
    const keys: string[] = [];
    for await (const entry of client.listObjects({ bucket, prefix: 'tree/' })) if (entry.kind === 'object') keys.push(entry.key);
    const deleted = await client.deleteObjects({ bucket, keys });
    expect(deleted.deleted.sort()).toEqual(keys.sort());
    let left = 0;
    for await (const _ of client.listObjects({ bucket, prefix: 'tree/' })) left++;
    expect(left).toBe(0);
    expect((await client.listBuckets()).map((b) => b.name)).toContain(bucket);
  });
});

describe('configuration from the environment', () => {
  it('finds the endpoint, region and credentials as the AWS SDKs do', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, awsEnvironment(server.endpoint, folder.path));
    try {
      const fromEnv = S3Client.fromEnvironment();
      try {
        expect(fromEnv.endpointConfig.endpoint.origin).toBe(server.endpoint);
        await fromEnv.upload({ bucket, key: 'env.txt', body: Buffer.from('hello') });
        expect((await fromEnv.headObject({ bucket, key: 'env.txt' })).size).toBe(5);
      } finally {
        await fromEnv.close();
      }
    } finally {
      process.env = saved;
    }
  });
});

describe('resumable transfers through the API', () => {
  it('a failed upload kept for later resumes from its token; a part whose bytes changed is sent again', async () => {
    const file = join(folder.path, 'resumable.bin');
    const content = makeBuffer(16 * MiB);
    await writeFile(file, content);
    server.faults.add({ operation: 'UploadPart', partNumber: 3, times: Infinity, action: { type: 'error', status: 403, code: 'AccessDenied' } });
    let token: S3ResumeToken | undefined;
    // One connection sends the parts in turn, so parts 1 and 2 are surely held when part 3 fails.
    const oneAtATime = newClient(1);
    try {
      await expect(
        oneAtATime.upload({
          bucket,
          key: 'resumable.bin',
          body: file,
          checksumAlgorithm: S3ChecksumAlgorithm.CRC32C,
          abortOnFailure: false,
          onResumeToken: (t) => (token = t),
        }),
      ).rejects.toMatchObject({ s3Code: 'AccessDenied' });
    } finally {
      await oneAtATime.close();
    }
    server.faults.clear();
    expect(token).toMatchObject({ partSize: 5 * MiB, totalSize: 16 * MiB });
    // The upload is still there, and part 1 now differs from what S3 holds.
    content.fill(7, 0, 10);
    await writeFile(file, content);
    server.resetRequests();
    const result = await client.upload({ bucket, key: 'resumable.bin', body: file, checksumAlgorithm: S3ChecksumAlgorithm.CRC32C, resumeToken: token! });
    const sent = server.requests.filter((request) => request.operation === 'UploadPart').map((request) => request.partNumber);
    // Part 4 is sent again unless it was held before the failure stopped the first upload.
    expect(sent.filter((part) => part !== 4).sort()).toEqual([1, 3]);
    expect(server.requests.filter((request) => request.operation === 'CreateMultipartUpload')).toEqual([]);
    expect(sha256(await bytesOf('resumable.bin'))).toBe(sha256(content));
    expect(result.checksum?.algorithm).toBe(S3ChecksumAlgorithm.CRC32C);
    await expect(client.upload({ bucket, key: 'x', body: Readable.from([content]), resumeToken: token! })).rejects.toThrow(/not a stream/);
  });
});
