import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a build script in plain JavaScript, without declarations
import { compileCrcWat, moduleSource } from '../scripts/build-wasm.mjs';

describe('the WebAssembly CRC kernels', () => {
  it('are what crc.wat compiles to (run `npm run build:wasm` after editing it)', async () => {
    const checkedIn = readFileSync(new URL('../src/checksums/wasm/crc-module.ts', import.meta.url), 'utf8');
    expect(checkedIn).toBe(moduleSource(await compileCrcWat()));
  });
});
