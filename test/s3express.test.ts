/**
 * S3 Express One Zone against the local server's emulation: V4_S3EXPRESS signing with sessions
 * from CreateSession, for every transfer kind, byte-exact; sessions renewed before they end, one
 * CreateSession for many concurrent requests, one per identity, failures retried or passed to every
 * waiting request; ReadOnly sessions; the high-level API choosing sessions for a `--x-s3` bucket.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client as SdkS3Client } from '@aws-sdk/client-s3';
import { S3ExpressSessions, type SessionRequest } from '../src/auth/s3express-sessions.js';
import { parseCreateSession } from '../src/client/create-session.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { runCli } from './helpers/cli.js';
import { awsEnvironment, run } from './helpers/client.js';
import { raw } from './helpers/raw.js';
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

describe('the local server as S3 Express', () => {
  /** A session of BUCKET, asked for with IAM credentials as a raw request. */
  async function session(target = server, headers: Record<string, string> = {}) {
    const answer = await raw(target.host, 'GET', `/${BUCKET}?session`, { service: 's3express', headers });
    expect(answer.status).toBe(200);
    return parseCreateSession(answer.body.toString());
  }
  const withSession = (credentials: { accessKeyId: string; secretAccessKey: string }, token: string) => ({
    service: 's3express',
    accessKeyId: credentials.accessKeyId,
    secret: credentials.secretAccessKey,
    headers: { 'x-amz-s3session-token': token },
  });

  it('answers CreateSession as S3 does, and refuses a token on it, an unknown token and an expired one', async () => {
    const live = await session();
    expect(live.accessKeyId).toMatch(/^ASIAS3X/);
    expect(live.expiration.getTime() - Date.now()).toBeGreaterThan(290_000);
    const tokenOnCreate = await raw(server.host, 'GET', `/${BUCKET}?session`, {
      service: 's3express',
      headers: { 'x-amz-s3session-token': live.sessionToken },
    });
    expect([tokenOnCreate.status, tokenOnCreate.code]).toEqual([400, 'InvalidRequest']);
    expect((await raw(server.host, 'GET', `/nowhere--usw2-az1--x-s3?session`, { service: 's3express' })).code).toBe('NoSuchBucket');
    const unknown = await raw(server.host, 'GET', `/${BUCKET}/small`, withSession(live, `${live.sessionToken.slice(0, -4)}AAAA`));
    expect([unknown.status, unknown.code]).toEqual([400, 'InvalidToken']);
    const good = await raw(server.host, 'GET', `/${BUCKET}/small`, withSession(live, live.sessionToken));
    expect(good.status).toBe(200);
    // A session's key is good for its directory bucket only, and only for s3express.
    expect((await raw(server.host, 'GET', `/${BUCKET}/small`, { ...withSession(live, live.sessionToken), service: 's3' })).code).toBe(
      'AuthorizationHeaderMalformed',
    );

    const brief = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, s3express: { sessionSeconds: 1 } });
    try {
      await raw(brief.host, 'PUT', `/${BUCKET}`, { service: 's3express' });
      const soon = await session(brief);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const expired = await raw(brief.host, 'GET', `/${BUCKET}/any`, withSession(soon, soon.sessionToken));
      expect([expired.status, expired.code]).toEqual([400, 'ExpiredToken']);
    } finally {
      await brief.close();
    }
  });

  it('gives directory buckets random ETags and takes only consecutive part numbers', async () => {
    const c = expressClient();
    const same = Buffer.from('same bytes');
    try {
      const etags: string[] = [];
      for (let i = 0; i < 2; i++) {
        const put = await run(c, { type: S3RequestType.PUT_OBJECT, request: request('PUT', `/${BUCKET}/same`, {}, same) });
        etags.push(put.headers[0]!.headers.find(([name]) => name.toLowerCase() === 'etag')![1]);
      }
      expect(etags[0]).not.toBe(etags[1]);
      expect(etags).not.toContain(`"${createHash('md5').update(same).digest('hex')}"`);

      const created = await run(c, {
        type: S3RequestType.DEFAULT,
        operationName: 'CreateMultipartUpload',
        request: request('POST', `/${BUCKET}/gappy?uploads`),
      });
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())![1]!;
      const parts: string[] = [];
      for (const partNumber of [1, 3]) {
        const part = await run(c, {
          type: S3RequestType.DEFAULT,
          operationName: 'UploadPart',
          request: request('PUT', `/${BUCKET}/gappy?partNumber=${partNumber}&uploadId=${encodeURIComponent(uploadId)}`, {}, makeBuffer(5 * MiB)),
        });
        parts.push(
          `<Part><PartNumber>${partNumber}</PartNumber><ETag>${part.headers[0]!.headers.find(([name]) => name.toLowerCase() === 'etag')![1]}</ETag></Part>`,
        );
      }
      const completed = await run(c, {
        type: S3RequestType.DEFAULT,
        operationName: 'CompleteMultipartUpload',
        request: request(
          'POST',
          `/${BUCKET}/gappy?uploadId=${encodeURIComponent(uploadId)}`,
          {},
          `<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`,
        ),
      });
      expect(completed.error).toMatchObject({ s3Code: 'InvalidPartOrder' });
    } finally {
      await c.close();
    }
  });

  it('serves the AWS SDK, which drives CreateSession itself, for a --x-s3 bucket at an IP endpoint', async () => {
    server.resetRequests();
    const sdk = new SdkS3Client({
      region: 'us-east-1',
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    });
    try {
      await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/object', Body: 'written by the SDK' }));
      const got = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/object' }));
      expect(await got.Body!.transformToString()).toBe('written by the SDK');
      const listed = await sdk.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'sdk/' }));
      expect(listed.Contents?.map((entry) => entry.Key)).toEqual(['sdk/object']);
    } finally {
      sdk.destroy();
    }
    expect(server.requests.map((record) => [record.operation, record.status, record.signer?.session])).toEqual([
      ['CreateSession', 200, false],
      ['PutObject', 200, true],
      ['GetObject', 200, true],
      ['ListObjectsV2', 200, true],
    ]);
    // And what the SDK wrote, s3tx reads with its own session.
    const c = expressClient();
    try {
      expect((await run(c, { type: S3RequestType.GET_OBJECT, request: request('GET', `/${BUCKET}/sdk/object`) })).body.toString()).toBe('written by the SDK');
    } finally {
      await c.close();
    }
  });

  it('the s3tx command uses sessions for a --x-s3 bucket by itself', async () => {
    const file = join(folder.path, 'cli.txt');
    await writeFile(file, 'from the command line\n');
    const env = { PATH: process.env.PATH, HOME: folder.path, XDG_CACHE_HOME: join(folder.path, 'cache'), ...awsEnvironment(server.endpoint, folder.path) };
    server.resetRequests();
    expect(await runCli(['cp', file, `s3://${BUCKET}/cli/file.txt`, '--quiet'], env, folder.path)).toMatchObject({ code: 0, stderr: '' });
    const listed = await runCli(['ls', `s3://${BUCKET}/cli/`], env, folder.path);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('file.txt');
    const back = await runCli(['cp', `s3://${BUCKET}/cli/file.txt`, '-'], env, folder.path);
    expect(back.stdout).toBe('from the command line\n');
    expect(server.requests.filter((record) => record.operation !== 'CreateSession').every((record) => record.signer?.session === true)).toBe(true);
  });
});

describe('the session cache', () => {
  const base = { accessKeyId: 'AKIDBASE', secretAccessKey: 'base-secret' };
  const host = 'fast--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com';

  function fakeSessions(now: { ms: number }, lifetimeMs = 300_000) {
    const made: SessionRequest[] = [];
    const sessions = new S3ExpressSessions(
      async (request) => {
        made.push(request);
        return { accessKeyId: `S${made.length}`, secretAccessKey: 'x', sessionToken: `t${made.length}`, expiration: new Date(now.ms + lifetimeMs) };
      },
      { now: () => now.ms, refreshIntervalMs: 60_000 },
    );
    return { sessions, made };
  }

  it('keys sessions by bucket, identity and the session headers; virtual-hosted asks /?session, path style /bucket?session', async () => {
    const now = { ms: 1_000_000 };
    const { sessions, made } = fakeSessions(now);
    await sessions.credentialsFor(base, host, '/key', 'us-west-2', {});
    await sessions.credentialsFor(base, host, '/other', 'us-west-2', { 'content-type': 'x' });
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ host, path: '/?session', region: 'us-west-2', headers: {} });
    await sessions.credentialsFor(base, host, '/key', 'us-west-2', { 'x-amz-create-session-mode': 'ReadOnly' });
    await sessions.credentialsFor({ ...base, secretAccessKey: 'another' }, host, '/key', 'us-west-2', {});
    await sessions.credentialsFor(base, '127.0.0.1:9000', '/fast--usw2-az1--x-s3/key', 'us-west-2', {});
    expect(made.map((request) => [request.path, request.headers])).toEqual([
      ['/?session', {}],
      ['/?session', { 'x-amz-create-session-mode': 'ReadOnly' }],
      ['/?session', {}],
      ['/fast--usw2-az1--x-s3?session', {}],
    ]);
    sessions.close();
  });

  it('uses a session while more than 5 s of it remain', async () => {
    const now = { ms: 1_000_000 };
    const { sessions, made } = fakeSessions(now, 100_000);
    const first = await sessions.credentialsFor(base, host, '/k', 'r', {});
    now.ms += 94_000;
    expect(await sessions.credentialsFor(base, host, '/k', 'r', {})).toBe(first);
    now.ms += 2_000;
    // 4 s left: a new one.
    expect(await sessions.credentialsFor(base, host, '/k', 'r', {})).not.toBe(first);
    expect(made).toHaveLength(2);
    sessions.close();
  });

  it('the refresh pass renews a used session within 60 s of its end, drops an unused one, and stops with close()', async () => {
    const now = { ms: 1_000_000 };
    const made: number[] = [];
    const sessions = new S3ExpressSessions(
      async () => {
        made.push(now.ms);
        return { accessKeyId: 'S', secretAccessKey: 'x', sessionToken: `t${made.length}`, expiration: new Date(now.ms + 100_000) };
      },
      { now: () => now.ms, refreshIntervalMs: 20 },
    );
    const pass = () => new Promise((resolve) => setTimeout(resolve, 60));
    await sessions.credentialsFor(base, host, '/k', 'r', {});
    now.ms += 50_000; // 50 s left, and used since the last pass: renewed
    await pass();
    expect(made).toHaveLength(2);
    const renewed = await sessions.credentialsFor(base, host, '/k', 'r', {});
    expect(renewed.sessionToken).toBe('t2');
    await pass(); // the pass clears "used"
    now.ms += 45_000; // 55 s left of the renewed one, unused since: dropped, not renewed
    await pass();
    expect(made).toHaveLength(2);
    expect((await sessions.credentialsFor(base, host, '/k', 'r', {})).sessionToken).toBe('t3');
    sessions.close();
    now.ms += 50_000;
    await pass();
    expect(made).toHaveLength(3);
  });

  it('its timer keeps no process alive', () => {
    const script = `
      import { S3ExpressSessions } from ${JSON.stringify(new URL('../dist/auth/s3express-sessions.js', import.meta.url).href)};
      const sessions = new S3ExpressSessions(async () => ({ accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 't', expiration: new Date(Date.now() + 300000) }));
      await sessions.credentialsFor({ accessKeyId: 'k', secretAccessKey: 's' }, 'b--usw2-az1--x-s3.host', '/k', 'r', {});
      console.log('cached');
    `;
    const started = Date.now();
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script]).toString()).toBe('cached\n');
    // The 60 s refresh timer is unref'd: the process ends at once.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('directory bucket rules', () => {
  it('refuse Content-MD5, SSE-C, versions and delimiters but /; DeleteObjects sends a CRC32 there instead of Content-MD5', async () => {
    const c = expressClient();
    try {
      const refusals: Array<[Record<string, string>, string, string]> = [
        [{ 'content-md5': '1B2M2Y8AsgTpgAmY7PhCfg==' }, 'PUT', 'InvalidRequest'],
        [{ 'x-amz-server-side-encryption-customer-algorithm': 'AES256' }, 'PUT', 'InvalidArgument'],
      ];
      for (const [headers, method, code] of refusals) {
        const answer = await run(c, {
          type: S3RequestType.DEFAULT,
          operationName: 'PutObject',
          request: request(method, `/${BUCKET}/rules`, headers, Buffer.alloc(0)),
        });
        expect(answer.error, JSON.stringify(headers)).toMatchObject({ s3Code: code });
      }
      const versioned = await run(c, { type: S3RequestType.DEFAULT, operationName: 'GetObject', request: request('GET', `/${BUCKET}/small?versionId=abc`) });
      expect(versioned.error).toMatchObject({ s3Code: 'InvalidArgument' });
      const listed = await run(c, {
        type: S3RequestType.DEFAULT,
        operationName: 'ListObjectsV2',
        request: request('GET', `/${BUCKET}?list-type=2&delimiter=-`),
      });
      expect(listed.error).toMatchObject({ s3Code: 'InvalidArgument' });
    } finally {
      await c.close();
    }
    const high = new S3Client({
      region: 'us-east-1',
      tlsMode: S3RequestTlsMode.DISABLED,
      endpoint: server.endpoint,
      signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS_KEY, SECRET_KEY) }),
    });
    try {
      await high.upload({ bucket: BUCKET, key: 'doomed/a', body: Buffer.from('a') });
      server.resetRequests();
      const result = await high.deleteObjects({ bucket: BUCKET, keys: ['doomed/a'] });
      expect(result.deleted).toEqual(['doomed/a']);
    } finally {
      await high.close();
    }
    const deletion = server.requests.find((record) => record.operation === 'DeleteObjects')!;
    expect(deletion.headers['content-md5']).toBeUndefined();
    expect(deletion.headers['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
  });
});
