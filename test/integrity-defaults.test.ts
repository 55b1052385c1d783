/**
 * Integrity by default, as the AWS SDKs and AWS CLI v2 have it since 2025: the high-level uploads
 * and the command send a CRC32 unless told otherwise, in a header over plain http (which servers
 * that cannot decode aws-chunked bodies take) and in a trailer over https; makeRequest sends what
 * checksumConfig says and nothing more.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  S3ChecksumAlgorithm,
  S3ChecksumLocation,
  S3Client,
  S3RequestTlsMode,
  S3RequestType,
  type S3ClientOptions,
} from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { runCli } from './helpers/cli.js';
import { awsEnvironment, createBucket, httpRequest, newClient, run } from './helpers/client.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, startTestServer, tempFolder, type TestServer } from './helpers/servers.js';

const cert = readFileSync(new URL('./fixtures/tls/server.crt', import.meta.url));
const key = readFileSync(new URL('./fixtures/tls/server.key', import.meta.url));
const bucket = 'integrity';
let plain: LocalS3;
let secure: LocalS3;
let folder: { path: string; remove: () => Promise<void> };

function client(server: LocalS3, options: Partial<S3ClientOptions> = {}): S3Client {
  const tls = server.endpoint.startsWith('https:');
  return newClient({
    endpoint: server.endpoint,
    partSize: 5 * MiB,
    ...(tls ? { tlsMode: S3RequestTlsMode.ENABLED, tlsConnectionOptions: { ca: cert } } : {}),
    ...options,
  });
}

/** How the uploads since the last reset carried their checksums. */
function carried(server: LocalS3) {
  return server.requests
    .filter((record) => record.operation === 'PutObject' || record.operation === 'UploadPart')
    .map((record) => ({
      header: record.headers['x-amz-checksum-crc32'] !== undefined,
      trailer: record.headers['x-amz-trailer'] ?? null,
      chunked: record.headers['content-encoding'] === 'aws-chunked',
    }));
}

beforeAll(async () => {
  folder = await tempFolder();
  const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
  plain = await startLocalS3({ credentials });
  secure = await startLocalS3({ credentials, tls: { cert, key } });
  await createBucket(plain, bucket);
  await createBucket(secure, bucket, { tlsMode: S3RequestTlsMode.ENABLED, tlsConnectionOptions: { ca: cert } });
});

afterAll(async () => {
  await plain?.close();
  await secure?.close();
  await folder?.remove();
});

describe('uploads send a CRC32 by default', () => {
  it('over plain http in a header, for a single PUT, a multipart one and a file; S3 keeps it as a full-object CRC32', async () => {
    const c = client(plain);
    const file = join(folder.path, 'file.bin');
    await writeFile(file, makeBuffer(7 * MiB));
    plain.resetRequests();
    try {
      const small = await c.upload({ bucket, key: 'small', body: Buffer.from('checked by default') });
      await c.upload({ bucket, key: 'multipart', body: makeBuffer(12 * MiB) });
      await c.upload({ bucket, key: 'file', body: file });
      expect(small.checksum?.algorithm).toBe(S3ChecksumAlgorithm.CRC32);
      for (const name of ['small', 'multipart', 'file'])
        expect((await c.headObject({ bucket, key: name })).checksum?.algorithm, name).toBe(S3ChecksumAlgorithm.CRC32);
    } finally {
      await c.close();
    }
    const how = carried(plain);
    expect(how.length).toBe(1 + 3 + 2);
    expect(how.every((each) => each.header && !each.chunked && each.trailer === null)).toBe(true);
  });

  it('over https in an aws-chunked trailer', async () => {
    const c = client(secure);
    secure.resetRequests();
    try {
      await c.upload({ bucket, key: 'tls', body: makeBuffer(12 * MiB) });
      expect((await c.headObject({ bucket, key: 'tls' })).checksum?.algorithm).toBe(S3ChecksumAlgorithm.CRC32);
    } finally {
      await c.close();
    }
    const how = carried(secure);
    expect(how.length).toBe(3);
    expect(how.every((each) => !each.header && each.chunked && each.trailer === 'x-amz-checksum-crc32')).toBe(true);
  });

  it('checksumAlgorithm: null and requestChecksumCalculation WHEN_REQUIRED send none; checksumLocation chooses the place', async () => {
    plain.resetRequests();
    for (const [options, uploadOptions] of [
      [{}, { checksumAlgorithm: null }],
      [{ requestChecksumCalculation: 'WHEN_REQUIRED' as const }, {}],
    ] as const) {
      const c = client(plain, options);
      try {
        await c.upload({ bucket, key: 'none', body: Buffer.from('no checksum'), ...uploadOptions });
        expect((await c.headObject({ bucket, key: 'none' })).checksum).toBeNull();
      } finally {
        await c.close();
      }
    }
    expect(carried(plain)).toEqual([
      { header: false, trailer: null, chunked: false },
      { header: false, trailer: null, chunked: false },
    ]);
    plain.resetRequests();
    const c = client(plain);
    try {
      await c.upload({ bucket, key: 'trailed', body: Buffer.from('in a trailer'), checksumLocation: S3ChecksumLocation.TRAILER });
    } finally {
      await c.close();
    }
    expect(carried(plain)).toEqual([{ header: false, trailer: 'x-amz-checksum-crc32', chunked: true }]);
    expect(() => client(plain, { requestChecksumCalculation: 'SOMETIMES' as 'WHEN_REQUIRED' })).toThrow(InvalidArgumentError);
  });

  it('makeRequest sends none unless checksumConfig asks, as the reference does', async () => {
    plain.resetRequests();
    const c = client(plain);
    try {
      await run(c, { type: S3RequestType.PUT_OBJECT, request: httpRequest(plain.host, 'PUT', `/${bucket}/raw`, {}, Buffer.from('raw')) });
    } finally {
      await c.close();
    }
    expect(carried(plain)).toEqual([{ header: false, trailer: null, chunked: false }]);
  });

  it('reads AWS_REQUEST_CHECKSUM_CALCULATION, then the profile, in fromEnvironment and the command; --checksum none and --checksum-location', async () => {
    const config = join(folder.path, 'config');
    await writeFile(config, '[default]\nrequest_checksum_calculation = when_required\n');
    const file = join(folder.path, 'cli.txt');
    await writeFile(file, 'from the command\n');
    const env = { PATH: process.env.PATH, HOME: folder.path, XDG_CACHE_HOME: join(folder.path, 'cache'), ...awsEnvironment(plain.endpoint, folder.path) };
    const cases: Array<[string[], Record<string, string>, boolean]> = [
      [[], {}, true],
      [['--checksum', 'none'], {}, false],
      [[], { AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required' }, false],
      [[], { AWS_CONFIG_FILE: config }, false],
      [['--checksum', 'crc32'], { AWS_CONFIG_FILE: config }, true],
      [[], { AWS_CONFIG_FILE: config, AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_SUPPORTED' }, true],
    ];
    for (const [args, extra, expected] of cases) {
      plain.resetRequests();
      const ran = await runCli(['cp', file, `s3://${bucket}/cli.txt`, '--quiet', ...args], { ...env, ...extra }, folder.path);
      expect(ran, JSON.stringify([args, extra])).toMatchObject({ code: 0, stderr: '' });
      expect(
        carried(plain).map((each) => each.header),
        JSON.stringify([args, extra]),
      ).toEqual([expected]);
    }
    plain.resetRequests();
    expect((await runCli(['cp', file, `s3://${bucket}/cli.txt`, '--quiet', '--checksum-location', 'trailer'], env, folder.path)).code).toBe(0);
    expect(carried(plain)).toEqual([{ header: false, trailer: 'x-amz-checksum-crc32', chunked: true }]);
    const bad = await runCli(['cp', file, `s3://${bucket}/cli.txt`], { ...env, AWS_REQUEST_CHECKSUM_CALCULATION: 'sometimes' }, folder.path);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('AWS_REQUEST_CHECKSUM_CALCULATION');
  });
});

describe('s3rver, which stores aws-chunked framing as the bytes', () => {
  let s3rver: TestServer;

  beforeAll(async () => {
    s3rver = await startTestServer();
    await createBucket({ endpoint: `http://${s3rver.host}`, host: s3rver.host }, bucket);
  });

  afterAll(async () => {
    await s3rver?.close();
  });

  it('gets byte-exact objects from the default upload over http, the checksum in a header', async () => {
    const c = newClient({ endpoint: `http://${s3rver.host}` });
    const data = makeBuffer(100_000);
    try {
      await c.upload({ bucket, key: 'defaults', body: data });
      const chunks: Buffer[] = [];
      for await (const chunk of c.downloadStream({ bucket, key: 'defaults' })) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
    } finally {
      await c.close();
    }
  });
});
