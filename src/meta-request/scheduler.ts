/**
 * Decides which part of which transfer goes next. A part starts only when the
 * client has a free in-flight slot and the buffer pool grants the memory it
 * needs; transfers take turns, one part each, so a large one cannot starve the rest.
 */
import type { BufferPool, Lease } from './buffer-pool.js';

/** What the scheduler asks of a transfer. */
export interface Schedulable {
  /** Bytes the next part must reserve (0 for none), or null when no part is ready to start. */
  nextPartMemory(): number | null;
  /**
   * Starts the next part holding `lease` (null when it asked for 0 bytes). The promise
   * settles when the part stops counting as in flight; it never rejects.
   */
  startNextPart(lease: Lease | null): Promise<void>;
  /** Whether part buffers should be shared memory, which checksum threads read in place. */
  readonly sharedMemory?: boolean;
  /** Parts of this transfer in flight at once, at most. */
  readonly maxInFlight: number;
  /** Started at once, outside the in-flight limit and without memory: a request the others wait on. */
  readonly outsideLimits?: boolean;
}

export class Scheduler {
  readonly maxInFlight: number;
  #pool: BufferPool;
  #turns: Schedulable[] = [];
  #inFlight = 0;
  /** Parts in flight by transfer. */
  #running = new Map<Schedulable, number>();
  #wakeQueued = false;

  constructor(pool: BufferPool, maxInFlight: number) {
    this.#pool = pool;
    this.maxInFlight = maxInFlight;
  }

  add(transfer: Schedulable): void {
    if (transfer.outsideLimits) {
      while (transfer.nextPartMemory() === 0) void transfer.startNextPart(null);
      return;
    }
    this.#turns.push(transfer);
    this.wake();
  }

  remove(transfer: Schedulable): void {
    const index = this.#turns.indexOf(transfer);
    if (index >= 0) this.#turns.splice(index, 1);
    // No transfer left: an idle client holds no part buffers.
    if (this.#turns.length === 0) this.#pool.trim();
  }

  /** Asks for a scheduling pass soon; many calls in one tick make one pass. */
  wake(): void {
    if (this.#wakeQueued) return;
    this.#wakeQueued = true;
    queueMicrotask(() => {
      this.#wakeQueued = false;
      this.#pass();
    });
  }

  #pass(): void {
    let passedOver = 0;
    while (this.#inFlight < this.maxInFlight && passedOver < this.#turns.length) {
      const transfer = this.#turns.shift()!;
      this.#turns.push(transfer);
      const running = this.#running.get(transfer) ?? 0;
      const memory = running < transfer.maxInFlight ? transfer.nextPartMemory() : null;
      const lease = memory ? this.#pool.tryAcquire(memory, transfer.sharedMemory) : null;
      if (memory === null || (memory > 0 && !lease)) {
        passedOver++;
        continue;
      }
      passedOver = 0;
      this.#inFlight++;
      this.#running.set(transfer, running + 1);
      void transfer.startNextPart(lease).finally(() => {
        this.#inFlight--;
        const left = this.#running.get(transfer)! - 1;
        if (left > 0) this.#running.set(transfer, left);
        else this.#running.delete(transfer);
        this.wake();
      });
    }
  }
}
