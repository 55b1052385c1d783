/**
 * The `aws s3` flags as s3tx takes them: filters, object headers, symlinks, sync's comparisons,
 * listing options, unsigned requests, --expected-size and --debug. The built CLI as a child
 * process against the local server; what it sent is read from the server's request log.
 */
import { mkdir, readFile, readdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { S3Client } from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { CLI, runCli } from './helpers/cli.js';
import { awsEnvironment, createBucket, newClient } from './helpers/client.js';
import { ACCESS_KEY, SECRET_KEY, MiB, tempFolder } from './helpers/servers.js';

const bucket = 'aws-flags';
let server: LocalS3;
let client: S3Client;
let folder: { path: string; remove: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let scratch = 0;

beforeAll(async () => {
  folder = await tempFolder();
  server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  env = { PATH: process.env.PATH, HOME: folder.path, XDG_CACHE_HOME: `${folder.path}/cache`, ...awsEnvironment(server.endpoint, folder.path) };
  await createBucket(server, bucket);
  client = newClient({ endpoint: server.endpoint });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await folder?.remove();
});

beforeEach(() => server.resetRequests());

const s3tx = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { ...env, ...extra }, folder.path);

/** A fresh folder holding `files` (relative path to content), and a fresh prefix for it. */
async function tree(files: Record<string, string>): Promise<{ path: string; prefix: string }> {
  const path = join(folder.path, `tree-${++scratch}`);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(path, name, '..'), { recursive: true });
    await writeFile(join(path, name), content);
  }
  return { path, prefix: `t${scratch}` };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of client.listObjects({ bucket, prefix: `${prefix}/` })) if (entry.kind === 'object') keys.push(entry.key.slice(prefix.length + 1));
  return keys.sort();
}

async function filesUnder(path: string, relative = ''): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(join(path, relative), { withFileTypes: true }).catch(() => [])) {
    const name = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) names.push(...(await filesUnder(path, name)));
    else names.push(name);
  }
  return names.sort();
}

const requestsOf = (operation: string) => server.requests.filter((record) => record.operation === operation);

describe('--exclude and --include', () => {
  const files = { 'a.txt': 'a', 'b.log': 'b', 'sub/c.txt': 'c', 'sub/d.log': 'd', 'sub/deep/e.txt': 'e' };

  it('choose the files of cp -r in the order typed, the last match deciding, * crossing /', async () => {
    const source = await tree(files);
    const cases: Array<[string[], string[]]> = [
      [
        ['--exclude', '*.log'],
        ['a.txt', 'sub/c.txt', 'sub/deep/e.txt'],
      ],
      [
        ['--exclude', '*', '--include', '*.txt'],
        ['a.txt', 'sub/c.txt', 'sub/deep/e.txt'],
      ],
      // Reversed, the exclude comes last and wins for everything.
      [['--include', '*.txt', '--exclude', '*'], []],
      [
        ['--exclude', 'sub/*', '--include', 'sub/deep/*'],
        ['a.txt', 'b.log', 'sub/deep/e.txt'],
      ],
      [
        ['--exclude', '[ab].*'],
        ['sub/c.txt', 'sub/d.log', 'sub/deep/e.txt'],
      ],
      [['--exclude', '[!a]*'], ['a.txt']],
      [
        ['--exclude', '?.txt'],
        ['b.log', 'sub/c.txt', 'sub/d.log', 'sub/deep/e.txt'],
      ],
    ];
    for (const [index, [flags, expected]] of cases.entries()) {
      const prefix = `${source.prefix}-${index}`;
      const ran = await s3tx(['cp', '-r', source.path, `s3://${bucket}/${prefix}`, ...flags]);
      expect(ran.code, `${flags.join(' ')}: ${ran.stderr}`).toBe(0);
      expect(await keysUnder(prefix), flags.join(' ')).toEqual(expected);
    }
  });

  it('choose the objects of cp -r downloads and S3 to S3 copies, by key relative to the prefix', async () => {
    const source = await tree(files);
    expect((await s3tx(['cp', '-r', source.path, `s3://${bucket}/${source.prefix}`])).code).toBe(0);
    const down = join(folder.path, `down-${source.prefix}`);
    const ran = await s3tx(['cp', '-r', `s3://${bucket}/${source.prefix}`, down, '--exclude', '*', '--include', 'sub/*.log']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(await filesUnder(down)).toEqual(['sub/d.log']);
    // Nothing excluded was fetched.
    expect(requestsOf('GetObject').map((record) => record.key)).toEqual([`${source.prefix}/sub/d.log`]);

    const copied = `${source.prefix}-copy`;
    expect((await s3tx(['cp', '-r', `s3://${bucket}/${source.prefix}/`, `s3://${bucket}/${copied}/`, '--exclude', 'sub/*'])).code).toBe(0);
    expect(await keysUnder(copied)).toEqual(['a.txt', 'b.log']);
  });

  it('keep sync --delete from deleting what they leave out of SRC', async () => {
    const source = await tree(files);
    expect((await s3tx(['sync', source.path, `s3://${bucket}/${source.prefix}`])).code).toBe(0);
    const { unlink } = await import('node:fs/promises');
    await unlink(join(source.path, 'b.log'));
    await unlink(join(source.path, 'a.txt'));
    const ran = await s3tx(['sync', source.path, `s3://${bucket}/${source.prefix}`, '--delete', '--exclude', '*.log']);
    expect(ran.code, ran.stderr).toBe(0);
    // a.txt is gone from SRC and deleted; b.log is excluded, so it stays although SRC lost it.
    expect(await keysUnder(source.prefix)).toEqual(['b.log', 'sub/c.txt', 'sub/d.log', 'sub/deep/e.txt']);
  });

  it('choose what rm -r deletes, and are refused without -r or with an empty pattern', async () => {
    const source = await tree(files);
    expect((await s3tx(['cp', '-r', source.path, `s3://${bucket}/${source.prefix}`])).code).toBe(0);
    const ran = await s3tx(['rm', '-r', `s3://${bucket}/${source.prefix}/`, '--exclude', '*', '--include', '*.log']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(await keysUnder(source.prefix)).toEqual(['a.txt', 'sub/c.txt', 'sub/deep/e.txt']);
    expect((await s3tx(['rm', `s3://${bucket}/${source.prefix}/a.txt`, '--exclude', '*'])).code).toBe(2);
    expect((await s3tx(['cp', '-r', source.path, `s3://${bucket}/x`, '--exclude', ''])).stderr).toMatch(/--exclude needs a pattern/);
  });
});

describe('cp --dryrun', () => {
  it('says what would be copied, each way, and sends nothing but listings', async () => {
    const source = await tree({ 'one.txt': '1', 'sub/two.txt': '2' });
    const up = await s3tx(['cp', '-r', source.path, `s3://${bucket}/${source.prefix}`, '--dryrun']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [
        `(dryrun) upload: ${join(source.path, 'one.txt')} to s3://${bucket}/${source.prefix}/one.txt`,
        `(dryrun) upload: ${join(source.path, 'sub', 'two.txt')} to s3://${bucket}/${source.prefix}/sub/two.txt`,
      ].sort(),
    );
    const single = await s3tx(['cp', join(source.path, 'one.txt'), `s3://${bucket}/${source.prefix}/`, '--dryrun']);
    expect(single.stdout).toBe(`(dryrun) upload: ${join(source.path, 'one.txt')} to s3://${bucket}/${source.prefix}/one.txt\n`);
    expect(server.requests).toEqual([]);

    expect((await s3tx(['cp', '-r', source.path, `s3://${bucket}/${source.prefix}`])).code).toBe(0);
    server.resetRequests();
    const target = join(folder.path, `dry-${source.prefix}`);
    const down = await s3tx(['cp', '-r', `s3://${bucket}/${source.prefix}`, target, '--dryrun']);
    expect(down.stdout).toContain(`(dryrun) download: s3://${bucket}/${source.prefix}/sub/two.txt to ${join(target, 'sub', 'two.txt')}`);
    const copy = await s3tx(['cp', `s3://${bucket}/${source.prefix}/one.txt`, `s3://${bucket}/elsewhere`, '--dryrun']);
    expect(copy.stdout).toBe(`(dryrun) copy: s3://${bucket}/${source.prefix}/one.txt to s3://${bucket}/elsewhere\n`);
    expect(server.requests.map((record) => record.operation)).toEqual(['ListObjectsV2']);
    expect(await filesUnder(target)).toEqual([]);
  });
});

describe('object headers', () => {
  it('--acl, --sse, --cache-control, --content-* and --expires are sent with an upload', async () => {
    const source = await tree({ 'page.html': '<p>hi</p>' });
    const ran = await s3tx([
      'cp',
      join(source.path, 'page.html'),
      `s3://${bucket}/${source.prefix}/page.html`,
      '--acl',
      'public-read',
      '--sse',
      '--cache-control',
      'max-age=60',
      '--content-disposition',
      'attachment; filename="p.html"',
      '--content-encoding',
      'identity',
      '--content-language',
      'fr',
      '--expires',
      '2027-01-01T00:00:00Z',
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    const [put] = requestsOf('PutObject');
    expect(put!.headers).toMatchObject({
      'x-amz-acl': 'public-read',
      // --sse alone is AES256, as aws reads it.
      'x-amz-server-side-encryption': 'AES256',
      'cache-control': 'max-age=60',
      'content-disposition': 'attachment; filename="p.html"',
      'content-encoding': 'identity',
      'content-language': 'fr',
      expires: 'Fri, 01 Jan 2027 00:00:00 GMT',
      'content-type': 'text/html',
    });
  });

  it('--sse aws:kms takes --sse-kms-key-id; bad values are refused before anything is sent', async () => {
    const source = await tree({ 'a.bin': 'a' });
    const ran = await s3tx(['cp', join(source.path, 'a.bin'), `s3://${bucket}/${source.prefix}/a.bin`, '--sse', 'aws:kms', '--sse-kms-key-id', 'alias/mine']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(requestsOf('PutObject')[0]!.headers).toMatchObject({
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'alias/mine',
    });
    server.resetRequests();
    for (const [flags, message] of [
      [['--sse', 'DES'], /--sse must be one of AES256, aws:kms, aws:kms:dsse, got "DES"/],
      [['--sse-kms-key-id', 'k'], /--sse-kms-key-id needs --sse aws:kms/],
      [['--expires', 'next tuesday'], /--expires must be a date/],
      [['--metadata-directive', 'KEEP'], /--metadata-directive must be COPY or REPLACE/],
    ] as Array<[string[], RegExp]>) {
      const refused = await s3tx(['cp', join(source.path, 'a.bin'), `s3://${bucket}/${source.prefix}/a.bin`, ...flags]);
      expect(refused.code, flags.join(' ')).toBe(2);
      expect(refused.stderr).toMatch(message);
    }
    expect(server.requests).toEqual([]);
  });

  it('--metadata-directive: COPY keeps the source headers despite --content-type, REPLACE drops them', async () => {
    const key = `md-${++scratch}`;
    await client.upload({ bucket, key, body: Buffer.from('x'), contentType: 'text/plain', metadata: { colour: 'blue' } });
    expect(
      (await s3tx(['cp', `s3://${bucket}/${key}`, `s3://${bucket}/${key}-copy`, '--content-type', 'image/png', '--metadata-directive', 'COPY'])).code,
    ).toBe(0);
    expect(requestsOf('CopyObject')[0]!.headers['x-amz-metadata-directive']).toBe('COPY');
    expect(await client.headObject({ bucket, key: `${key}-copy` })).toMatchObject({ contentType: 'text/plain', metadata: { colour: 'blue' } });
    expect((await s3tx(['cp', `s3://${bucket}/${key}`, `s3://${bucket}/${key}-replaced`, '--metadata-directive', 'REPLACE'])).code).toBe(0);
    const replaced = await client.headObject({ bucket, key: `${key}-replaced` });
    expect(replaced.metadata).toEqual({});
  });
});

describe('symbolic links', () => {
  it('are followed by default, a loop and a dangling link skipped with a warning and exit 2; --no-follow-symlinks leaves them out', async () => {
    const outside = await tree({ 'linked.txt': 'through a link', 'far/deep.txt': 'deep' });
    const source = await tree({ 'plain.txt': 'plain' });
    await symlink(join(outside.path, 'linked.txt'), join(source.path, 'file-link'));
    await symlink(join(outside.path, 'far'), join(source.path, 'folder-link'));
    await symlink(source.path, join(source.path, 'loop'));
    await symlink(join(source.path, 'nothing-here'), join(source.path, 'dangling'));

    const followed = await s3tx(['cp', '-r', source.path, `s3://${bucket}/${source.prefix}`]);
    expect(followed.code).toBe(2);
    expect(followed.stderr).toContain(`warning: skipping ${join(source.path, 'loop')}: the link leads back to a folder that holds it`);
    expect(followed.stderr).toContain(`warning: skipping ${join(source.path, 'dangling')}: the link points to nothing`);
    expect(await keysUnder(source.prefix)).toEqual(['file-link', 'folder-link/deep.txt', 'plain.txt']);
    const linked = await client.download({ bucket, key: `${source.prefix}/file-link`, to: join(folder.path, `linked-${scratch}`) });
    expect(linked.bytes).toBe('through a link'.length);

    const prefix = `${source.prefix}-nofollow`;
    const plain = await s3tx(['cp', '-r', source.path, `s3://${bucket}/${prefix}`, '--no-follow-symlinks']);
    expect(plain, plain.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(await keysUnder(prefix)).toEqual(['plain.txt']);

    // sync walks the same way.
    const synced = await s3tx(['sync', source.path, `s3://${bucket}/${source.prefix}-sync`]);
    expect(synced.code).toBe(2);
    expect(await keysUnder(`${source.prefix}-sync`)).toEqual(['file-link', 'folder-link/deep.txt', 'plain.txt']);
    expect((await s3tx(['cp', '-r', source.path, `s3://${bucket}/x`, '--follow-symlinks', '--no-follow-symlinks'])).code).toBe(2);
  });
});

describe('sync comparisons', () => {
  it('download: same size is fetched only when the local file is newer, or with --exact-timestamps when times differ; --size-only ignores times', async () => {
    const source = await tree({ 'f.txt': 'same' });
    expect((await s3tx(['sync', source.path, `s3://${bucket}/${source.prefix}`])).code).toBe(0);
    const local = join(folder.path, `mirror-${source.prefix}`);
    const first = await s3tx(['sync', `s3://${bucket}/${source.prefix}`, local]);
    expect(first.code, first.stderr).toBe(0);
    const file = join(local, 'f.txt');
    const objectTime = (await client.headObject({ bucket, key: `${source.prefix}/f.txt` })).lastModified!;
    const fetches = async (flags: string[] = []) => {
      server.resetRequests();
      const ran = await s3tx(['sync', `s3://${bucket}/${source.prefix}`, local, ...flags]);
      expect(ran.code, ran.stderr).toBe(0);
      return requestsOf('GetObject').length;
    };
    // Older than the object, same size: aws leaves it, and so does s3tx, unless --exact-timestamps.
    await utimes(file, new Date(objectTime.getTime() - 3600_000), new Date(objectTime.getTime() - 3600_000));
    expect(await fetches()).toBe(0);
    expect(await fetches(['--exact-timestamps'])).toBe(1);
    // The download set the object's time: nothing to do now, even with --exact-timestamps.
    expect(await fetches(['--exact-timestamps'])).toBe(0);
    // Newer than the object: fetched again, unless --size-only.
    await utimes(file, new Date(objectTime.getTime() + 3600_000), new Date(objectTime.getTime() + 3600_000));
    expect(await fetches(['--size-only'])).toBe(0);
    expect(await fetches()).toBe(1);
    expect(await readFile(file, 'utf8')).toBe('same');
    expect((await s3tx(['sync', source.path, `s3://${bucket}/${source.prefix}`, '--exact-timestamps'])).code).toBe(2);
  });

  it('upload: same size is sent when the file is newer than the object, never with --size-only', async () => {
    const source = await tree({ 'f.txt': 'same' });
    expect((await s3tx(['sync', source.path, `s3://${bucket}/${source.prefix}`])).code).toBe(0);
    const future = new Date(Date.now() + 3600_000);
    await utimes(join(source.path, 'f.txt'), future, future);
    server.resetRequests();
    expect((await s3tx(['sync', source.path, `s3://${bucket}/${source.prefix}`, '--size-only'])).code).toBe(0);
    expect(requestsOf('PutObject')).toHaveLength(0);
    expect((await s3tx(['sync', source.path, `s3://${bucket}/${source.prefix}`])).code).toBe(0);
    expect(requestsOf('PutObject')).toHaveLength(1);
  });
});

describe('ls', () => {
  it('--human-readable and --summarize print sizes as aws does; --page-size sets max-keys', async () => {
    const prefix = `ls-${++scratch}`;
    await client.upload({ bucket, key: `${prefix}/one`, body: Buffer.alloc(1) });
    await client.upload({ bucket, key: `${prefix}/small`, body: Buffer.alloc(1280) });
    await client.upload({ bucket, key: `${prefix}/big`, body: Buffer.alloc(3 * MiB + 512 * 1024) });
    const ran = await s3tx(['ls', `s3://${bucket}/${prefix}/`, '--human-readable', '--summarize', '--page-size', '2']);
    expect(ran.code, ran.stderr).toBe(0);
    const lines = ran.stdout.split('\n');
    expect(lines.slice(0, 3).map((line) => line.slice(20))).toEqual(['   3.5 MiB big', '    1 Byte one', '   1.2 KiB small']);
    expect(lines.slice(3).join('\n')).toBe(`\nTotal Objects: 3\n   Total Size: 3.5 MiB\n`);
    const pages = requestsOf('ListObjectsV2');
    expect(pages).toHaveLength(2);
    expect(pages.every((record) => record.query['max-keys'] === '2')).toBe(true);
    for (const size of ['0', '1001', 'ten']) expect((await s3tx(['ls', `s3://${bucket}/`, '--page-size', size])).code).toBe(2);
  });
});

describe('--no-sign-request', () => {
  it('sends requests unsigned and looks up no credentials', async () => {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...bare } = env;
    const ran = await runCli(['ls', `s3://${bucket}/`, '--no-sign-request'], bare, folder.path);
    // The server wants a signature: the refusal is its answer to an unsigned request, not a missing-credentials error.
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/AccessDenied/);
    const [listed] = requestsOf('ListObjectsV2');
    expect(listed).toBeDefined();
    expect(listed!.signer).toBeNull();
    expect(Object.keys(listed!.headers).filter((name) => name.startsWith('x-amz-date') || name === 'x-amz-content-sha256')).toEqual([]);
  });
});

describe('--expected-size', () => {
  it('grows the parts of a stdin upload so that the expected size fits in 10,000', async () => {
    const key = `stdin-${++scratch}`;
    const body = Buffer.alloc(12 * MiB, 7);
    const child = spawn(process.execPath, [CLI, 'cp', '-', `s3://${bucket}/${key}`, '--part-size', '5MiB', '--expected-size', '100GiB'], {
      env,
      cwd: folder.path,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(body);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, stderr).toBe(0);
    // 100 GiB in 10,000 parts needs 10.24 MiB each: 11 MiB, the next whole MiB.
    expect(requestsOf('UploadPart').map((record) => record.bytesIn - (record.bytesIn % MiB))).toEqual([11 * MiB, MiB]);
    expect((await s3tx(['cp', join(folder.path), `s3://${bucket}/x`, '--expected-size', '1GB'])).stderr).toMatch(/--expected-size is for uploads from stdin/);
  });
});

describe('--debug', () => {
  it('prints each request with its status and time on stderr, and no secret', async () => {
    const source = await tree({ 'a.txt': 'a' });
    const ran = await s3tx(['cp', '-r', source.path, `s3://${bucket}/${source.prefix}`, '--debug']);
    expect(ran.code).toBe(0);
    const lines = ran.stderr.split('\n').filter((line) => line.startsWith('s3tx debug: '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^s3tx debug: PutObject PUT ${server.endpoint.replace(/\/$/, '')}/${bucket}/${source.prefix}/a.txt -> 200 in \\d+\\.\\d ms$`),
    );
    server.faults.add({ operation: 'GetObject', action: { type: 'error', status: 503, code: 'SlowDown' }, times: 1 });
    const fetched = await s3tx(['cp', `s3://${bucket}/${source.prefix}/a.txt`, join(folder.path, `debug-${scratch}`), '--debug']);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stderr).toMatch(/GetObject GET \S+ -> 503 SlowDown in [\d.]+ ms\n/);
    expect(fetched.stderr).toMatch(/GetObject GET \S+ -> 20\d in [\d.]+ ms \(retry 1\)\n/);
    for (const secret of [SECRET_KEY, 'AWS4-HMAC-SHA256', 'Signature', 'x-amz-date']) expect(ran.stderr + fetched.stderr).not.toContain(secret);
  });
});
