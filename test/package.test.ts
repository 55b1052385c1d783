import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('the package', () => {
  it('loads from CommonJS with require() (require of ESM, Node 20.19+), every entry point', () => {
    const output = node([
      '-e',
      "const s = require('s3tx'); const c = require('s3tx/checksums'); const l = require('s3tx/local'); console.log([typeof s.S3Client, typeof c.createChecksum, typeof l.startLocalS3].join(' '))",
    ]);
    expect(output.trim().split('\n').pop()).toBe('function function function');
  });

  it('has no side effects at import: it leaves no timer, socket or file handle behind', () => {
    const resources = (load: string) =>
      JSON.parse(
        node([
          '--input-type=module',
          '-e',
          `process.stdout; process.stderr; ${load}; setImmediate(() => console.log(JSON.stringify(process.getActiveResourcesInfo().sort())))`,
        ])
          .trim()
          .split('\n')
          .pop()!,
      ) as string[];
    // Compared with the same process importing nothing, its stdio opened first: those pipes are not ours.
    expect(resources("await import('s3tx')")).toEqual(resources("await import('node:path')"));
  });

  it('never loads undici: every request, a streaming body too, goes over its own connections', () => {
    const loaded = node([
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
      const { startLocalS3 } = await import('s3tx/local');
      const { S3Client, S3ChecksumAlgorithm, AwsCredentialsProvider, createDefaultS3SigningConfig } = await import('s3tx');
      const undici = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('undici'));
      const server = await startLocalS3({ anonymous: true });
      const client = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true,
        signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(server.credentials.accessKeyId, server.credentials.secretAccessKey) }) });
      await fetch(server.endpoint + '/bucket', { method: 'PUT' });
      await client.listBuckets();
      await client.upload({ bucket: 'bucket', key: 'k', body: Buffer.from('x'), checksumAlgorithm: S3ChecksumAlgorithm.CRC32C });
      // A body read from a file streams, with and without a checksum trailer; so does a caller's stream.
      const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
      const { Readable } = await import('node:stream');
      const folder = mkdtempSync((await import('node:os')).tmpdir() + '/s3tx-undici-');
      writeFileSync(folder + '/body', 'x');
      await client.upload({ bucket: 'bucket', key: 'k', body: folder + '/body' });
      await client.upload({ bucket: 'bucket', key: 'k', body: folder + '/body', checksumAlgorithm: S3ChecksumAlgorithm.CRC32C });
      await client.upload({ bucket: 'bucket', key: 'k', body: Readable.from([Buffer.from('y')]) });
      rmSync(folder, { recursive: true });
      console.log(JSON.stringify(undici()));
      await client.close();
      await server.close();`,
    ]);
    expect(JSON.parse(loaded.trim().split('\n').pop()!)).toBe(false);
  });

  it('has no undici among its dependencies: at most a devDependency of the tests and benchmarks', () => {
    const require = createRequire(import.meta.url);
    const manifest = require('../package.json') as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const field of [manifest.dependencies, manifest.peerDependencies, manifest.optionalDependencies])
      expect(Object.keys(field ?? {})).not.toContain('undici');
  });
});
