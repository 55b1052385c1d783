/**
 * S3 Express One Zone against the local server's emulation: V4_S3EXPRESS signing with sessions
 * from CreateSession, for every transfer kind, byte-exact; sessions renewed before they end, one
 * CreateSession for many concurrent requests, one per identity, failures retried or passed to every
 * waiting request; ReadOnly sessions; the high-level API choosing sessions for a `--x-s3` bucket.
 */
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AwsCredentialsProvider,
  AwsSigningAlgorithm,
  HttpRequest,
  InvalidArgumentError,
  S3Client,
  S3RequestTlsMode,
  S3RequestType,
  createDefaultS3SigningConfig,
  type S3ClientOptions,
} from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { run } from './helpers/client.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, tempFolder } from './helpers/servers.js';

const BUCKET = 'fast--usw2-az1--x-s3';
const OTHER = { accessKeyId: 'OTHERIDENTITY', secretAccessKey: 'other-secret' };
let server: LocalS3;
let folder: { path: string; remove: () => Promise<void> };

function expressConfig(credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }) {
  return {
    ...createDefaultS3SigningConfig({
      region: 'us-east-1',
      credentialProvider: AwsCredentialsProvider.newStatic(credentials.accessKeyId, credentials.secretAccessKey),
    }),
    algorithm: AwsSigningAlgorithm.V4_S3EXPRESS,
  };
}

function expressClient(options: Partial<S3ClientOptions> = {}): S3Client {
  return new S3Client({
    region: 'us-east-1',
    tlsMode: S3RequestTlsMode.DISABLED,
    enableS3Express: true,
    signingConfig: expressConfig(),
    partSize: 5 * MiB,
    endpoint: server.endpoint,
    ...options,
  });
}

const request = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
  new HttpRequest({ method, path, headers: { host: server.host, ...headers }, body });

/** What the server saw of the data requests (all but CreateSession) since the last reset. */
function dataRequests() {
  return server.requests.filter((record) => record.operation !== 'CreateSession');
}
const sessionsCreated = () => server.requests.filter((record) => record.operation === 'CreateSession').length;

beforeAll(async () => {
  folder = await tempFolder();
  server = await startLocalS3({ credentials: [{ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, OTHER], s3express: { sessionSeconds: 300 } });
  const iam = new S3Client({
    region: 'us-east-1',
    tlsMode: S3RequestTlsMode.DISABLED,
    signingConfig: { ...expressConfig(), algorithm: AwsSigningAlgorithm.V4, service: 's3express' },
  });
  try {
    await run(iam, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: request('PUT', `/${BUCKET}`) });
  } finally {
    await iam.close();
  }
});

afterAll(async () => {
  await server?.close();
  await folder?.remove();
});

describe('S3 Express sessions (V4_S3EXPRESS)', () => {
  it('PUT (single, multipart; Buffer, file, stream) and GET (file, onBody, ranged) are byte-exact, signed with one session', async () => {
    server.resetRequests();
    const c = expressClient();
    const data = makeBuffer(17 * MiB);
    const file = join(folder.path, 'source.bin');
    await writeFile(file, data);
    try {
      const put = (key: string, extra: Record<string, unknown>) =>
        c.makeRequest({ type: S3RequestType.PUT_OBJECT, request: request('PUT', `/${BUCKET}/${key}`, { 'content-length': String(data.length) }), ...extra })
          .finishedFuture;
      await put('small', { request: request('PUT', `/${BUCKET}/small`, {}, data.subarray(0, 1000)) });
      await put('buffer', { request: request('PUT', `/${BUCKET}/buffer`, {}, data) });
      await put('file', { sendFilepath: file });
      await put('stream', {
        request: request(
          'PUT',
          `/${BUCKET}/stream`,
          { 'content-length': String(data.length) },
          Readable.from([data.subarray(0, 9 * MiB), data.subarray(9 * MiB)]),
        ),
      });
      for (const key of ['buffer', 'file', 'stream']) {
        const target = join(folder.path, `${key}.out`);
        await c.makeRequest({ type: S3RequestType.GET_OBJECT, request: request('GET', `/${BUCKET}/${key}`), recvFilepath: target }).finishedFuture;
        expect((await readFile(target)).equals(data), key).toBe(true);
      }
      const got = await run(c, { type: S3RequestType.GET_OBJECT, request: request('GET', `/${BUCKET}/small`) });
      expect(got.body.equals(data.subarray(0, 1000))).toBe(true);
      const ranged = await run(c, { type: S3RequestType.GET_OBJECT, request: request('GET', `/${BUCKET}/file`, { range: 'bytes=6291456-11534335' }) });
      expect(ranged.body.equals(data.subarray(6291456, 11534336))).toBe(true);
    } finally {
      await c.close();
    }
    expect(sessionsCreated()).toBe(1);
    const data_ = dataRequests();
    expect(data_.length).toBeGreaterThan(15);
    for (const record of data_) {
      // The server took its session token (a wrong, missing or expired one is refused), and no security token rode along.
      expect(record.status, `${record.method} ${record.path}`).toBeLessThan(300);
      expect(record.signer).toMatchObject({ service: 's3express', session: true });
      expect(record.signer!.accessKeyId).toMatch(/^ASIAS3X/);
    }
    const create = server.requests.find((record) => record.operation === 'CreateSession')!;
    expect(create.signer).toEqual({ accessKeyId: ACCESS_KEY, service: 's3express', session: false });
  });

  it('50 concurrent requests on a cold cache make one CreateSession; two identities get two sessions', async () => {
    const writer = expressClient();
    await writer.makeRequest({ type: S3RequestType.PUT_OBJECT, request: request('PUT', `/${BUCKET}/small`, {}, makeBuffer(1000)) }).finishedFuture;
    await writer.close();
    server.resetRequests();
    const c = expressClient();
    try {
      await Promise.all(Array.from({ length: 50 }, () => run(c, { type: S3RequestType.GET_OBJECT, request: request('GET', `/${BUCKET}/small`) })));
      expect(sessionsCreated()).toBe(1);
      await run(c, { type: S3RequestType.GET_OBJECT, request: request('GET', `/${BUCKET}/small`), signingConfig: expressConfig(OTHER) });
      expect(sessionsCreated()).toBe(2);
    } finally {
      await c.close();
    }
    expect(dataRequests().filter((record) => record.status >= 300)).toEqual([]);
  });

  it('a CreateSession answered 503 twice is retried and then serves; one refused 403 fails every waiting request with the typed error', async () => {
    server.resetRequests();
    server.faults.add({ operation: 'CreateSession', times: 2, action: { type: 'error', status: 503, code: 'SlowDown' } });
    const c = expressClient();
    try {
      await run(c, { type: S3RequestType.GET_OBJECT, request: request('GET', `/${BUCKET}/small`) });
      expect(sessionsCreated()).toBe(3);
      server.resetRequests();
      server.faults.add({ operation: 'CreateSession', times: 1, action: { type: 'error', status: 403, code: 'AccessDenied' } });
      const waiting = await Promise.all(
        Array.from({ length: 5 }, () =>
          c
            .makeRequest({ type: S3RequestType.GET_OBJECT, request: request('GET', `/${BUCKET}/small`), signingConfig: expressConfig(OTHER) })
            .finishedFuture.then(
              () => null,
              (error: unknown) => error,
            ),
        ),
      );
      for (const error of waiting) expect(error).toMatchObject({ code: 'AWS_ERROR_S3EXPRESS_CREATE_SESSION_FAILED', statusCode: 403, s3Code: 'AccessDenied' });
      expect(sessionsCreated()).toBe(1);
      expect(dataRequests()).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('renews sessions before they end: a transfer longer than a session never sends an expired token', async () => {
    const short = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, s3express: { sessionSeconds: 6 } });
    try {
      const iam = new S3Client({
        region: 'us-east-1',
        tlsMode: S3RequestTlsMode.DISABLED,
        signingConfig: { ...expressConfig(), algorithm: AwsSigningAlgorithm.V4, service: 's3express' },
      });
      await run(iam, {
        type: S3RequestType.DEFAULT,
        operationName: 'CreateBucket',
        request: new HttpRequest({ method: 'PUT', path: `/${BUCKET}`, headers: { host: short.host } }),
      });
      await iam.close();
      // A stream that gives a 5 MiB part every 250 ms: 12 parts in about 3 s, past the 1 s a 6 s session is used for (5 s margin).
      const c = expressClient({ endpoint: short.endpoint });
      try {
        const data = makeBuffer(60 * MiB);
        async function* slowly() {
          for (let offset = 0; offset < data.length; offset += 5 * MiB) {
            await new Promise((resolve) => setTimeout(resolve, 250));
            yield data.subarray(offset, offset + 5 * MiB);
          }
        }
        const headers = { host: short.host, 'content-length': String(data.length) };
        await c.makeRequest({
          type: S3RequestType.PUT_OBJECT,
          request: new HttpRequest({ method: 'PUT', path: `/${BUCKET}/long`, headers, body: Readable.from(slowly()) }),
        }).finishedFuture;
        const back = await run(c, {
          type: S3RequestType.GET_OBJECT,
          request: new HttpRequest({ method: 'GET', path: `/${BUCKET}/long`, headers: { host: short.host } }),
        });
        expect(back.body.equals(data)).toBe(true);
      } finally {
        await c.close();
      }
      const created = short.requests.filter((record) => record.operation === 'CreateSession').length;
      expect(created).toBeGreaterThanOrEqual(2);
      expect(short.requests.every((record) => record.status !== undefined && record.status < 300)).toBe(true);
    } finally {
      await short.close();
    }
  });

  it('a ReadOnly session refuses writes; an IAM-signed data request is refused', async () => {
    const c = expressClient();
    try {
      const ro = await c
        .makeRequest({
          type: S3RequestType.PUT_OBJECT,
          request: request('PUT', `/${BUCKET}/ro`, { 'x-amz-create-session-mode': 'ReadOnly' }, Buffer.from('no')),
        })
        .finishedFuture.catch((error: unknown) => error);
      expect(ro).toMatchObject({ s3Code: 'AccessDenied', statusCode: 403 });
      const readable = await run(c, {
        type: S3RequestType.GET_OBJECT,
        request: request('GET', `/${BUCKET}/small`, { 'x-amz-create-session-mode': 'ReadOnly' }),
      });
      expect(readable.body.length).toBe(1000);
    } finally {
      await c.close();
    }
    const iam = new S3Client({
      region: 'us-east-1',
      tlsMode: S3RequestTlsMode.DISABLED,
      signingConfig: { ...expressConfig(), algorithm: AwsSigningAlgorithm.V4, service: 's3express' },
    });
    try {
      const refused = await run(iam, { type: S3RequestType.GET_OBJECT, request: request('GET', `/${BUCKET}/small`) });
      expect(refused.error).toMatchObject({ s3Code: 'AccessDenied', statusCode: 403 });
    } finally {
      await iam.close();
    }
  });

  it('V4_S3EXPRESS without enableS3Express is an InvalidArgumentError before any byte is sent', async () => {
    server.resetRequests();
    expect(() => new S3Client({ region: 'us-east-1', signingConfig: expressConfig() })).toThrow(InvalidArgumentError);
    const plain = new S3Client({
      region: 'us-east-1',
      tlsMode: S3RequestTlsMode.DISABLED,
      signingConfig: { ...expressConfig(), algorithm: AwsSigningAlgorithm.V4 },
    });
    try {
      expect(() => plain.makeRequest({ type: S3RequestType.GET_OBJECT, request: request('GET', `/${BUCKET}/small`), signingConfig: expressConfig() })).toThrow(
        /enableS3Express/,
      );
    } finally {
      await plain.close();
    }
    expect(server.requests).toEqual([]);
  });

  it('the high-level API uses sessions for a --x-s3 bucket by itself, and CopyObject goes with IAM credentials', async () => {
    server.resetRequests();
    const c = new S3Client({
      region: 'us-east-1',
      tlsMode: S3RequestTlsMode.DISABLED,
      endpoint: server.endpoint,
      signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS_KEY, SECRET_KEY) }),
    });
    try {
      const data = makeBuffer(12 * MiB);
      await c.upload({ bucket: BUCKET, key: 'high/level', body: data, partSize: 5 * MiB });
      expect((await c.headObject({ bucket: BUCKET, key: 'high/level' })).size).toBe(data.length);
      const chunks: Buffer[] = [];
      for await (const chunk of c.downloadStream({ bucket: BUCKET, key: 'high/level' })) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
      await c.copy({ source: { bucket: BUCKET, key: 'high/level' }, bucket: BUCKET, key: 'high/copy' });
      expect((await c.headObject({ bucket: BUCKET, key: 'high/copy' })).size).toBe(data.length);
    } finally {
      await c.close();
    }
    const copies = server.requests.filter((record) => record.operation === 'CopyObject' || record.operation === 'UploadPartCopy');
    expect(copies.length).toBeGreaterThan(0);
    for (const record of copies) expect(record.signer).toEqual({ accessKeyId: ACCESS_KEY, service: 's3express', session: false });
    expect(server.requests.every((record) => record.status! < 300)).toBe(true);
    expect(sessionsCreated()).toBe(1);
  });
});
