/**
 * Timeouts: `--read-timeout` (stallTimeoutMs) against a server that accepts and never answers, the
 * flags' validation, and connectTimeoutMs reaching the transport. A connect that never completes
 * (an address that drops SYN) cannot be made on loopback, where the kernel answers every SYN at
 * once, so the connect timeout is tested up to the Transport's options, not on the wire.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TransportOptions } from '../src/http/transport.js';
import { S3Client } from '../src/index.js';
import { runCli, type Ran } from './helpers/cli.js';
import { awsEnvironment } from './helpers/client.js';
import { tempFolder } from './helpers/servers.js';

const seen = vi.hoisted(() => [] as TransportOptions[]);
vi.mock('../src/http/transport.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/http/transport.js')>();
  class RecordingTransport extends original.Transport {
    constructor(options: TransportOptions) {
      seen.push(options);
      super(options);
    }
  }
  return { ...original, Transport: RecordingTransport };
});

let silent: Server;
let endpoint: string;
const sockets = new Set<Socket>();
let folder: { path: string; remove: () => Promise<void> };

function s3tx(args: string[]): Promise<Ran> {
  return runCli(args, { PATH: process.env.PATH, HOME: folder.path, ...awsEnvironment(endpoint, folder.path) }, folder.path);
}

beforeAll(async () => {
  folder = await tempFolder();
  // Accepts every connection, reads what is sent, and never answers.
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const address = silent.address() as { port: number };
  endpoint = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent?.close(resolve));
  await folder?.remove();
});

describe('read timeout', () => {
  it('a server that never answers fails `ls --read-timeout 1` within stallTimeoutMs x (maxRetries + 1) plus backoff, exit 1 and a NetworkError line', async () => {
    for (const flag of ['--read-timeout', '--cli-read-timeout']) {
      const started = Date.now();
      const ran = await s3tx(['ls', 's3://quiet/', flag, '1']);
      const elapsed = Date.now() - started;
      expect(ran.code, flag).toBe(1);
      const lines = ran.stderr.trim().split('\n');
      expect(lines, flag).toHaveLength(1);
      expect(lines[0], flag).toMatch(/^s3tx: ERR_S3TX_NETWORK: /);
      // 6 attempts (maxRetries 5, + 1) of 1 s each, then full-jitter backoff between them of at most
      // 100 + 200 + 400 + 800 + 1600 ms, and the process's start: the 30 s default would be 180 s.
      expect(elapsed, flag).toBeGreaterThanOrEqual(6_000);
      expect(elapsed, flag).toBeLessThan(6_000 + 3_100 + 1_900);
    }
  }, 30_000);
});

describe('timeout flags', () => {
  it('refuses 0, negative and non-numbers, and both spellings at once, as usage errors (exit 2)', async () => {
    for (const args of [
      ['--read-timeout', '0'],
      ['--read-timeout=-1'],
      ['--cli-read-timeout', 'soon'],
      ['--connect-timeout', '0'],
      ['--cli-connect-timeout=-5'],
      ['--connect-timeout', '1e3'],
      ['--connect-timeout', '2', '--cli-connect-timeout', '2'],
      ['--addressing-style', 'sideways'],
      ['--force-path-style', '--addressing-style', 'virtual'],
    ]) {
      const ran = await s3tx(['ls', 's3://quiet/', ...args]);
      expect(ran.code, args.join(' ')).toBe(2);
      expect(ran.stderr.split('\n')[0], args.join(' ')).toMatch(/^s3tx: /);
    }
  });

  it('lists the new flags in every command that talks to S3', async () => {
    for (const command of ['cp', 'sync', 'ls', 'rm']) {
      const help = await s3tx([command, '--help']);
      for (const flag of [
        '--ca-bundle',
        '--connect-timeout',
        '--read-timeout',
        '--cli-connect-timeout',
        '--cli-read-timeout',
        '--force-path-style',
        '--addressing-style',
      ])
        expect(help.stdout, `${command} ${flag}`).toContain(flag);
    }
  });
});

describe('connectTimeoutMs', () => {
  it('defaults to 10 s, separate from stallTimeoutMs, and reaches the Transport', async () => {
    seen.length = 0;
    const defaults = new S3Client({ region: 'us-east-1', stallTimeoutMs: 1_000 });
    const chosen = new S3Client({ region: 'us-east-1', connectTimeoutMs: 3_000 });
    try {
      expect(defaults.config).toMatchObject({ connectTimeoutMs: 10_000, stallTimeoutMs: 1_000 });
      expect(chosen.config).toMatchObject({ connectTimeoutMs: 3_000, stallTimeoutMs: 30_000 });
      expect(seen.map(({ connectTimeoutMs, stallTimeoutMs }) => ({ connectTimeoutMs, stallTimeoutMs }))).toEqual([
        { connectTimeoutMs: 10_000, stallTimeoutMs: 1_000 },
        { connectTimeoutMs: 3_000, stallTimeoutMs: 30_000 },
      ]);
    } finally {
      await defaults.close();
      await chosen.close();
    }
  });

  it('takes the CLI flag in seconds', async () => {
    seen.length = 0;
    // The CLI's own parsing, in process: clientFrom is what every command calls.
    const { clientFrom } = await import('../src/cli/options.js');
    vi.stubEnv('AWS_CONFIG_FILE', join(folder.path, 'no-config'));
    vi.stubEnv('AWS_CA_BUNDLE', '');
    const client = clientFrom({ 'endpoint-url': endpoint, region: 'us-east-1', 'connect-timeout': '2.5', 'read-timeout': '7' });
    const aws = clientFrom({ 'endpoint-url': endpoint, region: 'us-east-1', 'cli-connect-timeout': '4' });
    try {
      expect(client.config).toMatchObject({ connectTimeoutMs: 2_500, stallTimeoutMs: 7_000 });
      expect(aws.config).toMatchObject({ connectTimeoutMs: 4_000, stallTimeoutMs: 30_000 });
      expect(seen.map((options) => options.connectTimeoutMs)).toEqual([2_500, 4_000]);
    } finally {
      await client.close();
      await aws.close();
      vi.unstubAllEnvs();
    }
  });
});
