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

  it('loads undici only with the first request whose body streams', () => {
    const loaded = node([
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
      const { startLocalS3 } = await import('s3tx/local');
      const { S3Client, S3ChecksumAlgorithm, AwsCredentialsProvider, createDefaultS3SigningConfig } = await import('s3tx');
      const undici = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('undici'));
      const server = await startLocalS3({ anonymous: true });
      const atImport = undici();
      const client = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true,
        signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(server.credentials.accessKeyId, server.credentials.secretAccessKey) }) });
      await fetch(server.endpoint + '/bucket', { method: 'PUT' });
      await client.listBuckets();
      const afterHead = undici();
      await client.upload({ bucket: 'bucket', key: 'k', body: Buffer.from('x') });
      const afterBuffer = undici();
      // A checksum in a trailer makes the body aws-chunked, its framing written around the buffer.
      await client.upload({ bucket: 'bucket', key: 'k', body: Buffer.from('x'), checksumAlgorithm: S3ChecksumAlgorithm.CRC32C });
      const afterTrailer = undici();
      // A body read from a file streams.
      const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
      const folder = mkdtempSync((await import('node:os')).tmpdir() + '/s3tx-undici-');
      writeFileSync(folder + '/body', 'x');
      await client.upload({ bucket: 'bucket', key: 'k', body: folder + '/body' });
      rmSync(folder, { recursive: true });
      console.log(JSON.stringify([atImport, afterHead, afterBuffer, afterTrailer, undici()]));
      await client.close();
      await server.close();`,
    ]);
    expect(JSON.parse(loaded.trim().split('\n').pop()!)).toEqual([false, false, false, false, true]);
  });

  it("reaches undici's Pool through the module path its pinned version range keeps", async () => {
    // s3tx loads lib/dispatcher/pool.js rather than undici's root, which brings fetch, WebSocket, cache and mocks.
    // When a new undici moves that file, this fails before any user sees it.
    const { default: Pool } = (await import('undici/lib/dispatcher/pool.js')) as { default: unknown };
    const undici = await import('undici');
    expect(Pool).toBe(undici.Pool);
    const require = createRequire(import.meta.url);
    const range = (require('../package.json') as { dependencies: Record<string, string> }).dependencies.undici!;
    const installed = (require('undici/package.json') as { version: string }).version;
    expect(range).toMatch(/^~\d+\.\d+\.\d+$/);
    expect(installed.split('.').slice(0, 2)).toEqual(range.slice(1).split('.').slice(0, 2));
  });
});
