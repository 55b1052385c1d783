import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { S3ChecksumAlgorithm } from '../src/index.js';
import { createChecksum } from '../src/checksums/index.js';
import { checksumThreadCount, digestOf } from '../src/checksums/checksum-threads.js';

const ALGORITHMS = [S3ChecksumAlgorithm.CRC32C, S3ChecksumAlgorithm.CRC32, S3ChecksumAlgorithm.CRC64NVME, S3ChecksumAlgorithm.SHA1, S3ChecksumAlgorithm.SHA256];

/** A part buffer as the pool makes them: its own memory, which can move to another thread. */
function part(data: Buffer): Buffer {
  const buffer = Buffer.allocUnsafeSlow(data.length);
  data.copy(buffer);
  return buffer;
}

describe('checksum threads', () => {
  it('move large parts to a worker thread and back, with the same results as here', async () => {
    const parts = [randomBytes(1024 * 1024 + 3), randomBytes(3 * 1024 * 1024), randomBytes(256 * 1024)];
    for (const algorithm of ALGORITHMS) {
      const given = parts.map(part);
      const results = await Promise.all(given.map((buffer) => digestOf(algorithm, buffer)));
      results.forEach(({ digest, data }, index) => {
        expect(digest.toString('base64')).toBe(createChecksum(algorithm).update(parts[index]!).digestBase64());
        expect(data.equals(parts[index]!)).toBe(true);
        // The memory moved: the Buffer given is empty now.
        expect(given[index]!.length).toBe(0);
      });
    }
    expect(checksumThreadCount()).toBeGreaterThan(0);
  });

  it('read shared memory in place, leaving it readable here meanwhile', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const shared = Buffer.from(new SharedArrayBuffer(data.length));
    data.copy(shared);
    const pending = digestOf(S3ChecksumAlgorithm.CRC64NVME, shared);
    expect(shared.equals(data)).toBe(true);
    const { digest } = await pending;
    expect(digest.toString('base64')).toBe(createChecksum(S3ChecksumAlgorithm.CRC64NVME).update(data).digestBase64());
    expect(shared.length).toBe(data.length);
  });

  it('checksum a window of a buffer and give back that window', async () => {
    const whole = part(randomBytes(2 * 1024 * 1024));
    const expected = Buffer.from(whole.subarray(12345, 12345 + 1024 * 1024));
    const { digest, data } = await digestOf(S3ChecksumAlgorithm.CRC32C, whole.subarray(12345, 12345 + 1024 * 1024));
    expect(digest.toString('base64')).toBe(createChecksum(S3ChecksumAlgorithm.CRC32C).update(expected).digestBase64());
    expect(data.byteOffset).toBe(12345);
    expect(data.equals(expected)).toBe(true);
  });

  it('compute small buffers here, leaving them in place, and do not keep the process alive once idle', async () => {
    const small = randomBytes(1000);
    const result = await digestOf(S3ChecksumAlgorithm.SHA256, small);
    expect(result.data).toBe(small);
    expect(result.digest.toString('base64')).toBe(createChecksum(S3ChecksumAlgorithm.SHA256).update(small).digestBase64());
    await digestOf(S3ChecksumAlgorithm.CRC32C, part(randomBytes(512 * 1024)));
    const holding = process.getActiveResourcesInfo().filter((name) => name === 'MessagePort' || name === 'Worker');
    expect(holding).toEqual([]);
  });
});
