/**
 * Secrets stay secret: the access key, secret key, session token and Authorization header of a
 * client, the password of its proxy (and the Proxy-Authorization made of it), and the keys and
 * tokens of its S3 Express sessions appear in no error (message, stack, inspection, JSON), no
 * inspected object, no request log and no CLI output, whatever fails.
 */
import { spawn } from 'node:child_process';
import { createServer, connect, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AwsSigningAlgorithm,
  AwsCredentialsProvider,
  HttpRequest,
  S3Client,
  S3RequestTlsMode,
  S3RequestType,
  createDefaultS3SigningConfig,
  type S3RequestDoneResult,
} from '../../src/index.js';
import { startLocalS3 } from '../../src/local/index.js';
import { makeBuffer } from '../helpers/servers.js';
import { awsEnvironment } from '../helpers/client.js';
import { freePort, startTinyproxy } from '../helpers/proxy.js';

const ACCESS_KEY = 'AKIASECRETSCANTEST01';
const SECRET = 'sEcReT/scan+test/0123456789abcdefghijklmn';
const TOKEN = 'SeSsIoNtOkEn-scan-test-0123456789';
const PROXY_PASSWORD = 'pRoXy-pass-scan-test-42';
const FORBIDDEN = [
  ACCESS_KEY,
  SECRET,
  TOKEN,
  'AWS4-HMAC-SHA256 Credential',
  'Signature=',
  PROXY_PASSWORD,
  Buffer.from(`scanner:${PROXY_PASSWORD}`).toString('base64'),
  'Proxy-Authorization',
];
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function client(tls = false, proxy?: string): S3Client {
  return new S3Client({
    region: 'us-east-1',
    ...(proxy ? { proxy: { url: proxy } } : {}),
    tlsMode: tls ? S3RequestTlsMode.ENABLED : S3RequestTlsMode.DISABLED,
    partSize: 5 * 1024 * 1024,
    signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS_KEY, SECRET, TOKEN) }),
  });
}

/** Every way an object can be turned into text. */
function texts(value: unknown): string[] {
  const out = [inspect(value, { depth: Infinity, showHidden: true, getters: true }), String(value)];
  try {
    out.push(JSON.stringify(value) ?? '');
  } catch {
    // circular: inspect covers it
  }
  if (value instanceof Error) out.push(value.message, value.stack ?? '');
  // Bodies are Buffers, which inspect shows as bytes: read them as text too.
  for (const body of [(value as { body?: unknown } | null)?.body, (value as { errorBody?: unknown } | null)?.errorBody]) {
    if (Buffer.isBuffer(body)) out.push(body.toString('latin1'));
  }
  return out;
}

async function failures(c: S3Client, host: string): Promise<unknown[]> {
  const seen: unknown[] = [];
  const requests = [
    new HttpRequest({ method: 'PUT', path: '/bucket', headers: { host } }),
    new HttpRequest({ method: 'GET', path: '/bucket/key', headers: { host } }),
    new HttpRequest({ method: 'PUT', path: '/bucket/big', headers: { host }, body: makeBuffer(11 * 1024 * 1024) }),
  ];
  for (const [i, request] of requests.entries()) {
    let done: S3RequestDoneResult | null = null;
    const type = i === 0 ? S3RequestType.DEFAULT : i === 1 ? S3RequestType.GET_OBJECT : S3RequestType.PUT_OBJECT;
    const made = c.makeRequest({ type, request, operationName: i === 0 ? 'CreateBucket' : undefined, onDone: (result) => (done = result) });
    seen.push(made);
    await made.finishedFuture.catch((error: unknown) => seen.push(error));
    await made.shutdownEvent;
    seen.push(done);
  }
  return seen;
}

/** A TCP relay to `target` that keeps every byte the server sends, to learn the sessions it gave. */
async function relay(target: number): Promise<{ port: number; answers: () => string; close: () => Promise<void> }> {
  const seen: Buffer[] = [];
  const server = createServer((socket) => {
    const upstream = connect(target, '127.0.0.1');
    socket.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => seen.push(chunk));
    upstream.pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    answers: () => Buffer.concat(seen).toString('latin1'),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('secrets', () => {
  it('of S3 Express sessions appear in no error, done result, inspected object or request log', async () => {
    const server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET } });
    const relayed = await relay(server.port);
    const host = `127.0.0.1:${relayed.port}`;
    const bucket = 'secret--usw2-az1--x-s3';
    const signingConfig = createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS_KEY, SECRET) });
    const iam = new S3Client({ region: 'us-east-1', tlsMode: S3RequestTlsMode.DISABLED, signingConfig: { ...signingConfig, service: 's3express' } });
    await iam.makeRequest({
      type: S3RequestType.DEFAULT,
      operationName: 'CreateBucket',
      request: new HttpRequest({ method: 'PUT', path: `/${bucket}`, headers: { host } }),
    }).finishedFuture;
    await iam.close();
    const c = new S3Client({
      region: 'us-east-1',
      tlsMode: S3RequestTlsMode.DISABLED,
      enableS3Express: true,
      signingConfig: { ...signingConfig, algorithm: AwsSigningAlgorithm.V4_S3EXPRESS },
    });
    const corpus: string[] = [];
    const attempts = [
      new HttpRequest({ method: 'GET', path: `/${bucket}/missing`, headers: { host } }),
      new HttpRequest({ method: 'PUT', path: `/${bucket}/refused`, headers: { host, 'x-amz-create-session-mode': 'ReadOnly' }, body: Buffer.from('no') }),
      new HttpRequest({ method: 'GET', path: `/nobucket--usw2-az1--x-s3/key`, headers: { host } }),
    ];
    for (const [i, request] of attempts.entries()) {
      let done: S3RequestDoneResult | null = null;
      const made = c.makeRequest({ type: i === 1 ? S3RequestType.PUT_OBJECT : S3RequestType.GET_OBJECT, request, onDone: (result) => (done = result) });
      await made.finishedFuture.catch((error: unknown) => corpus.push(...texts(error)));
      await made.shutdownEvent;
      corpus.push(...texts(done), ...texts(made));
    }
    corpus.push(...texts(c), ...texts(c.config), ...texts(server.requests));
    await c.close();
    await relayed.close();
    await server.close();
    const sessions = [...relayed.answers().matchAll(/<SessionToken>([^<]+)<\/SessionToken><SecretAccessKey>([^<]+)<\/SecretAccessKey>/g)];
    expect(sessions.length).toBe(2);
    const text = corpus.join('\n');
    expect(text).toMatch(/NoSuchKey/);
    expect(text).toMatch(/AccessDenied/);
    expect(text).toMatch(/AWS_ERROR_S3EXPRESS_CREATE_SESSION_FAILED/);
    for (const [, token, secret] of sessions) {
      for (const value of [token!, secret!, SECRET]) expect(text.includes(value), `${value.slice(0, 12)}... in the corpus`).toBe(false);
    }
  });

  it('appear in no error, done result or inspected object, whatever fails', async () => {
    const corpus: string[] = [];
    // The server knows the key with another secret (SignatureDoesNotMatch), or not at all (InvalidAccessKeyId).
    for (const credentials of [
      { accessKeyId: ACCESS_KEY, secretAccessKey: 'another-secret' },
      { accessKeyId: 'SOMEONEELSE', secretAccessKey: 'x' },
    ]) {
      const server = await startLocalS3({ credentials });
      const c = client();
      for (const value of await failures(c, server.host)) corpus.push(...texts(value));
      corpus.push(...texts(c), ...texts(c.config));
      await c.close();
      await server.close();
    }
    // Nothing listening (NetworkError), and TLS to a server whose certificate does not verify (TlsError).
    const gone = await startLocalS3({});
    const goneHost = gone.host;
    await gone.close();
    const offline = client();
    for (const value of await failures(offline, goneHost)) corpus.push(...texts(value));
    await offline.close();
    const cert = readFileSync(new URL('../fixtures/tls/server.crt', import.meta.url));
    const key = readFileSync(new URL('../fixtures/tls/server.key', import.meta.url));
    const https = await startLocalS3({ tls: { cert, key } });
    const tls = client(true);
    for (const value of await failures(tls, https.host)) corpus.push(...texts(value));
    await tls.close();
    await https.close();
    // Through a proxy that asks for credentials: the wrong ones (refused), the right ones to a server that refuses the signature, and a dead proxy.
    const proxy = await startTinyproxy({ auth: { user: 'scanner', password: 'the-proxy-knows-another' } });
    const target = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: 'another-secret' } });
    const live = `http://scanner:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}`;
    const dead = `http://scanner:${PROXY_PASSWORD}@127.0.0.1:${await freePort()}`;
    for (const [tlsOn, url] of [
      [false, live],
      [true, live],
      [false, dead],
    ] as const) {
      const proxied = client(tlsOn, url);
      for (const value of await failures(proxied, target.host)) corpus.push(...texts(value));
      corpus.push(...texts(proxied), ...texts(proxied.config));
      await proxied.close();
    }
    await target.close();
    await proxy.close();

    expect(corpus.join('\n')).toMatch(/SignatureDoesNotMatch/);
    expect(corpus.join('\n')).toMatch(/InvalidAccessKeyId/);
    // S3's explanation of a signature mismatch is kept, less the credential details.
    expect(corpus.join('\n')).toContain('<StringToSign>[redacted]</StringToSign>');
    expect(corpus.join('\n')).toMatch(/ERR_S3TX_NETWORK/);
    expect(corpus.join('\n')).toMatch(/AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE/);
    expect(corpus.join('\n')).toMatch(/AWS_ERROR_HTTP_PROXY_CONNECT_FAILED/);
    expect(corpus.join('\n')).toMatch(/could not connect to the proxy/);
    for (const text of corpus) for (const secret of FORBIDDEN) expect(text.includes(secret), `${secret} in ${text.slice(0, 300)}`).toBe(false);
  });

  it('appear in no CLI output', async () => {
    const output = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'serve', '--access-key', ACCESS_KEY, '--secret-key', SECRET], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      const collect = (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('credentials')) child.kill('SIGTERM');
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.once('close', () => resolve(text));
    });
    const usage = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'serve', '--secret-key', SECRET], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.once('close', () => resolve(text));
    });
    // Transfers signed with these credentials against a server that knows another secret.
    const server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: 'the-server-secret' } });
    const env = {
      PATH: process.env.PATH,
      ...awsEnvironment(server.endpoint, '/nonexistent', { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET }),
      AWS_SESSION_TOKEN: TOKEN,
    };
    const transfers: string[] = [];
    for (const args of [['ls'], ['cp', CLI, 's3://bucket/key', '--json'], ['cp', 's3://bucket/key', '-'], ['rm', 's3://bucket/key']]) {
      transfers.push(
        await new Promise<string>((resolve) => {
          const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
          let text = '';
          child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
          child.once('close', () => resolve(text));
        }),
      );
    }
    await server.close();
    expect(output).toContain('listening');
    expect(usage).toContain('--access-key and --secret-key go together');
    expect(transfers.join('\n')).toMatch(/SignatureDoesNotMatch/);
    for (const secret of FORBIDDEN) {
      expect(output).not.toContain(secret);
      expect(usage).not.toContain(secret);
      for (const text of transfers) expect(text).not.toContain(secret);
    }
  });
});
