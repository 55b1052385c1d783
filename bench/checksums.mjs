// Checksum speed, single thread, 8 MiB buffers, s3tx beside the reference libraries in one run.
// Run: npm run bench:checksums
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { cpus } from 'node:os';
import { crc32c as awsCrc32c } from '@aws-crypto/crc32c';
import { crc32 as awsCrc32 } from '@aws-crypto/crc32';
import { Crc64Nvme as SdkCrc64Nvme } from '@aws-sdk/crc64-nvme';
import { Crc32, Crc32c, Crc64Nvme, Sha1, Sha256 } from '../dist/checksums/index.js';

const MiB = 1024 * 1024;
const BUFFER = randomBytes(8 * MiB);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 32);
const RUNS = 5;

async function rate(run) {
  await run(4);
  const rates = [];
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    await run(ROUNDS);
    rates.push((ROUNDS * 8) / 1024 / ((performance.now() - started) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(RUNS / 2)];
}

const ours = (Make) => (rounds) => {
  const checksum = new Make();
  for (let i = 0; i < rounds; i++) checksum.update(BUFFER);
  checksum.digest();
};

const rows = [
  [
    'CRC32C',
    await rate(ours(Crc32c)),
    '@aws-crypto/crc32c',
    await rate((n) => {
      for (let i = 0; i < n; i++) awsCrc32c(BUFFER);
    }),
  ],
  [
    'CRC32',
    await rate(ours(Crc32)),
    '@aws-crypto/crc32',
    await rate((n) => {
      for (let i = 0; i < n; i++) awsCrc32(BUFFER);
    }),
  ],
  [
    'CRC64NVME',
    await rate(ours(Crc64Nvme)),
    '@aws-sdk/crc64-nvme',
    await rate(async (n) => {
      const c = new SdkCrc64Nvme();
      for (let i = 0; i < n; i++) c.update(BUFFER);
      await c.digest();
    }),
  ],
  ['SHA1', await rate(ours(Sha1)), null, null],
  ['SHA256', await rate(ours(Sha256)), null, null],
];
console.log(
  `Checksums, GiB/s, median of ${RUNS} runs of ${ROUNDS} x 8 MiB, one thread; ${cpus()[0]?.model}, node ${process.version}; zlib.crc32 native: ${typeof zlib.crc32 === 'function'}`,
);
console.log('| algorithm | s3tx | reference | reference GiB/s | s3tx / reference |');
console.log('|---|---|---|---|---|');
for (const [name, mine, other, theirs] of rows) {
  console.log(
    `| ${name} | ${mine.toFixed(2)} | ${other ?? 'node:crypto (s3tx uses it)'} | ${theirs ? theirs.toFixed(2) : '-'} | ${theirs ? `${(mine / theirs).toFixed(1)}x` : '-'} |`,
  );
}
