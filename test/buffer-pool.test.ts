import { describe, expect, it } from 'vitest';
import { BufferPool, leasePrefix } from '../src/meta-request/buffer-pool.js';

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

  it('hands out shared memory when asked, and reuses a buffer only for a lease of the same kind', () => {
    const pool = new BufferPool(200);
    const shared = pool.tryAcquire(50, true)!;
    expect(shared.buffer.buffer).toBeInstanceOf(SharedArrayBuffer);
    const memory = shared.buffer.buffer;
    shared.release();
    const plain = pool.tryAcquire(50)!;
    expect(plain.buffer.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(pool.tryAcquire(50, true)!.buffer.buffer).toBe(memory);
    plain.release();
  });

  it('takes back memory that moved to another thread and returned in another Buffer, and reuses it', () => {
    const pool = new BufferPool(100);
    const lease = pool.tryAcquire(50)!;
    lease.buffer.fill(7);
    // A transfer, as to a checksum thread and back: the old Buffer is left empty.
    const moved = structuredClone(lease.buffer.buffer, { transfer: [lease.buffer.buffer as ArrayBuffer] });
    expect(lease.buffer.length).toBe(0);
    lease.adopt(Buffer.from(moved, 0, 50));
    expect(lease.buffer[49]).toBe(7);
    lease.release();
    expect(pool.tryAcquire(50)!.buffer.buffer).toBe(moved);
  });

  it('forgets memory that moved away and never came back', () => {
    const pool = new BufferPool(100);
    const lease = pool.tryAcquire(50)!;
    structuredClone(lease.buffer.buffer, { transfer: [lease.buffer.buffer as ArrayBuffer] });
    lease.release();
    expect(pool.tryAcquire(50)!.buffer.length).toBe(50);
    expect(pool.tryAcquire(50)!.buffer.length).toBe(50);
  });

  it('lends the first bytes of a lease as a lease of their own', () => {
    const pool = new BufferPool(100);
    const whole = pool.tryAcquire(50)!;
    const prefix = leasePrefix(whole, 20);
    expect(prefix.buffer.length).toBe(20);
    const moved = structuredClone(prefix.buffer.buffer, { transfer: [prefix.buffer.buffer as ArrayBuffer] });
    prefix.adopt(Buffer.from(moved, 0, 20));
    expect(whole.buffer.buffer).toBe(moved);
    expect(whole.buffer.length).toBe(50);
    prefix.release();
    expect(pool.leased).toBe(0);
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
