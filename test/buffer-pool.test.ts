import { describe, expect, it } from 'vitest';
import { BufferPool } from '../src/multipart/buffer-pool.js';

describe('buffer pool', () => {
  it('grants leases up to its limit and refuses past it', () => {
    const pool = new BufferPool(100);
    const a = pool.tryAcquire(60);
    expect(a?.buffer.length).toBe(60);
    expect(pool.tryAcquire(50)).toBeNull();
    const b = pool.tryAcquire(40);
    expect(b).not.toBeNull();
    expect(pool.leased).toBe(100);
  });

  it('reuses a returned buffer for a lease of the same size', () => {
    const pool = new BufferPool(100);
    const keep = pool.tryAcquire(10)!;
    const first = pool.tryAcquire(50)!;
    const memory = first.buffer;
    first.release();
    const second = pool.tryAcquire(50)!;
    expect(second.buffer.buffer).toBe(memory.buffer);
    keep.release();
    second.release();
  });

  it('keeps a buffer between parts even when no lease is out for a moment, until trimmed', () => {
    const pool = new BufferPool(100);
    const first = pool.tryAcquire(50)!;
    const memory = first.buffer.buffer;
    first.release();
    const second = pool.tryAcquire(50)!;
    expect(second.buffer.buffer).toBe(memory);
    // The last transfer ended while this part was still out: it is dropped when it comes back.
    pool.trim();
    second.release();
    expect(pool.tryAcquire(50)!.buffer.buffer).not.toBe(memory);
  });

  it('drops cached buffers of another size rather than refuse a lease', () => {
    const pool = new BufferPool(100);
    const keep = pool.tryAcquire(10)!;
    pool.tryAcquire(80)!.release();
    const lease = pool.tryAcquire(90);
    expect(lease?.buffer.length).toBe(90);
    keep.release();
  });

  it('tells the scheduler when memory comes back, and a double release counts once', () => {
    let wakes = 0;
    const pool = new BufferPool(100, () => wakes++);
    const lease = pool.tryAcquire(100)!;
    lease.release();
    lease.release();
    expect(wakes).toBe(1);
    expect(pool.leased).toBe(0);
    expect(pool.available).toBe(100);
  });
});
