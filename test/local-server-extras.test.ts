import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { HttpRequest } from '@smithy/protocol-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultPlan, startLocalS3, type LocalS3 } from '../src/local/index.js';
import { raw, signer } from './helpers/raw.js';
import { ACCESS_KEY, SECRET_KEY } from './helpers/servers.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

describe('fault plan', () => {
  const target = { operation: 'UploadPart', key: 'k', partNumber: 2, range: null };

  it('matches by operation, key, part number and range, and counts down', () => {
    const plan = new FaultPlan([{ operation: 'UploadPart', key: /^k$/, partNumber: 2, times: 2, action: { type: 'error', status: 503, code: 'SlowDown' } }]);
    expect(plan.take({ ...target, partNumber: 1 })).toBeNull();
    expect(plan.take({ ...target, operation: 'GetObject' })).toBeNull();
    expect(plan.take(target)?.type).toBe('error');
    expect(plan.take(target)?.type).toBe('error');
    expect(plan.take(target)).toBeNull();
    plan.add({ operation: 'GetObject', range: 'bytes=8-', action: { type: 'flip-byte' } });
    expect(plan.take({ operation: 'GetObject', key: 'x', partNumber: null, range: 'bytes=0-7' })).toBeNull();
    expect(plan.take({ operation: 'GetObject', key: 'x', partNumber: null, range: 'bytes=8-15' })?.type).toBe('flip-byte');
  });

  it('applies a probability drawn from its seed, the same way every time', () => {
    const draw = () => {
      const plan = new FaultPlan([{ probability: 0.3, seed: 42, times: Infinity, action: { type: 'error', status: 503, code: 'SlowDown' } }]);
      return Array.from({ length: 1000 }, () => (plan.take(target) ? 1 : 0)).join('');
    };
    const first = draw();
    expect(draw()).toBe(first);
    const hits = [...first].filter((bit) => bit === '1').length;
    expect(hits).toBeGreaterThan(240);
    expect(hits).toBeLessThan(360);
  });
});

describe('the local server under bad input', () => {
  let server: LocalS3;
  beforeAll(async () => {
    server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    await raw(server.host, 'PUT', '/bad-input');
  });
  afterAll(() => server?.close());

  /** Sends a signed PUT head declaring `length` bytes, then `body`, then closes; resolves with whatever came back. */
  async function partialPut(key: string, length: number, body: Buffer): Promise<string> {
    const headers = { host: server.host, 'content-length': String(length), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    const signed = await signer().sign(new HttpRequest({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', path: `/bad-input/${key}`, headers }));
    return new Promise<string>((resolve, reject) => {
      let answer = '';
      const socket = connect(server.port, '127.0.0.1', () => {
        const head = Object.entries(signed.headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('');
        socket.write(`PUT /bad-input/${key} HTTP/1.1\r\n${head}\r\n`);
        socket.end(body);
      });
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });
  }

  it('stores nothing when the client goes away in the middle of a body', async () => {
    await partialPut('truncated', 1000, Buffer.alloc(500, 0x61));
    expect((await raw(server.host, 'GET', '/bad-input/truncated')).code).toBe('NoSuchKey');
    expect(server.requests.find((r) => r.key === 'truncated')?.bytesIn).toBe(500);
  });

  it('refuses a single PUT over 5 GiB before reading it', async () => {
    const answer = await partialPut('huge', 5 * 1024 ** 3 + 1, Buffer.alloc(0));
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('<Code>EntityTooLarge</Code>');
  });

  it('stalls before the first byte when told to, then drops the connection', async () => {
    server.faults.add({ operation: 'HeadBucket', action: { type: 'stall', ms: 300 } });
    const started = Date.now();
    await expect(raw(server.host, 'HEAD', '/bad-input')).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });
});

describe('the request log', () => {
  it('keeps at most requestLogSize requests, dropping the oldest', async () => {
    const server = await startLocalS3({ anonymous: true, requestLogSize: 20 });
    try {
      for (let i = 0; i < 25; i++) await raw(server.host, 'HEAD', `/bucket-${i}`, { anonymous: true });
      expect(server.requests.length).toBeLessThanOrEqual(20);
      expect(server.requests[server.requests.length - 1]?.bucket).toBe('bucket-24');
    } finally {
      await server.close();
    }
  });
});

describe('s3tx serve', () => {
  it('prints the endpoint, never the credentials it was given, serves until SIGINT, then exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--access-key', 'CLIKEY', '--secret-key', 'CLISECRET'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    const endpoint = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/[^\s]+)/.exec(output);
        if (match && output.includes('credentials')) resolve(match[1]!);
      });
      child.once('close', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
    });
    expect(output).toContain('credentials: as given');
    expect(output).not.toContain('CLISECRET');
    const host = new URL(endpoint).host;
    expect((await raw(host, 'PUT', '/from-cli', { accessKeyId: 'CLIKEY', secret: 'CLISECRET' })).status).toBe(200);
    expect((await raw(host, 'PUT', '/from-cli-2', { accessKeyId: 'CLIKEY', secret: 'wrong' })).code).toBe('SignatureDoesNotMatch');
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped');
  });

  it('refuses bad usage with exit code 2', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', 'abc'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    expect(await new Promise((resolve) => child.once('close', resolve))).toBe(2);
    expect(errors).toContain('--port must be a whole number');
  });
});
