import { describe, expect, it } from 'vitest';
import { eachLimited } from '../src/index.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('eachLimited', () => {
  it('runs at most `concurrency` at once, every item once, in order of start', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    await eachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      started.push(item);
      most = Math.max(most, ++running);
      for (let i = 0; i < item % 3; i++) await tick();
      running--;
    });
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('takes items from an async iterable only as places free up', async () => {
    let pulled = 0;
    let done = 0;
    async function* items() {
      for (let i = 0; i < 10; i++) {
        pulled++;
        // Never more than the limit taken ahead of what has finished.
        expect(pulled - done).toBeLessThanOrEqual(3);
        yield i;
      }
    }
    await eachLimited(items(), 2, async () => {
      await tick();
      done++;
    });
    expect(done).toBe(10);
  });

  it('stops taking items after a failure, waits for the work started, and rejects with the first error', async () => {
    const finished: number[] = [];
    const outcome = eachLimited([1, 2, 3, 4, 5, 6], 2, async (item) => {
      await tick();
      if (item === 2) throw new Error('two failed');
      if (item === 3) throw new Error('three failed');
      await tick();
      finished.push(item);
    });
    await expect(outcome).rejects.toThrow('two failed');
    expect(finished).toEqual([1]);
  });
});
