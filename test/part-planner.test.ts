import { describe, expect, it } from 'vitest';
import {
  GiB,
  MiB,
  connectionCount,
  defaultMemoryLimit,
  defaultMultipartThreshold,
  maxRequestsInFlight,
  parseContentRange,
  parseRangeHeader,
  partCountFor,
  partRange,
  planUpload,
} from '../src/meta-request/part-planner.js';

describe('part planner', () => {
  it('opens one connection per 0.4 Gbit/s, at least 10, as aws-c-s3 does', () => {
    expect(connectionCount(10)).toBe(25);
    expect(connectionCount(1)).toBe(10);
    expect(connectionCount(100)).toBe(250);
    expect(maxRequestsInFlight(25)).toBe(25);
  });

  it('defaults the memory limit by throughput and never above a quarter of usable memory', () => {
    expect(defaultMemoryLimit(10, 64 * GiB)).toBe(2 * GiB);
    expect(defaultMemoryLimit(50, 64 * GiB)).toBe(4 * GiB);
    expect(defaultMemoryLimit(100, 64 * GiB)).toBe(8 * GiB);
    expect(defaultMemoryLimit(10, 512 * MiB)).toBe(128 * MiB);
  });

  it('defaults the multipart threshold to the part size, never under 5 MiB', () => {
    expect(defaultMultipartThreshold(8 * MiB)).toBe(8 * MiB);
    expect(defaultMultipartThreshold(1 * MiB)).toBe(5 * MiB);
  });

  it('keeps the requested part size when 10,000 parts are enough', () => {
    expect(planUpload(100 * MiB, 8 * MiB)).toEqual({ partSize: 8 * MiB, partCount: 13 });
    expect(planUpload(8 * MiB, 8 * MiB)).toEqual({ partSize: 8 * MiB, partCount: 1 });
  });

  it('raises parts under 5 MiB to 5 MiB', () => {
    expect(planUpload(20 * MiB, 1 * MiB).partSize).toBe(5 * MiB);
  });

  it('raises the part size so that no upload has more than 10,000 parts', () => {
    const size = 200 * GiB;
    const plan = planUpload(size, 8 * MiB);
    expect(plan.partCount).toBeLessThanOrEqual(10_000);
    expect(plan.partSize % MiB).toBe(0);
    expect(plan.partSize * plan.partCount).toBeGreaterThanOrEqual(size);
  });

  it('refuses what even 10,000 parts of 5 GiB cannot hold', () => {
    expect(() => planUpload(10_000 * 5 * GiB + 1, 8 * MiB)).toThrow(RangeError);
  });

  it('splits a range into parts whose last one is short', () => {
    expect(partCountFor(0, 99, 40)).toBe(3);
    expect(partRange(0, 99, 40, 0)).toEqual({ start: 0, end: 39 });
    expect(partRange(0, 99, 40, 2)).toEqual({ start: 80, end: 99 });
    expect(partRange(10, 99, 40, 1)).toEqual({ start: 50, end: 89 });
    expect(partCountFor(0, -1, 40)).toBe(0);
  });

  it('parses the single ranges S3 accepts and refuses others', () => {
    expect(parseRangeHeader('bytes=0-99')).toEqual({ kind: 'from', start: 0, end: 99 });
    expect(parseRangeHeader('bytes=100-')).toEqual({ kind: 'from', start: 100, end: null });
    expect(parseRangeHeader('bytes=-500')).toEqual({ kind: 'suffix', length: 500 });
    expect(parseRangeHeader('bytes=0-1,5-9')).toBeNull();
    expect(parseRangeHeader('bytes=9-1')).toBeNull();
    expect(parseRangeHeader('items=0-1')).toBeNull();
  });

  it('parses Content-Range and refuses inconsistent ones', () => {
    expect(parseContentRange('bytes 0-99/1000')).toEqual({ start: 0, end: 99, total: 1000 });
    expect(parseContentRange('bytes 0-99/*')).toBeNull();
    expect(parseContentRange('bytes 0-1000/1000')).toBeNull();
    expect(parseContentRange('garbage')).toBeNull();
  });
});
