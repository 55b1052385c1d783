/**
 * CA bundles against a real TLS server (the local server with test/fixtures/tls's self-signed
 * certificate): `--ca-bundle`, `AWS_CA_BUNDLE` and the profile's `ca_bundle`, in the AWS CLI's
 * order, through the s3tx command (child processes over dist/) and S3Client.fromEnvironment.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, S3Client, S3RequestTlsMode, S3RequestType, TlsError } from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { runCli, type Ran } from './helpers/cli.js';
import { awsEnvironment, httpRequest, newClient, run } from './helpers/client.js';
import { ACCESS_KEY, SECRET_KEY, tempFolder } from './helpers/servers.js';

const CERT = fileURLToPath(new URL('./fixtures/tls/server.crt', import.meta.url));
const bucket = 'tls-cli';
let server: LocalS3;
let folder: { path: string; remove: () => Promise<void> };

function s3tx(args: string[], extraEnv: Record<string, string> = {}): Promise<Ran> {
  const env = {
    PATH: process.env.PATH,
    HOME: folder.path,
    XDG_CACHE_HOME: join(folder.path, 'cache'),
    ...awsEnvironment(server.endpoint, folder.path),
    ...extraEnv,
  };
  return runCli(args, env, folder.path);
}

/** A config file whose default profile names a CA bundle. */
async function profileWithBundle(path: string): Promise<string> {
  const file = join(folder.path, `config-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, `[default]\nca_bundle = ${path}\n`);
  return file;
}

beforeAll(async () => {
  folder = await tempFolder();
  const cert = readFileSync(CERT);
  const key = readFileSync(new URL('./fixtures/tls/server.key', import.meta.url));
  server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, tls: { cert, key } });
  const client = newClient({ tlsMode: S3RequestTlsMode.ENABLED, tlsConnectionOptions: { ca: cert } });
  try {
    await run(client, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', `/${bucket}`) });
  } finally {
    await client.close();
  }
  await writeFile(join(folder.path, 'hello.txt'), 'hello over TLS\n');
});

afterAll(async () => {
  await server?.close();
  await folder?.remove();
});

describe('s3tx with a CA bundle', () => {
  it('without a bundle, a server whose CA is not trusted fails with the TLS error, and sends nothing', async () => {
    server.resetRequests();
    const ran = await s3tx(['ls', `s3://${bucket}/`]);
    expect(ran.code).toBe(1);
    expect(ran.stderr.trim().split('\n')).toHaveLength(1);
    expect(ran.stderr).toMatch(/^s3tx: AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE: .*certificate/i);
    expect((await s3tx(['cp', 'hello.txt', `s3://${bucket}/refused.txt`])).code).toBe(1);
    expect(server.requests).toEqual([]);
  });

  it('trusts it given by --ca-bundle, AWS_CA_BUNDLE or the profile: cp and ls succeed each way', async () => {
    const ways: Array<[string, string[], Record<string, string>]> = [
      ['flag', ['--ca-bundle', CERT], {}],
      ['env', [], { AWS_CA_BUNDLE: CERT }],
      ['profile', [], { AWS_CONFIG_FILE: await profileWithBundle(CERT) }],
    ];
    for (const [way, args, env] of ways) {
      const cp = await s3tx(['cp', 'hello.txt', `s3://${bucket}/${way}.txt`, '--quiet', ...args], env);
      expect(cp, way).toMatchObject({ code: 0, stderr: '' });
      const ls = await s3tx(['ls', `s3://${bucket}/`, ...args], env);
      expect(ls, way).toMatchObject({ code: 0, stderr: '' });
      expect(ls.stdout, way).toMatch(new RegExp(`\\s15 ${way}\\.txt`));
    }
  });

  it('takes the flag before the environment, and the environment before the profile', async () => {
    const missing = join(folder.path, 'missing.pem');
    // The one that wins is the only one read: the others name a file that is not there.
    const flagWins = await s3tx(['ls', `s3://${bucket}/`, '--ca-bundle', CERT], { AWS_CA_BUNDLE: missing, AWS_CONFIG_FILE: await profileWithBundle(missing) });
    expect(flagWins).toMatchObject({ code: 0, stderr: '' });
    const envWins = await s3tx(['ls', `s3://${bucket}/`], { AWS_CA_BUNDLE: CERT, AWS_CONFIG_FILE: await profileWithBundle(missing) });
    expect(envWins).toMatchObject({ code: 0, stderr: '' });
    const envRead = await s3tx(['ls', `s3://${bucket}/`], { AWS_CA_BUNDLE: missing, AWS_CONFIG_FILE: await profileWithBundle(CERT) });
    expect(envRead.code).toBe(2);
  });

  it('a bundle that is missing or holds no certificate fails at start: exit 2, one line naming the file', async () => {
    const missing = join(folder.path, 'no-such-ca.pem');
    const notPem = join(folder.path, 'not-a-ca.pem');
    await writeFile(notPem, 'just text\n');
    for (const [args, env] of [
      [['--ca-bundle', missing], {}],
      [[], { AWS_CA_BUNDLE: missing }],
      [[], { AWS_CONFIG_FILE: await profileWithBundle(missing) }],
      [['--ca-bundle', notPem], {}],
    ] as Array<[string[], Record<string, string>]>) {
      server.resetRequests();
      const ran = await s3tx(['ls', `s3://${bucket}/`, ...args], env);
      const label = JSON.stringify([args, env]);
      expect(ran.code, label).toBe(2);
      const lines = ran.stderr.trim().split('\n');
      expect(lines, label).toHaveLength(1);
      expect(lines[0], label).toMatch(/^s3tx: caBundle: /);
      expect(lines[0], label).toContain(args[1] ?? missing);
      expect(server.requests, label).toEqual([]);
    }
    const ran = await s3tx(['ls', `s3://${bucket}/`], { AWS_CA_BUNDLE: missing });
    expect(ran.stderr).toMatch(/\(from AWS_CA_BUNDLE\): ENOENT/);
  });

  it("without a bundle, NODE_EXTRA_CA_CERTS still extends Node's default trust", async () => {
    const ran = await s3tx(['ls', `s3://${bucket}/`], { NODE_EXTRA_CA_CERTS: CERT });
    expect(ran).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('S3Client.fromEnvironment with a CA bundle', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['AWS_CA_BUNDLE', 'AWS_CONFIG_FILE', 'AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  function environment(extra: Record<string, string>): void {
    Object.assign(process.env, awsEnvironment(server.endpoint, folder.path), extra);
  }

  it('reads AWS_CA_BUNDLE or the profile once, and trusts it on every connection', async () => {
    for (const extra of [{ AWS_CA_BUNDLE: CERT }, { AWS_CONFIG_FILE: await profileWithBundle(CERT) }] as Array<Record<string, string>>) {
      environment(extra);
      const client = S3Client.fromEnvironment({ maxConnections: 2 });
      try {
        const names = await Promise.all([1, 2, 3].map(() => client.listBuckets()));
        for (const list of names) expect(list.map((entry) => entry.name)).toContain(bucket);
      } finally {
        await client.close();
      }
    }
  });

  it('refuses a bundle it cannot read when the client is created, naming the file; tlsConnectionOptions.ca wins', async () => {
    const missing = join(folder.path, 'gone.pem');
    environment({ AWS_CA_BUNDLE: missing });
    let error: unknown;
    try {
      S3Client.fromEnvironment();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ option: 'caBundle' });
    expect((error as Error).message).toContain(missing);
    expect(() => S3Client.fromEnvironment({ caBundle: missing })).toThrow(missing);

    const explicit = S3Client.fromEnvironment({ tlsConnectionOptions: { ca: readFileSync(CERT) } });
    try {
      expect((await explicit.listBuckets()).map((entry) => entry.name)).toContain(bucket);
    } finally {
      await explicit.close();
    }
    // And without any bundle, the default trust store refuses the self-signed server.
    delete process.env.AWS_CA_BUNDLE;
    const plain = S3Client.fromEnvironment();
    try {
      await expect(plain.listBuckets()).rejects.toBeInstanceOf(TlsError);
    } finally {
      await plain.close();
    }
  });
});
