import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { raw } from './helpers/raw.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeFile, sha256File, tempFolder } from './helpers/servers.js';

const CHILD = fileURLToPath(new URL('./fixtures/transfer-child.mjs', import.meta.url));
let server: LocalS3;
let folder: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  folder = await tempFolder();
  server = await startLocalS3({ root: join(folder.path, 'store'), credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  await raw(server.host, 'PUT', '/memory');
});

afterAll(async () => {
  await server?.close();
  await folder?.remove();
});

describe('memory of a transfer', () => {
  it('a 1 GiB upload and download in a 512 MB function stay under 400 MB of peak RSS, byte for byte', async () => {
    const source = join(folder.path, 'source.bin');
    const target = join(folder.path, 'target.bin');
    await makeFile(source, 1024 * MiB);
    const child = spawn(process.execPath, [CHILD, server.host, ACCESS_KEY, SECRET_KEY, source, target], {
      env: { ...process.env, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    const { peakRssBytes, memoryLimit } = JSON.parse(output) as { peakRssBytes: number; memoryLimit: number };
    expect(memoryLimit).toBe(128 * MiB);
    expect(peakRssBytes).toBeLessThan(400 * 1000 * 1000);
    expect(await sha256File(target)).toBe(await sha256File(source));
  }, 300_000);
});
