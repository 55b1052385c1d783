/**
 * Downloads into folders that other users can write to: every file s3tx makes there (temporary,
 * partial, state, checkpoint) is created exclusively and never written through a link planted
 * under its name, and a folder transfer never leaves its destination through a planted link.
 */
import { createHash } from 'node:crypto';
import { link, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsCredentialsProvider, S3Client, S3RequestType, UnsafePathError, createDefaultS3SigningConfig } from '../../src/index.js';
import { startLocalS3, type LocalS3 } from '../../src/local/index.js';
import { runCli, type Ran } from '../helpers/cli.js';
import { awsEnvironment, httpRequest, run } from '../helpers/client.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, sha256, tempFolder } from '../helpers/servers.js';

const bucket = 'planted';
const data = makeBuffer(11 * MiB + 7);
const VICTIM_TEXT = 'the victim file, which no download may touch\n';
let server: LocalS3;
let client: S3Client;
let folder: { path: string; remove: () => Promise<void> };
let n = 0;

beforeAll(async () => {
  server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  client = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    partSize: 5 * MiB,
    signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS_KEY, SECRET_KEY) }),
  });
  folder = await tempFolder();
  const created = await run(client, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', `/${bucket}`) });
  expect(created.error).toBeNull();
  await client.upload({ bucket, key: 'object.bin', body: data });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await folder?.remove();
});

/** A fresh folder for one test, with a victim file outside the download's reach. */
async function scene(): Promise<{ dir: string; victim: string }> {
  const dir = join(folder.path, `scene-${++n}`);
  await mkdir(dir);
  const victim = join(dir, 'victim.txt');
  await writeFile(victim, VICTIM_TEXT);
  return { dir, victim };
}

async function victimUntouched(victim: string): Promise<void> {
  expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
}

function s3tx(args: string[], cwd: string): Promise<Ran> {
  const env = { PATH: process.env.PATH, HOME: cwd, XDG_CACHE_HOME: join(cwd, 'cache'), ...awsEnvironment(server.endpoint, cwd) };
  return runCli([...args, '--quiet'], env, cwd);
}

describe('a resumable download never writes through a planted name', () => {
  it('a symbolic link as <to>.s3tx-partial is refused with an UnsafePathError naming it, and its target is untouched', async () => {
    const { dir, victim } = await scene();
    const to = join(dir, 'copy.bin');
    await symlink(victim, `${to}.s3tx-partial`);
    const error = await client.download({ bucket, key: 'object.bin', to, resumable: true }).catch((caught: unknown) => caught);
    await victimUntouched(victim);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as UnsafePathError).code).toBe('ERR_S3TX_UNSAFE_PATH');
    expect((error as UnsafePathError).path).toBe(`${to}.s3tx-partial`);
    expect((error as Error).message).toContain('symbolic link');
    expect((await lstat(`${to}.s3tx-partial`)).isSymbolicLink()).toBe(true);
    expect(await readdir(dir)).not.toContain('copy.bin');
  });

  it('a hard link to another file as <to>.s3tx-partial is refused, and that file keeps its bytes', async () => {
    const { dir, victim } = await scene();
    const to = join(dir, 'copy.bin');
    await link(victim, `${to}.s3tx-partial`);
    const error = await client.download({ bucket, key: 'object.bin', to, resumable: true }).catch((caught: unknown) => caught);
    await victimUntouched(victim);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as Error).message).toContain('hard links');
  });

  it('a folder as <to>.s3tx-partial is refused', async () => {
    const { dir } = await scene();
    const to = join(dir, 'copy.bin');
    await mkdir(`${to}.s3tx-partial`);
    const error = await client.download({ bucket, key: 'object.bin', to, resumable: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnsafePathError);
  });

  it('a symbolic link as the state file is refused before any part is fetched', async () => {
    const { dir, victim } = await scene();
    const to = join(dir, 'copy.bin');
    await writeFile(`${to}.s3tx-partial`, 'earlier bytes');
    await symlink(victim, `${to}.s3tx-partial.json`);
    server.resetRequests();
    const error = await client.download({ bucket, key: 'object.bin', to, resumable: true }).catch((caught: unknown) => caught);
    await victimUntouched(victim);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as UnsafePathError).path).toBe(`${to}.s3tx-partial.json`);
    expect(server.requests.filter((request) => request.operation === 'GetObject')).toEqual([]);
  });

  it('a symbolic link at <to>.s3tx-partial.json.tmp (the old fixed name of the state being written) is left alone', async () => {
    const { dir, victim } = await scene();
    const to = join(dir, 'copy.bin');
    await symlink(victim, `${to}.s3tx-partial.json.tmp`);
    await client.download({ bucket, key: 'object.bin', to, resumable: true });
    await victimUntouched(victim);
    expect(sha256(await readFile(to))).toBe(sha256(data));
  });

  it('a state file that is not one s3tx wrote starts the download over, and the result is byte-exact', async () => {
    const { dir } = await scene();
    const to = join(dir, 'copy.bin');
    await writeFile(`${to}.s3tx-partial`, Buffer.alloc(data.length));
    await writeFile(`${to}.s3tx-partial.json`, JSON.stringify({ etag: 1, size: 'x', done: [0, 1, 2] }));
    await client.download({ bucket, key: 'object.bin', to, resumable: true });
    expect(sha256(await readFile(to))).toBe(sha256(data));
  });

  it('`s3tx cp s3://b/k FILE` with a link at FILE.s3tx-partial.json.tmp downloads and leaves the link target alone', async () => {
    const { dir, victim } = await scene();
    const to = join(dir, 'cli-copy.bin');
    await symlink(victim, `${to}.s3tx-partial.json.tmp`);
    const ran = await s3tx(['cp', `s3://${bucket}/object.bin`, to], dir);
    await victimUntouched(victim);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(sha256(await readFile(to))).toBe(sha256(data));
  });

  it('a link planted under the target name itself is replaced by the download, not written through', async () => {
    const { dir, victim } = await scene();
    const to = join(dir, 'copy.bin');
    await symlink(victim, to);
    await client.download({ bucket, key: 'object.bin', to });
    expect((await lstat(to)).isFile()).toBe(true);
    expect(sha256(await readFile(to))).toBe(sha256(data));
    await victimUntouched(victim);
  });
});

describe("an upload's checkpoint is never written through a planted name", () => {
  it('a link at the checkpoint\'s old fixed temporary name keeps its target unchanged while `s3tx cp` uploads', async () => {
    const { dir, victim } = await scene();
    const source = join(dir, 'big.bin');
    await writeFile(source, data);
    const info = await stat(source);
    // The checkpoint's name, as the CLI derives it (source, size, mtime, endpoint, bucket, key).
    const id = createHash('sha256')
      .update(JSON.stringify([resolve(source), info.size, info.mtimeMs, new URL(server.endpoint).href, bucket, 'uploaded.bin']))
      .digest('hex');
    const checkpoints = join(dir, 'cache', 's3tx', 'uploads');
    await mkdir(checkpoints, { recursive: true, mode: 0o700 });
    await symlink(victim, join(checkpoints, `${id}.json.tmp`));
    const ran = await s3tx(['cp', source, `s3://${bucket}/uploaded.bin`, '--part-size', '5MiB'], dir);
    await victimUntouched(victim);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
  });
});

describe('downloadDirectory stays inside its destination', () => {
  beforeAll(async () => {
    for (const key of ['pfx/link/pwned', 'pfx/link/deeper/pwned', 'pfx/inside-link/ok', 'pfx/plain/ok']) await client.upload({ bucket, key, body: Buffer.from(key) });
  });

  it('a key whose folder is a planted link to elsewhere is skipped, and nothing is made or written there', async () => {
    const { dir } = await scene();
    const elsewhere = join(dir, 'elsewhere');
    const dest = join(dir, 'dest');
    await mkdir(elsewhere);
    await mkdir(join(dest, 'real'), { recursive: true });
    await symlink(elsewhere, join(dest, 'link'));
    // A link that stays inside the destination is no escape.
    await symlink(join(dest, 'real'), join(dest, 'inside-link'));
    const result = await client.downloadDirectory(`s3://${bucket}/pfx/`, dest);
    expect(await readdir(elsewhere)).toEqual([]);
    expect(result.skipped.map((skip) => skip.key).sort()).toEqual(['pfx/link/deeper/pwned', 'pfx/link/pwned']);
    expect(result.skipped[0]!.reason).toMatch(/outside the target folder/);
    expect(result.failed).toEqual([]);
    expect(await readFile(join(dest, 'real', 'ok'), 'utf8')).toBe('pfx/inside-link/ok');
    expect(await readFile(join(dest, 'plain', 'ok'), 'utf8')).toBe('pfx/plain/ok');
  });

  it('a file where a key needs a folder fails that key (listed in failed, others written), in downloadDirectory and sync', async () => {
    const { dir } = await scene();
    const dest = join(dir, 'dest');
    await mkdir(dest);
    await writeFile(join(dest, 'link'), 'a file, not a folder');
    const result = await client.downloadDirectory(`s3://${bucket}/pfx/`, dest);
    expect(result.failed.map((failure) => failure.key).sort()).toEqual(['pfx/link/deeper/pwned', 'pfx/link/pwned']);
    expect(await readFile(join(dest, 'plain', 'ok'), 'utf8')).toBe('pfx/plain/ok');
    const ran = await s3tx(['sync', `s3://${bucket}/pfx/`, join(dir, 'dest')], dir);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('pfx/link/pwned');
  });

  it('`s3tx sync` to a folder with a planted link skips the key and writes nothing outside', async () => {
    const { dir } = await scene();
    const elsewhere = join(dir, 'elsewhere');
    const dest = join(dir, 'dest');
    await mkdir(elsewhere);
    await mkdir(dest);
    await symlink(elsewhere, join(dest, 'link'));
    const ran = await s3tx(['sync', `s3://${bucket}/pfx/`, dest], dir);
    expect(await readdir(elsewhere)).toEqual([]);
    expect(await readFile(join(dest, 'plain', 'ok'), 'utf8')).toBe('pfx/plain/ok');
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/^warning: skipping s3:\/\/.*link.*: not written/m);
  });
});
