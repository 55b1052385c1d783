import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { useLocalFixture } from './helpers/fixture.js';
import { S3ChecksumAlgorithm } from '../src/index.js';
import { createChecksum } from '../src/checksums/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;

describe('a function handler bundled with esbuild', () => {
  const fixture = useLocalFixture('bundled');

  it('runs a multipart PUT and a ranged GET from one bundled file, and leaves the optional parts out', async () => {
    const outfile = join(fixture.folder.path, 'handler.mjs');
    const result = await build({
      entryPoints: [join(ROOT, 'bench/serverless/s3tx-handler.mjs')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'node',
      outfile,
      metafile: true,
      logLevel: 'error',
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((input) => input.endsWith('dist/s3-client.js'))).toBe(true);
    // No HTTP library (s3tx's own connections carry every request); neither the local server, the CLI nor an XML library.
    const unwantedInputs = ['node_modules/undici/', 'fast-xml-parser', 'dist/local/', 'dist/cli/'];
    for (const unwanted of unwantedInputs) {
      expect(
        inputs.filter((input) => input.includes(unwanted)),
        unwanted,
      ).toEqual([]);
    }

    const body = randomBytes(12 * MiB + 321);
    const bodyFile = join(fixture.folder.path, 'body.bin');
    await writeFile(bodyFile, body);
    const range: [number, number] = [5 * MiB - 10, 10 * MiB + 10];
    const event = { ...fixture.server.credentials, host: fixture.server.host, bucket: 'bundled', key: 'from/the/bundle.bin', range };
    const script = `
      import { readFileSync } from 'node:fs';
      import { createHash } from 'node:crypto';
      const { handler, close } = await import(${JSON.stringify(new URL(`file://${outfile}`).href)});
      const event = { ...JSON.parse(process.argv[1]), body: readFileSync(${JSON.stringify(bodyFile)}) };
      const bytes = await handler(event);
      await close();
      console.log(JSON.stringify({ length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }));`;
    fixture.server.resetRequests();
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(event)], { cwd: fixture.folder.path });
    const expected = body.subarray(range[0], range[1] + 1);
    expect(JSON.parse(stdout.trim())).toEqual({ length: expected.length, sha256: createHash('sha256').update(expected).digest('hex') });
    const parts = fixture.server.requests.filter((request) => request.operation === 'UploadPart').map((request) => request.partNumber);
    expect(parts.sort()).toEqual([1, 2, 3]);
    expect(fixture.server.requests.some((request) => request.operation === 'GetObject' && request.headers.range)).toBe(true);
  });

  it('computes checksums on a worker thread from inside one bundled, minified file', async () => {
    const entry = join(fixture.folder.path, 'threads-entry.mjs');
    await writeFile(
      entry,
      `import { digestOf, checksumThreadCount } from ${JSON.stringify(join(ROOT, 'dist/checksums/checksum-threads.js'))};
       import { S3ChecksumAlgorithm } from ${JSON.stringify(join(ROOT, 'dist/index.js'))};
       export async function run(data) {
         const { digest } = await digestOf(S3ChecksumAlgorithm.CRC32C, data);
         return { digest: digest.toString('base64'), threads: checksumThreadCount() };
       }`,
    );
    const outfile = join(fixture.folder.path, 'threads.mjs');
    await build({ entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'node', outfile, logLevel: 'error' });
    const script = `
      const { run } = await import(${JSON.stringify(pathToFileURL(outfile).href)});
      const data = Buffer.allocUnsafeSlow(1024 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = i * 7;
      console.log(JSON.stringify(await run(data)));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    const data = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    expect(JSON.parse(stdout.trim())).toEqual({ digest: createChecksum(S3ChecksumAlgorithm.CRC32C).update(data).digestBase64(), threads: 1 });
  });
});
