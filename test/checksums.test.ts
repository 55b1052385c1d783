import { randomBytes } from 'node:crypto';
import { crc32 as crc32Oracle } from '@aws-crypto/crc32';
import { crc32c as crc32cOracle } from '@aws-crypto/crc32c';
import { Crc64Nvme as Crc64NvmeOracle } from '@aws-sdk/crc64-nvme';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, S3ChecksumAlgorithm } from '../src/index.js';
import { Crc32, Crc32c, Crc64Nvme, combineChecksums, createChecksum } from '../src/checksums/index.js';

/** Deterministic pseudo-random numbers, so a failing case can be replayed. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

async function oracle(algorithm: S3ChecksumAlgorithm, data: Buffer): Promise<string> {
  const word = (value: number) => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(value >>> 0);
    return out.toString('base64');
  };
  if (algorithm === S3ChecksumAlgorithm.CRC32C) return word(crc32cOracle(data));
  if (algorithm === S3ChecksumAlgorithm.CRC32) return word(crc32Oracle(data));
  const crc64 = new Crc64NvmeOracle();
  crc64.update(data);
  return Buffer.from(await crc64.digest()).toString('base64');
}

const CRCS = [S3ChecksumAlgorithm.CRC32C, S3ChecksumAlgorithm.CRC32, S3ChecksumAlgorithm.CRC64NVME];

describe('checksums', () => {
  it('give the standard check values for "123456789"', () => {
    const check = Buffer.from('123456789');
    expect(new Crc32c().update(check).digest().toString('hex')).toBe('e3069283');
    expect(new Crc32().update(check).digest().toString('hex')).toBe('cbf43926');
    expect(new Crc64Nvme().update(check).digest().toString('hex')).toBe('ae8b14860a799888');
    expect(createChecksum(S3ChecksumAlgorithm.SHA1).update(check).digest().toString('hex')).toBe('f7c3bc1d808e04732adf679965ccc34ca7ae3441');
    expect(createChecksum(S3ChecksumAlgorithm.SHA256).update(check).digest().toString('hex')).toBe(
      '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225',
    );
  });

  it('of empty input are the initial values', () => {
    expect(new Crc32c().digestBase64()).toBe('AAAAAA==');
    expect(new Crc64Nvme().digestBase64()).toBe('AAAAAAAAAAA=');
    expect(createChecksum(S3ChecksumAlgorithm.SHA256).digest().toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('agree with the reference implementations on random data split at random points', async () => {
    const random = seeded(7);
    for (let round = 0; round < 24; round++) {
      const length = round < 8 ? round : Math.floor(random() * 3 * 1024 * 1024) + 1;
      const data = randomBytes(length);
      for (const algorithm of CRCS) {
        const checksum = createChecksum(algorithm);
        let offset = 0;
        while (offset < data.length) {
          const step = Math.max(1, Math.floor(random() * 70_000));
          checksum.update(data.subarray(offset, offset + step));
          offset += step;
        }
        expect(checksum.digestBase64(), `${S3ChecksumAlgorithm[algorithm]} of ${length} bytes`).toBe(await oracle(algorithm, data));
      }
    }
  });

  it('reset starts over', () => {
    const checksum = new Crc32c().update(Buffer.from('something'));
    checksum.reset();
    expect(checksum.update(Buffer.from('123456789')).digest().toString('hex')).toBe('e3069283');
  });

  it('combine into the CRC of the concatenation, for parts of any length', () => {
    const random = seeded(11);
    for (const algorithm of CRCS) {
      for (const [a, b] of [
        [0, 10],
        [10, 0],
        [1, 1],
        [5 * 1024 * 1024, 1234567],
        [Math.floor(random() * 100_000), Math.floor(random() * 100_000) + 1],
      ] as const) {
        const data = randomBytes(a + b);
        const whole = createChecksum(algorithm).update(data).digestBase64();
        const first = createChecksum(algorithm).update(data.subarray(0, a)).digestBase64();
        const second = createChecksum(algorithm).update(data.subarray(a)).digestBase64();
        expect(combineChecksums(algorithm, first, second, b), `${S3ChecksumAlgorithm[algorithm]} ${a}+${b}`).toBe(whole);
      }
    }
  });

  it('refuse to combine hashes', () => {
    expect(() => combineChecksums(S3ChecksumAlgorithm.SHA256, 'a', 'b', 1)).toThrow(InvalidArgumentError);
  });
});
