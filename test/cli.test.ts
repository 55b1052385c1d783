/**
 * The s3tx command end to end: real child processes against the local server, every command
 * and flag, --json output parsed, progress on a pseudo-terminal, and SIGKILL then --resume.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsCredentialsProvider, S3Client, S3RequestType, createDefaultS3SigningConfig } from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { awsEnvironment, httpRequest, run } from './helpers/client.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, makeFile, sha256, sha256File, tempFolder } from './helpers/servers.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const bucket = 'cli';
let server: LocalS3;
let client: S3Client;
let folder: { path: string; remove: () => Promise<void> };
let env: NodeJS.ProcessEnv;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], options: { input?: Buffer; cwd?: string } = {}): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd: options.cwd ?? folder.path, stdio: ['pipe', 'pipe', 'pipe'] });
  if (options.input) child.stdin!.end(options.input);
  else child.stdin!.end();
  return child;
}

function finish(child: ChildProcess): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

function s3tx(args: string[], options: { input?: Buffer; cwd?: string } = {}): Promise<Ran> {
  return finish(start(args, options));
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const count = (operation: string) => server.requests.filter((request) => request.operation === operation).length;

async function objectBytes(key: string): Promise<Buffer> {
  const result = await run(client, {
    type: S3RequestType.GET_OBJECT,
    request: httpRequest(server.host, 'GET', `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`),
  });
  expect(result.error).toBeNull();
  return result.body;
}

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  folder = await tempFolder();
  server = await startLocalS3({ root: join(folder.path, 'store'), credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  client = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS_KEY, SECRET_KEY) }),
  });
  await run(client, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', `/${bucket}`) });
  env = { PATH: process.env.PATH, HOME: folder.path, XDG_CACHE_HOME: join(folder.path, 'cache'), ...awsEnvironment(server.endpoint, folder.path) };
});

beforeEach(() => {
  server.faults.clear();
  server.resetRequests();
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await folder?.remove();
});

describe('usage', () => {
  it('--help, COMMAND --help and --version in the conventional form; bad usage exits 2', async () => {
    const help = await s3tx(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: s3tx <command>/);
    for (const command of ['cp', 'sync', 'ls', 'rm', 'serve']) {
      const ran = await s3tx([command, '--help']);
      expect(ran.code, command).toBe(0);
      expect(ran.stdout, command).toMatch(new RegExp(`^Usage: s3tx ${command}`));
      if (command !== 'serve') expect(ran.stdout, command).toContain('--endpoint-url');
    }
    expect((await s3tx(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    for (const args of [
      ['frobnicate'],
      ['cp', 'only-one'],
      ['cp', 'a', 'b'],
      ['cp', '--part-size', 'lots', 'a', `s3://${bucket}/a`],
      ['cp', '--checksum', 'MD5', 'a', `s3://${bucket}/a`],
      ['ls', '--nope'],
    ]) {
      const ran = await s3tx(args);
      expect(ran.code, args.join(' ')).toBe(2);
      expect(ran.stderr.split('\n')[0], args.join(' ')).toMatch(/^s3tx: /);
    }
  });
});

describe('cp', () => {
  it('uploads, downloads, copies and streams through stdin and stdout, byte for byte', async () => {
    const source = join(folder.path, 'source.bin');
    await makeFile(source, 13 * MiB + 7);
    const up = await s3tx(['cp', source, `s3://${bucket}/dir/`, '--part-size', '5MiB', '--json']);
    expect(up.code).toBe(0);
    expect(jsonLines(up.stdout)).toEqual([expect.objectContaining({ op: 'upload', source, target: `s3://${bucket}/dir/source.bin`, bytes: 13 * MiB + 7 })]);
    expect(count('UploadPart')).toBe(3);
    expect(sha256(await objectBytes('dir/source.bin'))).toBe(await sha256File(source));

    const down = await s3tx(['cp', `s3://${bucket}/dir/source.bin`, 'copy.bin']);
    expect(down.code).toBe(0);
    expect(down.stdout.trim()).toBe(`download: s3://${bucket}/dir/source.bin to copy.bin`);
    expect(await sha256File(join(folder.path, 'copy.bin'))).toBe(await sha256File(source));

    expect((await s3tx(['cp', `s3://${bucket}/dir/source.bin`, `s3://${bucket}/copied/`])).code).toBe(0);
    expect(sha256(await objectBytes('copied/source.bin'))).toBe(await sha256File(source));

    const input = makeBuffer(6 * MiB + 1);
    expect((await s3tx(['cp', '-', `s3://${bucket}/from-stdin.bin`], { input })).code).toBe(0);
    const out = start(['cp', `s3://${bucket}/from-stdin.bin`, '-']);
    const chunks: Buffer[] = [];
    out.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
    expect((await finish(out)).code).toBe(0);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(input));
  });

  it('takes every client and object flag', async () => {
    const source = join(folder.path, 'flags.json');
    await makeFile(source, 11 * MiB);
    const ran = await s3tx([
      'cp',
      source,
      `s3://${bucket}/flags.json`,
      '--checksum',
      'crc32c',
      '--part-size',
      '6MiB',
      '--memory-limit',
      '64MiB',
      '--target-gbps',
      '2',
      '--metadata',
      'team=storage',
      '--metadata',
      'run=1',
      '--storage-class',
      'STANDARD_IA',
      '--region',
      'us-east-1',
      '--endpoint-url',
      server.endpoint,
      '--quiet',
    ]);
    expect(ran).toMatchObject({ code: 0, stdout: '' });
    expect(count('UploadPart')).toBe(2);
    const create = server.requests.find((request) => request.operation === 'CreateMultipartUpload')!;
    expect(create.headers).toMatchObject({
      'x-amz-meta-team': 'storage',
      'x-amz-meta-run': '1',
      'x-amz-storage-class': 'STANDARD_IA',
      'content-type': 'application/json',
    });
    expect(create.headers['x-amz-checksum-algorithm']).toBe('CRC32C');
    const info = await client.headObject({ bucket, key: 'flags.json' });
    expect(info.checksum?.value).toMatch(/^[A-Za-z0-9+/]{6}==$/);
  });

  it('copies folders both ways with nested and unicode names, and never writes outside the target', async () => {
    const tree = join(folder.path, 'tree');
    const names = ['a.txt', 'nested/b.bin', 'nested/deeper/c.json', 'ünïcødé/名前.txt'];
    for (const [i, name] of names.entries()) {
      await mkdir(join(tree, name, '..'), { recursive: true });
      await writeFile(join(tree, name), makeBuffer(100 * (i + 1)));
    }
    const up = await s3tx(['cp', '-r', tree, `s3://${bucket}/tree`, '--json']);
    expect(up.code).toBe(0);
    expect(
      jsonLines(up.stdout)
        .map((line) => line.target)
        .sort(),
    ).toEqual(names.map((name) => `s3://${bucket}/tree/${name}`).sort());
    await client.upload({ bucket, key: 'tree/../../escape.txt', body: Buffer.from('no') });
    const back = join(folder.path, 'back', 'inside');
    const down = await s3tx(['cp', '-r', `s3://${bucket}/tree/`, back, '--json']);
    // A skipped key is exit 2 with a warning on stderr, as aws s3 gives.
    expect(down.code).toBe(2);
    expect(down.stderr).toBe(`warning: skipping s3://${bucket}/tree/../../escape.txt: not written: the key contains ".", ".." or an empty segment\n`);
    const lines = jsonLines(down.stdout);
    expect(lines.filter((line) => line.op === 'skip')).toEqual([expect.objectContaining({ source: `s3://${bucket}/tree/../../escape.txt` })]);
    for (const name of names) expect(await readFile(join(back, name))).toEqual(await readFile(join(tree, name)));
    expect(await readdir(join(folder.path, 'back'))).toEqual(['inside']);
  });

  it('fails with exit 1 and one line naming the object and S3 error code', async () => {
    const ran = await s3tx(['cp', `s3://${bucket}/no/such/key`, 'x.bin']);
    expect(ran.code).toBe(1);
    expect(ran.stderr.trim().split('\n')).toEqual([
      `s3tx: download of s3://${bucket}/no/such/key to x.bin failed: GetObject failed with 404 NoSuchKey: The specified key does not exist.`,
    ]);
    expect(existsSync(join(folder.path, 'x.bin'))).toBe(false);
    const json = await s3tx(['cp', `s3://${bucket}/no/such/key`, 'x.bin', '--json']);
    expect(jsonLines(json.stdout)[0]).toMatchObject({ op: 'download', error: { code: 'AWS_ERROR_S3_INVALID_RESPONSE_STATUS', s3Code: 'NoSuchKey' } });
  });

  it('finds endpoint, region and credentials in a named --profile', async () => {
    await writeFile(
      join(folder.path, 'aws-config'),
      `[profile dev]\nregion = us-east-1\ns3 =\n  endpoint_url = ${server.endpoint}\n  addressing_style = path\n`,
    );
    await writeFile(join(folder.path, 'aws-credentials'), `[dev]\naws_access_key_id = ${ACCESS_KEY}\naws_secret_access_key = ${SECRET_KEY}\n`);
    const bare = {
      PATH: process.env.PATH,
      HOME: folder.path,
      AWS_CONFIG_FILE: join(folder.path, 'aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(folder.path, 'aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    await client.upload({ bucket, key: 'profile/seen.txt', body: Buffer.from('x') });
    const ran = await finish(
      spawn(process.execPath, [CLI, 'ls', `s3://${bucket}/profile/`, '--profile', 'dev'], { env: bare, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toContain('seen.txt');
  });

  it('addresses a named endpoint path style by default and as --force-path-style / --addressing-style say, on the wire', async () => {
    // A host name that is neither an IP address nor localhost, nor AWS's: `s3.test` (a reserved name),
    // which the child resolves to 127.0.0.1 itself.
    const preload = join(folder.path, 'resolve-test-names.cjs');
    await writeFile(
      preload,
      "const dns = require('dns'); const lookup = dns.lookup; dns.lookup = (host, ...rest) => lookup(/\\.test$/i.test(host) ? '127.0.0.1' : host, ...rest);\n",
    );
    const named = `http://s3.test:${new URL(server.endpoint).port}`;
    const virtualProfile = join(folder.path, 'virtual-config');
    await writeFile(virtualProfile, '[default]\ns3 =\n  addressing_style = virtual\n');
    await client.upload({ bucket, key: 'styles/seen.txt', body: Buffer.from('x') });
    const ls = async (args: string[], extra: Record<string, string> = {}) => {
      server.resetRequests();
      const ran = await finish(
        spawn(process.execPath, ['--require', preload, CLI, 'ls', `s3://${bucket}/styles/`, '--endpoint-url', named, ...args], {
          env: { ...env, ...extra },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      const list = server.requests.find((request) => request.query['list-type'] === '2')!;
      return { ran, host: list.headers.host, path: list.path };
    };
    const path = { host: `s3.test:${new URL(server.endpoint).port}`, path: `/${bucket}` };
    for (const [args, extra] of [
      [[], {}],
      [['--force-path-style'], { AWS_CONFIG_FILE: virtualProfile }],
      [['--addressing-style', 'path'], { AWS_CONFIG_FILE: virtualProfile }],
      [['--addressing-style', 'auto'], { AWS_CONFIG_FILE: virtualProfile }],
    ] as Array<[string[], Record<string, string>]>) {
      const seen = await ls(args, extra);
      expect(seen.ran.stdout, args.join(' ')).toContain('seen.txt');
      expect({ host: seen.host, path: seen.path }, args.join(' ')).toEqual(path);
    }
    // Virtual-hosted, as the profile or the flag asks: the bucket moves into the Host (which the local
    // server serves only under `.localhost`, so only the request is looked at).
    for (const [args, extra] of [
      [[], { AWS_CONFIG_FILE: virtualProfile }],
      [['--addressing-style', 'virtual'], {}],
    ] as Array<[string[], Record<string, string>]>) {
      const seen = await ls(args, extra);
      expect({ host: seen.host, path: seen.path }, args.join(' ')).toEqual({ host: `${bucket}.${path.host}`, path: '/' });
    }
  });

  it('warns loudly about --no-verify-ssl', async () => {
    const ran = await s3tx(['ls', `s3://${bucket}/none/`, '--no-verify-ssl']);
    expect(ran.stderr).toMatch(/WARNING: --no-verify-ssl/);
  });
});

describe('sync, ls and rm', () => {
  it('sync sends what differs, and nothing the second time; --delete and --dry-run', async () => {
    const local = join(folder.path, 'sync-src');
    await mkdir(join(local, 'sub'), { recursive: true });
    await writeFile(join(local, 'one.txt'), 'one');
    await writeFile(join(local, 'sub', 'two.txt'), 'two');
    expect((await s3tx(['sync', local, `s3://${bucket}/synced`])).code).toBe(0);
    expect(count('PutObject')).toBe(2);
    server.resetRequests();
    const again = await s3tx(['sync', local, `s3://${bucket}/synced`]);
    expect(again).toMatchObject({ code: 0, stdout: '' });
    expect(count('PutObject')).toBe(0);

    const mirror = join(folder.path, 'sync-back');
    expect((await s3tx(['sync', `s3://${bucket}/synced`, mirror])).code).toBe(0);
    server.resetRequests();
    expect((await s3tx(['sync', `s3://${bucket}/synced`, mirror])).stdout).toBe('');
    expect(count('GetObject')).toBe(0);
    expect(await readFile(join(mirror, 'sub', 'two.txt'), 'utf8')).toBe('two');

    await writeFile(join(local, 'one.txt'), 'changed, longer');
    await (await import('node:fs/promises')).unlink(join(local, 'sub', 'two.txt'));
    const dry = await s3tx(['sync', local, `s3://${bucket}/synced`, '--delete', '--dry-run']);
    expect(dry.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [`(dryrun) delete: s3://${bucket}/synced/sub/two.txt`, `(dryrun) upload: ${join(local, 'one.txt')} to s3://${bucket}/synced/one.txt`].sort(),
    );
    expect(count('PutObject') + count('DeleteObjects')).toBe(0);
    expect((await s3tx(['sync', local, `s3://${bucket}/synced`, '--delete'])).code).toBe(0);
    expect((await objectBytes('synced/one.txt')).toString()).toBe('changed, longer');
    await expect(client.headObject({ bucket, key: 'synced/sub/two.txt' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('ls lists buckets, folders and objects; rm deletes one, or a prefix, or pretends', async () => {
    await client.upload({ bucket, key: 'ls/a.txt', body: Buffer.from('a') });
    await client.upload({ bucket, key: 'ls/deep/b.txt', body: Buffer.from('bb') });
    expect((await s3tx(['ls'])).stdout).toContain(bucket);
    const listing = await s3tx(['ls', `s3://${bucket}/ls/`]);
    expect(listing.stdout).toMatch(/PRE deep\//);
    expect(listing.stdout).toMatch(/\s1 a\.txt/);
    const json = jsonLines((await s3tx(['ls', '-r', `s3://${bucket}/ls/`, '--json'])).stdout);
    expect(json.map((line) => line.key)).toEqual(['ls/a.txt', 'ls/deep/b.txt']);
    const dry = await s3tx(['rm', '-r', `s3://${bucket}/ls/`, '--dry-run']);
    expect(dry.stdout).toContain(`(dryrun) delete: s3://${bucket}/ls/deep/b.txt`);
    expect((await client.headObject({ bucket, key: 'ls/a.txt' })).size).toBe(1);
    expect((await s3tx(['rm', `s3://${bucket}/ls/a.txt`])).code).toBe(0);
    expect((await s3tx(['rm', '-r', `s3://${bucket}/ls/`])).stdout).toContain(`delete: s3://${bucket}/ls/deep/b.txt`);
    expect(jsonLines((await s3tx(['ls', '-r', `s3://${bucket}/ls/`, '--json'])).stdout)).toEqual([]);
  });
});

describe('progress', () => {
  it('draws bytes, percentage, throughput and ETA on a terminal, and nothing when not a terminal', async () => {
    const source = join(folder.path, 'progress.bin');
    await makeFile(source, 24 * MiB);
    // Slow parts keep the transfer going long enough for several redraws.
    for (let part = 1; part <= 3; part++) server.faults.add({ operation: 'UploadPart', partNumber: part, action: { type: 'stall', ms: 100 + part * 150 } });
    const command = [process.execPath, CLI, 'cp', source, `s3://${bucket}/progress.bin`].map((word) => `'${word}'`).join(' ');
    const tty = await finish(spawn('script', ['-qec', command, '/dev/null'], { env, cwd: folder.path, stdio: ['pipe', 'pipe', 'pipe'] }));
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/\d+(\.\d)? MiB \/ 24\.0 MiB \(\d+%\)\s+[\d.]+ (KiB|MiB|GiB)\/s\s+ETA \d+:\d\d/);
    expect(tty.stdout).toContain(`upload: ${source} to s3://${bucket}/progress.bin`);
    const plain = await s3tx(['cp', source, `s3://${bucket}/progress.bin`]);
    expect(plain.stderr).toBe('');
  });
});

describe('resume', () => {
  it('an upload killed halfway is finished by --resume, sending only the missing parts', async () => {
    const source = join(folder.path, 'resume-up.bin');
    await makeFile(source, 40 * MiB);
    // Parts 5 to 8 hang, so the kill comes when exactly half is stored.
    for (let part = 5; part <= 8; part++) server.faults.add({ operation: 'UploadPart', partNumber: part, action: { type: 'stall', ms: 60_000 } });
    const first = start(['cp', source, `s3://${bucket}/resumed.bin`, '--part-size', '5MiB']);
    const firstDone = finish(first);
    await until(() => server.requests.filter((request) => request.operation === 'UploadPart' && request.status === 200).length === 4, 'four stored parts');
    first.kill('SIGKILL');
    await firstDone;
    server.faults.clear();
    server.resetRequests();
    const second = await s3tx(['cp', source, `s3://${bucket}/resumed.bin`, '--part-size', '5MiB', '--resume', '--json']);
    expect(second.code).toBe(0);
    expect(count('CreateMultipartUpload')).toBe(0);
    expect(count('ListParts')).toBe(1);
    expect(
      server.requests
        .filter((request) => request.operation === 'UploadPart')
        .map((request) => request.partNumber)
        .sort(),
    ).toEqual([5, 6, 7, 8]);
    expect(sha256(await objectBytes('resumed.bin'))).toBe(await sha256File(source));
    expect(await readdir(join(folder.path, 'cache', 's3tx', 'uploads'))).toEqual([]);
  });

  it('a download killed halfway is finished by --resume from its partial file, fetching only the missing parts', async () => {
    const source = join(folder.path, 'resume-down.bin');
    await makeFile(source, 40 * MiB);
    await client.upload({ bucket, key: 'to-resume.bin', body: source });
    server.resetRequests();
    for (const start of [25, 30, 35]) server.faults.add({ operation: 'GetObject', range: `bytes=${start * MiB}-`, action: { type: 'stall', ms: 60_000 } });
    const target = join(folder.path, 'resumed-download.bin');
    const first = start(['cp', `s3://${bucket}/to-resume.bin`, target, '--part-size', '5MiB']);
    const firstDone = finish(first);
    await until(() => server.requests.filter((request) => request.operation === 'GetObject' && request.status === 206).length === 5, 'five parts');
    // The state file records a part once it is written: wait for all five.
    const state = `${target}.s3tx-partial.json`;
    await until(() => existsSync(state) && (JSON.parse(readFileSync(state, 'utf8')) as { done: number[] }).done.length === 5, 'the state of five parts', 5000);
    first.kill('SIGKILL');
    await firstDone;
    expect(existsSync(target)).toBe(false);
    server.faults.clear();
    server.resetRequests();
    const second = await s3tx(['cp', `s3://${bucket}/to-resume.bin`, target, '--part-size', '5MiB', '--resume']);
    expect(second.code).toBe(0);
    const ranges = server.requests.filter((request) => request.operation === 'GetObject').map((request) => request.headers.range);
    // The first part again (it names the object and its ETag), then only the three that never arrived.
    expect(ranges.sort()).toEqual(
      [`bytes=0-${5 * MiB - 1}`, `bytes=${25 * MiB}-${30 * MiB - 1}`, `bytes=${30 * MiB}-${35 * MiB - 1}`, `bytes=${35 * MiB}-${40 * MiB - 1}`].sort(),
    );
    expect(await sha256File(target)).toBe(await sha256File(source));
    expect((await readdir(folder.path)).filter((name) => name.includes('s3tx-partial'))).toEqual([]);
    expect((await stat(target)).size).toBe(40 * MiB);
  });
});
