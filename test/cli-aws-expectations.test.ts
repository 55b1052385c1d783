/**
 * The s3tx command as someone used to `aws s3` meets it: output closed early, keys it must skip,
 * profiles that do not exist. Child processes over dist/, against the local server.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3RequestType } from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { CLI } from './helpers/cli.js';
import { awsEnvironment, httpRequest, newClient, run } from './helpers/client.js';
import { ACCESS_KEY, SECRET_KEY, tempFolder } from './helpers/servers.js';

const bucket = 'aws-habits';
let server: LocalS3;
let folder: { path: string; remove: () => Promise<void> };
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  folder = await tempFolder();
  server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  env = { PATH: process.env.PATH, HOME: folder.path, XDG_CACHE_HOME: `${folder.path}/cache`, ...awsEnvironment(server.endpoint, folder.path) };
  const c = newClient({ endpoint: server.endpoint });
  try {
    await run(c, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', `/${bucket}`) });
    await Promise.all(Array.from({ length: 6000 }, (_, i) => c.upload({ bucket, key: `many/${String(i).padStart(5, '0')}`, body: Buffer.from('x') })));
  } finally {
    await c.close();
  }
});

afterAll(async () => {
  await server?.close();
  await folder?.remove();
});

describe('output closed early', () => {
  it('`s3tx ls ... | head -1` ends quietly with 0, and stops listing', async () => {
    server.resetRequests();
    const child = spawn(process.execPath, [CLI, 'ls', `s3://${bucket}/many/`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // As head does: read the first line, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // 6,000 keys are six pages; a reader gone after the first line needs far fewer (the pipe buffer holds about one).
    expect(server.requests.filter((record) => record.operation === 'ListObjectsV2').length).toBeLessThanOrEqual(3);
  });
});

describe('profiles', () => {
  it('a profile that does not exist is named in one line, exit 2, before anything is sent; one that does is used', async () => {
    const { runCli } = await import('./helpers/cli.js');
    const { writeFile } = await import('node:fs/promises');
    server.resetRequests();
    for (const [args, extra] of [
      [['--profile', 'nope'], {}],
      [[], { AWS_PROFILE: 'nope' }],
    ] as const) {
      const ran = await runCli(['ls', `s3://${bucket}/`, ...args], { ...env, ...extra }, folder.path);
      expect(ran.code).toBe(2);
      expect(ran.stderr.trim().split('\n')).toHaveLength(1);
      expect(ran.stderr).toMatch(/^s3tx: profile: the config profile \(nope\) could not be found in /);
    }
    expect(server.requests).toEqual([]);
    const credentials = `${folder.path}/credentials`;
    await writeFile(credentials, `[team]\naws_access_key_id = ${ACCESS_KEY}\naws_secret_access_key = ${SECRET_KEY}\n`);
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...withoutKeys } = env;
    const ran = await runCli(['ls', `s3://${bucket}/many/`, '--profile', 'team'], { ...withoutKeys, AWS_SHARED_CREDENTIALS_FILE: credentials }, folder.path);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('00000');
  });
});

describe('content types', () => {
  it('are guessed from the file name with mime-types, as aws s3 cp does, unless --no-guess-mime-type', async () => {
    const { runCli } = await import('./helpers/cli.js');
    const { writeFile } = await import('node:fs/promises');
    const names: Array<[string, string]> = [
      ['notes.md', 'text/markdown'],
      ['data.json', 'application/json'],
      ['photo.webp', 'image/webp'],
      ['page.html', 'text/html'],
      ['archive.tar.gz', 'application/gzip'],
      ['no-extension', 'application/octet-stream'],
    ];
    for (const [name, type] of names) {
      await writeFile(`${folder.path}/${name}`, 'x');
      expect(await runCli(['cp', name, `s3://${bucket}/types/${name}`, '--quiet'], env, folder.path), name).toMatchObject({ code: 0 });
      const head = await headOf(`types/${name}`);
      expect(head.contentType, name).toBe(type);
    }
    await runCli(['cp', 'notes.md', `s3://${bucket}/types/plain.md`, '--quiet', '--no-guess-mime-type'], env, folder.path);
    // Left to S3, which answers its default.
    expect((await headOf('types/plain.md')).contentType).toBe('binary/octet-stream');
  });
});

async function headOf(key: string) {
  const c = newClient({ endpoint: server.endpoint });
  try {
    return await c.headObject({ bucket, key });
  } finally {
    await c.close();
  }
}

describe("the AWS CLI's spellings", () => {
  it('--dryrun is --dry-run, --only-show-errors is --quiet, --no-progress is taken', async () => {
    const { runCli } = await import('./helpers/cli.js');
    const { mkdir, writeFile } = await import('node:fs/promises');
    const local = `${folder.path}/spell`;
    await mkdir(local, { recursive: true });
    await writeFile(`${local}/a.txt`, 'a');
    server.resetRequests();
    const dry = await runCli(['sync', local, `s3://${bucket}/spell/`, '--dryrun'], env, folder.path);
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).toMatch(/^\(dryrun\) upload: /m);
    expect(server.requests.filter((record) => record.method === 'PUT')).toEqual([]);
    const quiet = await runCli(['sync', local, `s3://${bucket}/spell/`, '--only-show-errors', '--no-progress'], env, folder.path);
    expect(quiet).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const shown = await runCli(['rm', `s3://${bucket}/spell/a.txt`, '--dryrun', '--no-progress'], env, folder.path);
    expect(shown.stdout).toMatch(/^\(dryrun\) delete: s3:\/\/aws-habits\/spell\/a.txt/m);
  });
});
