import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { crc32c as crc32cOracle } from '@aws-crypto/crc32c';
import { describe, expect, it } from 'vitest';
import { foldedCrc32c, newCrcKernels } from '../src/checksums/wasm-crc.js';
// @ts-expect-error: a build script in plain JavaScript, without declarations
import { compileCrcWat, moduleSource } from '../scripts/build-wasm.mjs';

describe('the WebAssembly CRC kernels', () => {
  it('are what crc.wat compiles to (run `npm run build:wasm` after editing it)', async () => {
    const checkedIn = readFileSync(new URL('../src/checksums/wasm/crc-module.ts', import.meta.url), 'utf8');
    expect(checkedIn).toBe(moduleSource(await compileCrcWat()));
  });

  it('fold a whole message to the same CRC32C as the tables, at any length from 64 KiB and any alignment', () => {
    const kernels = newCrcKernels();
    const source = randomBytes(3 * 1024 * 1024 + 64);
    // Among them: a last slice of one word, and one shorter than the 41 KiB the remainder spans.
    for (const length of [65536, 65537, 65539, 65543, 100_003, 524_288 - 5, 524_288 + 8, 1024 * 1024 + 30_001, 3 * 1024 * 1024 + 5]) {
      for (const offset of [0, 1, 7]) {
        const data = source.subarray(offset, offset + length);
        expect(foldedCrc32c(kernels, data), `${length} bytes at ${offset}`).toBe(crc32cOracle(data));
      }
    }
  });
});
