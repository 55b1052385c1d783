/**
 * Proxies, through a real one (tinyproxy, started here): an http endpoint with absolute-form
 * requests, an https endpoint through a CONNECT tunnel with TLS verified inside it, credentials
 * from the URL, refusals (407, 403) as typed errors that are not retried, NO_PROXY and
 * `proxy: false` going direct, a dead proxy failing in bounded time; through S3Client, the
 * environment (S3Client.fromEnvironment) and the s3tx command.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyError, S3Client, S3RequestTlsMode, TlsError, type S3ClientOptions } from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { runCli } from './helpers/cli.js';
import { awsEnvironment, createBucket, newClient } from './helpers/client.js';
import { freePort, startTinyproxy, type Tinyproxy } from './helpers/proxy.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, tempFolder } from './helpers/servers.js';

const cert = readFileSync(new URL('./fixtures/tls/server.crt', import.meta.url));
const key = readFileSync(new URL('./fixtures/tls/server.key', import.meta.url));
const bucket = 'proxied';
const PASSWORD = 'pr0xy-Pa55word-never-shown';
let plain: LocalS3;
let secure: LocalS3;
let proxy: Tinyproxy;
let guarded: Tinyproxy;
let folder: { path: string; remove: () => Promise<void> };

function client(endpoint: string, options: Partial<S3ClientOptions> = {}): S3Client {
  const tls = endpoint.startsWith('https:');
  return newClient({
    endpoint,
    partSize: 5 * MiB,
    tlsMode: tls ? S3RequestTlsMode.ENABLED : S3RequestTlsMode.DISABLED,
    ...(tls ? { tlsConnectionOptions: { ca: cert } } : {}),
    ...options,
  });
}

/** Request lines the proxy logs from now on. */
async function watch(target: Tinyproxy): Promise<() => Promise<string[]>> {
  const before = (await target.requests()).length;
  return async () => (await target.requests()).slice(before);
}

/** Uploads 12 MiB (three parts) from memory and 6 MiB from a file, and reads both back. */
async function roundTrip(c: S3Client, prefix: string): Promise<void> {
  const data = makeBuffer(12 * MiB);
  await c.upload({ bucket, key: `${prefix}/memory`, body: data });
  const file = join(folder.path, `${prefix.replace(/\W/g, '-')}.bin`);
  await writeFile(file, data.subarray(0, 6 * MiB));
  await c.upload({ bucket, key: `${prefix}/file`, body: file });
  for (const [name, expected] of [
    ['memory', data],
    ['file', data.subarray(0, 6 * MiB)],
  ] as const) {
    const chunks: Buffer[] = [];
    for await (const chunk of c.downloadStream({ bucket, key: `${prefix}/${name}` })) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(expected), name).toBe(true);
  }
}

beforeAll(async () => {
  folder = await tempFolder();
  const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
  plain = await startLocalS3({ credentials });
  secure = await startLocalS3({ credentials, tls: { cert, key } });
  await createBucket(plain, bucket, { proxy: false });
  await createBucket(secure, bucket, { proxy: false, tlsMode: S3RequestTlsMode.ENABLED, tlsConnectionOptions: { ca: cert } });
  proxy = await startTinyproxy();
  guarded = await startTinyproxy({ auth: { user: 'alice', password: PASSWORD } });
});

afterAll(async () => {
  await proxy?.close();
  await guarded?.close();
  await plain?.close();
  await secure?.close();
  await folder?.remove();
});

describe('through an HTTP proxy', () => {
  it('an http endpoint: absolute-form requests, signed for the endpoint, every one through the proxy', async () => {
    const seen = await watch(proxy);
    plain.resetRequests();
    const c = client(plain.endpoint, { proxy: { url: proxy.url } });
    try {
      await roundTrip(c, 'forward');
    } finally {
      await c.close();
    }
    const lines = await seen();
    expect(lines.length).toBeGreaterThanOrEqual(plain.requests.length);
    expect(lines.every((line) => line.startsWith(`${line.split(' ')[0]} http://${plain.host}/${bucket}/forward/`))).toBe(true);
    expect(lines.some((line) => /^PUT .*uploadId=/.test(line))).toBe(true);
    expect(plain.requests.every((request) => request.status === 200 || request.status === 206)).toBe(true);
  });

  it('an https endpoint: a CONNECT tunnel per connection, TLS inside it verified against the endpoint name', async () => {
    const seen = await watch(proxy);
    const endpoint = `https://localhost:${secure.port}`;
    const c = client(endpoint, { proxy: { url: proxy.url } });
    try {
      await roundTrip(c, 'tunnel');
    } finally {
      await c.close();
    }
    const lines = await seen();
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines)).toEqual(new Set([`CONNECT localhost:${secure.port} HTTP/1.1`]));

    // Without the CA the handshake inside the tunnel fails, as it would without a proxy, and S3 sees nothing.
    const untrusted = await watch(proxy);
    secure.resetRequests();
    const bare = newClient({ endpoint, tlsMode: S3RequestTlsMode.ENABLED, proxy: { url: proxy.url } });
    try {
      await expect(bare.headObject({ bucket, key: 'tunnel/memory' })).rejects.toBeInstanceOf(TlsError);
    } finally {
      await bare.close();
    }
    expect((await untrusted())[0]).toBe(`CONNECT localhost:${secure.port} HTTP/1.1`);
    expect(secure.requests).toEqual([]);
  });

  it('takes credentials from the URL; without them the 407 is a ProxyError, sent once, naming the proxy but not the password', async () => {
    const authorized = `http://alice:${PASSWORD}@127.0.0.1:${guarded.port}`;
    for (const endpoint of [plain.endpoint, `https://localhost:${secure.port}`]) {
      const c = client(endpoint, { proxy: { url: authorized } });
      try {
        await c.upload({ bucket, key: 'guarded/ok', body: Buffer.from('through the proxy') });
        expect((await c.headObject({ bucket, key: 'guarded/ok' })).size).toBe(17);
      } finally {
        await c.close();
      }
    }
    for (const [endpoint, url] of [
      [plain.endpoint, guarded.url],
      [`https://localhost:${secure.port}`, guarded.url],
      [plain.endpoint, `http://alice:wrong@127.0.0.1:${guarded.port}`],
    ] as const) {
      const seen = await watch(guarded);
      const c = client(endpoint, { proxy: { url } });
      let error: unknown;
      try {
        await c.upload({ bucket, key: 'guarded/refused', body: Buffer.from('x') }).catch((caught: unknown) => (error = caught));
      } finally {
        await c.close();
      }
      expect(error, `${endpoint} via ${url}`).toBeInstanceOf(ProxyError);
      expect(error).toMatchObject({ code: 'AWS_ERROR_HTTP_PROXY_CONNECT_FAILED', proxy: guarded.url });
      // tinyproxy answers wrong credentials with 401 rather than 407.
      expect((error as ProxyError).statusCode).toBe(url.includes('wrong') ? 401 : 407);
      expect((error as Error).message).toContain(guarded.url);
      expect(await seen()).toHaveLength(1);
      const text = [inspect(error, { depth: Infinity, showHidden: true }), (error as Error).stack, JSON.stringify(error)].join('\n');
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('wrong');
    }
    const c = client(plain.endpoint, { proxy: { url: authorized } });
    const shown = [
      inspect(c, { depth: Infinity, showHidden: true, getters: true }),
      inspect(c.config, { depth: Infinity, showHidden: true }),
      JSON.stringify(c.config),
    ];
    await c.close();
    for (const text of shown) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(Buffer.from(`alice:${PASSWORD}`).toString('base64'));
    }
  });

  it('a CONNECT the proxy forbids (its ConnectPort rule) is a 403 ProxyError, not retried', async () => {
    const strict = await startTinyproxy({ connectPorts: [443] });
    try {
      const seen = await watch(strict);
      const c = client(`https://localhost:${secure.port}`, { proxy: { url: strict.url } });
      try {
        await expect(c.headObject({ bucket, key: 'tunnel/memory' })).rejects.toMatchObject({ name: 'ProxyError', statusCode: 403, proxy: strict.url });
      } finally {
        await c.close();
      }
      expect(await seen()).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });

  it('NO_PROXY entries and proxy: false go direct; the rest goes through HTTPS_PROXY / HTTP_PROXY (S3Client.fromEnvironment)', async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, awsEnvironment(plain.endpoint, folder.path), { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url });
      const cases: Array<[string | undefined, boolean]> = [
        [undefined, true],
        ['127.0.0.1', false],
        ['127.0.0.0/8', false],
        [`127.0.0.1:${plain.port}`, false],
        ['127.0.0.1:1', true],
        ['*', false],
        ['example.com, .other.test', true],
      ];
      for (const [noProxy, proxied] of cases) {
        if (noProxy === undefined) delete process.env.NO_PROXY;
        else process.env.NO_PROXY = noProxy;
        const seen = await watch(proxy);
        const c = S3Client.fromEnvironment();
        try {
          await c.headObject({ bucket, key: 'forward/memory' });
        } finally {
          await c.close();
        }
        expect((await seen()).length > 0, `NO_PROXY=${noProxy}`).toBe(proxied);
      }
      delete process.env.NO_PROXY;
      const seen = await watch(proxy);
      const direct = S3Client.fromEnvironment({ proxy: false });
      try {
        await direct.headObject({ bucket, key: 'forward/memory' });
      } finally {
        await direct.close();
      }
      expect(await seen()).toEqual([]);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });

  it('the s3tx command reads the proxy variables; a dead proxy fails in seconds with one line naming it', async () => {
    const env = { PATH: process.env.PATH, HOME: folder.path, XDG_CACHE_HOME: join(folder.path, 'cache'), ...awsEnvironment(plain.endpoint, folder.path) };
    const seen = await watch(proxy);
    const ls = await runCli(['ls', `s3://${bucket}/forward/`], { ...env, http_proxy: proxy.url }, folder.path);
    expect(ls).toMatchObject({ code: 0, stderr: '' });
    expect(ls.stdout).toContain('memory');
    expect((await seen()).length).toBeGreaterThan(0);

    const bypass = await watch(proxy);
    expect((await runCli(['ls', `s3://${bucket}/forward/`], { ...env, http_proxy: proxy.url, no_proxy: '127.0.0.1' }, folder.path)).code).toBe(0);
    expect(await bypass()).toEqual([]);

    const dead = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const failed = await runCli(['ls', `s3://${bucket}/`], { ...env, HTTP_PROXY: dead }, folder.path);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).toContain(`ERR_S3TX_NETWORK: could not connect to the proxy ${dead}`);

    const bad = await runCli(
      ['ls', `s3://${bucket}/`],
      { ...env, HTTPS_PROXY: 'socks5://user:hunter2@127.0.0.1:1080', AWS_ENDPOINT_URL: secure.endpoint },
      folder.path,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/HTTPS_PROXY.*socks5:/);
    expect(bad.stderr).not.toContain('hunter2');
  });
});
