import { describe, expect, it } from 'vitest';
import { usableMemory } from '../src/platform/memory.js';

const GiB = 1024 ** 3;

describe('usable memory', () => {
  it('is the machine memory without limits', () => {
    expect(usableMemory({ totalMemory: 16 * GiB, cgroupV2Max: 'max\n', cgroupV1Limit: null, lambdaMemoryMiB: undefined })).toBe(16 * GiB);
  });
  it('honours a cgroup v2 limit', () => {
    expect(usableMemory({ totalMemory: 16 * GiB, cgroupV2Max: `${GiB}\n`, cgroupV1Limit: null, lambdaMemoryMiB: undefined })).toBe(GiB);
  });
  it('honours a cgroup v1 limit and ignores its "unlimited" value', () => {
    expect(usableMemory({ totalMemory: 16 * GiB, cgroupV2Max: null, cgroupV1Limit: `${2 * GiB}`, lambdaMemoryMiB: undefined })).toBe(2 * GiB);
    expect(usableMemory({ totalMemory: 16 * GiB, cgroupV2Max: null, cgroupV1Limit: '9223372036854771712', lambdaMemoryMiB: undefined })).toBe(16 * GiB);
  });
  it("honours a Lambda function's memory size", () => {
    expect(usableMemory({ totalMemory: 16 * GiB, cgroupV2Max: 'max', cgroupV1Limit: null, lambdaMemoryMiB: '512' })).toBe(512 * 1024 * 1024);
  });
});
