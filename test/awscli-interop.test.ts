/**
 * The local server driven by AWS CLI v2 (Debian's awscli, /usr/bin/aws, which
 * scripts/setup-test-tools.sh installs), a client no one here wrote, as a user runs it: a child
 * process with its own HOME, no profile, and --endpoint-url. What it reads back (tags it copies,
 * encryption it reports, storage classes it acts on) is the proof that the server answers as S3.
 * Always /usr/bin/aws: another `aws` on PATH (a pyenv shim, AWS CLI v1) is not the one meant.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { MiB, makeFile, sha256File, tempFolder } from './helpers/servers.js';

const AWS = '/usr/bin/aws';
const present = existsSync(AWS);
if (!present) console.warn(`awscli-interop: skipped, ${AWS} is absent (bash scripts/setup-test-tools.sh installs Debian's awscli)`);

const BUCKET = 'cli-interop';
const CREDENTIALS = { accessKeyId: 'AKIDAWSCLIINTEROP', secretAccessKey: 'aws-cli-interop-secret-key' };

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.skipIf(!present)('AWS CLI v2 against the local server', () => {
  let server: LocalS3;
  let folder: { path: string; remove: () => Promise<void> };
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    folder = await tempFolder();
    server = await startLocalS3({ credentials: CREDENTIALS });
    env = {
      PATH: '/usr/bin:/bin',
      HOME: folder.path,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      // No profile of this machine's user may change what the CLI does.
      AWS_CONFIG_FILE: join(folder.path, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(folder.path, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    };
    expect(await aws(['s3', 'mb', `s3://${BUCKET}`])).toMatchObject({ code: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await folder?.remove();
  });

  /** Runs `aws ARGS --endpoint-url ...` with exactly `env`, collecting what it prints. */
  function aws(args: string[]): Promise<Ran> {
    const child = spawn(AWS, [...args, '--endpoint-url', server.endpoint, '--output', 'json'], { env, cwd: folder.path, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Runs an `aws s3api` command that must succeed, and parses the JSON it prints. */
  async function s3api(args: string[]): Promise<Record<string, unknown>> {
    const ran = await aws(['s3api', ...args]);
    expect(ran, args.join(' ')).toMatchObject({ code: 0 });
    return ran.stdout.trim() ? (JSON.parse(ran.stdout) as Record<string, unknown>) : {};
  }

  const operations = () => server.requests.map((record) => `${record.operation} ${record.status}`);

  it('copies a 20 MiB object S3 to S3 by multipart copy, carrying its tags over', { timeout: 60_000 }, async () => {
    const file = join(folder.path, 'source.bin');
    await makeFile(file, 20 * MiB);
    expect(await aws(['s3', 'cp', file, `s3://${BUCKET}/copy/source.bin`, '--only-show-errors'])).toMatchObject({ code: 0, stderr: '' });
    await s3api(['put-object-tagging', '--bucket', BUCKET, '--key', 'copy/source.bin', '--tagging', 'TagSet=[{Key=team,Value=storage},{Key=tier,Value=gold}]']);

    server.resetRequests();
    expect(await aws(['s3', 'cp', `s3://${BUCKET}/copy/source.bin`, `s3://${BUCKET}/copy/target.bin`, '--only-show-errors'])).toMatchObject({
      code: 0,
      stderr: '',
    });
    const seen = operations();
    // CLI v2 reads the source's tags to copy them, and copies 20 MiB in parts.
    expect(seen).toContain('GetObjectTagging 200');
    expect(seen).toContain('CreateMultipartUpload 200');
    expect(seen.filter((entry) => entry === 'UploadPartCopy 200').length).toBeGreaterThan(1);
    expect(seen).toContain('CompleteMultipartUpload 200');
    expect(seen.filter((entry) => !entry.endsWith(' 200'))).toEqual([]);

    const tags = await s3api(['get-object-tagging', '--bucket', BUCKET, '--key', 'copy/target.bin']);
    expect(tags.TagSet).toEqual([
      { Key: 'team', Value: 'storage' },
      { Key: 'tier', Value: 'gold' },
    ]);
    const back = join(folder.path, 'target.bin');
    expect(await aws(['s3', 'cp', `s3://${BUCKET}/copy/target.bin`, back, '--only-show-errors'])).toMatchObject({ code: 0 });
    expect(await sha256File(back)).toBe(await sha256File(file));
  });

  it('puts, gets and replaces tags with s3api, and refuses what S3 refuses', { timeout: 60_000 }, async () => {
    await s3api(['put-object', '--bucket', BUCKET, '--key', 'tags/object', '--tagging', 'a=1&b=two%20words']);
    expect((await s3api(['get-object-tagging', '--bucket', BUCKET, '--key', 'tags/object'])).TagSet).toEqual([
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: 'two words' },
    ]);
    await s3api(['put-object-tagging', '--bucket', BUCKET, '--key', 'tags/object', '--tagging', 'TagSet=[{Key=only,Value=this}]']);
    expect((await s3api(['get-object-tagging', '--bucket', BUCKET, '--key', 'tags/object'])).TagSet).toEqual([{ Key: 'only', Value: 'this' }]);
    const eleven = Array.from({ length: 11 }, (_, i) => `{Key=k${i},Value=v}`).join(',');
    const refused = await aws(['s3api', 'put-object-tagging', '--bucket', BUCKET, '--key', 'tags/object', '--tagging', `TagSet=[${eleven}]`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('(BadRequest)');
    expect(refused.stderr).toContain('Object tags cannot be greater than 10');
  });

  it('stores with --sse AES256 and --sse aws:kms, and head-object reports it', { timeout: 60_000 }, async () => {
    const file = join(folder.path, 'small.txt');
    await writeFile(file, 'encrypted at rest\n');
    server.resetRequests();
    expect(await aws(['s3', 'cp', file, `s3://${BUCKET}/sse/s3.txt`, '--sse', 'AES256', '--only-show-errors'])).toMatchObject({ code: 0 });
    expect(server.requests.find((record) => record.operation === 'PutObject')?.headers['x-amz-server-side-encryption']).toBe('AES256');
    expect((await s3api(['head-object', '--bucket', BUCKET, '--key', 'sse/s3.txt'])).ServerSideEncryption).toBe('AES256');

    expect(await aws(['s3', 'cp', file, `s3://${BUCKET}/sse/kms.txt`, '--sse', 'aws:kms', '--only-show-errors'])).toMatchObject({ code: 0 });
    const head = await s3api(['head-object', '--bucket', BUCKET, '--key', 'sse/kms.txt']);
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\//);
  });

  it('stores with --storage-class, which list-objects-v2 and aws s3 ls reflect, and skips an archived object on download', { timeout: 60_000 }, async () => {
    const file = join(folder.path, 'classy.txt');
    await writeFile(file, 'not read often\n');
    expect(await aws(['s3', 'cp', file, `s3://${BUCKET}/class/ia.txt`, '--storage-class', 'STANDARD_IA', '--only-show-errors'])).toMatchObject({ code: 0 });
    expect(await aws(['s3', 'cp', file, `s3://${BUCKET}/class/cold.txt`, '--storage-class', 'GLACIER', '--only-show-errors'])).toMatchObject({ code: 0 });
    expect(await aws(['s3', 'cp', file, `s3://${BUCKET}/class/plain.txt`, '--only-show-errors'])).toMatchObject({ code: 0 });
    const listed = await s3api(['list-objects-v2', '--bucket', BUCKET, '--prefix', 'class/']);
    expect((listed.Contents as Array<{ Key: string; StorageClass: string }>).map((entry) => [entry.Key, entry.StorageClass])).toEqual([
      ['class/cold.txt', 'GLACIER'],
      ['class/ia.txt', 'STANDARD_IA'],
      ['class/plain.txt', 'STANDARD'],
    ]);
    const ls = await aws(['s3', 'ls', `s3://${BUCKET}/class/`]);
    expect(ls.code).toBe(0);
    expect(
      ls.stdout
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/).slice(2)),
    ).toEqual([
      ['15', 'cold.txt'],
      ['15', 'ia.txt'],
      ['15', 'plain.txt'],
    ]);
    // The CLI acts on the class the listing names: it will not try to download a GLACIER object.
    const down = await aws(['s3', 'cp', `s3://${BUCKET}/class/`, join(folder.path, 'class-down'), '--recursive', '--only-show-errors']);
    expect(down.stderr).toMatch(/Skipping file s3:\/\/cli-interop\/class\/cold\.txt\. Object is of storage class GLACIER/);
    expect(await readFile(join(folder.path, 'class-down', 'ia.txt'), 'utf8')).toBe('not read often\n');
    expect(existsSync(join(folder.path, 'class-down', 'cold.txt'))).toBe(false);
  });

  it('round-trips a 20 MiB object under an SSE-C key, which a GET without it cannot read and the log never keeps', { timeout: 60_000 }, async () => {
    const file = join(folder.path, 'secret.bin');
    await makeFile(file, 20 * MiB);
    // The CLI takes the key as 32 bytes of text, and sends their base64 and MD5.
    const key = randomBytes(16).toString('hex');
    const sent = Buffer.from(key).toString('base64');
    server.resetRequests();
    const up = await aws(['s3', 'cp', file, `s3://${BUCKET}/ssec/secret.bin`, '--sse-c', 'AES256', '--sse-c-key', key, '--only-show-errors']);
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect(operations().filter((entry) => entry === 'UploadPart 200').length).toBeGreaterThan(1);

    const head = await s3api(['head-object', '--bucket', BUCKET, '--key', 'ssec/secret.bin', '--sse-customer-algorithm', 'AES256', '--sse-customer-key', key]);
    expect(head.SSECustomerAlgorithm).toBe('AES256');
    expect(head.SSECustomerKeyMD5).toBe(createHash('md5').update(key).digest('base64'));
    const back = join(folder.path, 'secret.back');
    expect(await aws(['s3', 'cp', `s3://${BUCKET}/ssec/secret.bin`, back, '--sse-c', 'AES256', '--sse-c-key', key, '--only-show-errors'])).toMatchObject({
      code: 0,
    });
    expect(await sha256File(back)).toBe(await sha256File(file));

    const without = await aws(['s3api', 'get-object', '--bucket', BUCKET, '--key', 'ssec/secret.bin', join(folder.path, 'no-key.bin')]);
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain('(InvalidRequest)');
    expect(without.stderr).toContain('The object was stored using a form of Server Side Encryption');
    const otherKey = randomBytes(16).toString('hex');
    const wrong = await aws(['s3', 'cp', `s3://${BUCKET}/ssec/secret.bin`, join(folder.path, 'wrong.bin'), '--sse-c', 'AES256', '--sse-c-key', otherKey]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/\(403\)|Forbidden/);

    const log = JSON.stringify(server.requests);
    for (const secret of [key, sent, otherKey, Buffer.from(otherKey).toString('base64')]) expect(log).not.toContain(secret);
  });
});
