import { describe, expect, it } from 'vitest';
import { Scheduler, type Schedulable } from '../src/meta-request/scheduler.js';
import { BufferPool, type Lease } from '../src/meta-request/buffer-pool.js';

/** A transfer of `parts` parts that each run until the test ends them. */
function transfer(parts: number, maxInFlight: number) {
  const running: Array<{ lease: Lease | null; end: () => void }> = [];
  let started = 0;
  const schedulable: Schedulable = {
    maxInFlight,
    nextPartMemory: () => (started < parts ? 10 : null),
    startNextPart(lease) {
      started++;
      return new Promise<void>((resolve) => running.push({ lease, end: () => (lease?.release(), resolve()) }));
    },
  };
  return { schedulable, running };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('scheduler', () => {
  it('runs no more parts of a transfer than it allows, while another transfer uses the rest of the client slots', async () => {
    const scheduler = new Scheduler(new BufferPool(1000), 6);
    const local = transfer(10, 2);
    const remote = transfer(10, 25);
    scheduler.add(local.schedulable);
    scheduler.add(remote.schedulable);
    await settle();
    expect(local.running).toHaveLength(2);
    expect(remote.running).toHaveLength(4);
    local.running.shift()!.end();
    await settle();
    expect(local.running).toHaveLength(2);
    expect(remote.running).toHaveLength(4);
  });
});
