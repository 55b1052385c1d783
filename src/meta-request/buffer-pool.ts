/**
 * The client's memory budget. A part is dispatched only once it holds a lease on
 * a buffer of its size, and the lease is returned once its bytes are delivered
 * (written to the file, or handed to onBody in order). Buffers are reused while
 * transfers run and dropped by `trim()` once none does, so idle clients hold nothing.
 * Dropping them any earlier (say, whenever no lease is out for a moment between two
 * parts) turns every part into a fresh allocation and the old ones into garbage that
 * the process holds until the next collection.
 */

/** A buffer reserved for one part. `buffer` is exactly the size asked for. */
export interface Lease {
  readonly buffer: Buffer;
  /** Returns the memory to the pool. Calling it twice is harmless. */
  release(): void;
  /**
   * Takes the bytes back after they moved to another thread (a checksum thread) and returned
   * in `buffer`, the same length as before: the Buffer they left in is empty from then on.
   */
  adopt(buffer: Buffer): void;
}

/** The first `length` bytes of a lease, as a lease of their own that gives back the whole. */
export function leasePrefix(lease: Lease, length: number): Lease {
  const whole = lease.buffer.length;
  const prefix = {
    buffer: lease.buffer.subarray(0, length),
    release: () => lease.release(),
    adopt: (buffer: Buffer) => {
      lease.adopt(Buffer.from(buffer.buffer, buffer.byteOffset, whole));
      prefix.buffer = buffer;
    },
  };
  return prefix;
}

export class BufferPool {
  readonly limit: number;
  /** Bytes of leased buffers plus cached free ones: what this pool holds. */
  #held = 0;
  #leased = 0;
  #free: Buffer[] = [];
  #trimmed = false;
  #onRelease: () => void;

  /** `onRelease` runs after memory comes back, so waiting parts can be scheduled. */
  constructor(limit: number, onRelease: () => void = () => {}) {
    this.limit = limit;
    this.#onRelease = onRelease;
  }

  /** Bytes a new lease may still take without exceeding the limit. */
  get available(): number {
    return this.limit - this.#held + this.#free.reduce((sum, buffer) => sum + buffer.length, 0);
  }

  /** Bytes currently leased out. */
  get leased(): number {
    return this.#leased;
  }

  /**
   * A lease of `size` bytes, or null when the limit does not allow it now. A `shared` buffer
   * lives in a SharedArrayBuffer, which checksum threads read in place.
   */
  tryAcquire(size: number, shared = false): Lease | null {
    this.#trimmed = false;
    let buffer = this.#takeFree(size, shared);
    if (!buffer) {
      if (this.#held + size > this.limit) {
        // Cached buffers of other sizes count against the limit; give them up before refusing.
        this.#dropFree();
        if (this.#held + size > this.limit) return null;
      }
      buffer = shared ? Buffer.from(new SharedArrayBuffer(size)) : Buffer.allocUnsafeSlow(size);
      this.#held += size;
    }
    this.#leased += buffer.length;
    return this.#lease(buffer, size);
  }

  #lease(memory: Buffer, size: number): Lease {
    let released = false;
    const capacity = memory.length;
    const lease = {
      buffer: capacity === size ? memory : memory.subarray(0, size),
      release: () => {
        if (released) return;
        released = true;
        this.#leased -= capacity;
        // Memory that moved to another thread and never came back (its job failed) is gone.
        if (memory.length === capacity) this.#free.push(memory);
        else this.#held -= capacity;
        if (this.#trimmed) this.#dropFree();
        this.#onRelease();
      },
      adopt: (buffer: Buffer) => {
        memory = Buffer.from(buffer.buffer, buffer.byteOffset, capacity);
        lease.buffer = buffer;
      },
    };
    return lease;
  }

  /** Drops the cached free buffers, and those still leased as they come back, until the next lease. */
  trim(): void {
    this.#trimmed = true;
    this.#dropFree();
  }

  #takeFree(size: number, shared: boolean): Buffer | undefined {
    // Parts of one transfer share a size, so an exact fit is the common case.
    const index = this.#free.findIndex((buffer) => buffer.length === size && buffer.buffer instanceof SharedArrayBuffer === shared);
    if (index < 0) return undefined;
    const [buffer] = this.#free.splice(index, 1);
    return buffer;
  }

  #dropFree(): void {
    for (const buffer of this.#free) this.#held -= buffer.length;
    this.#free = [];
  }
}
