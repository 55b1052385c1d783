/**
 * The concurrency controller on synthetic networks: a simulated transfer of 8 MiB parts whose
 * aggregate rate is a function of the parts in flight (flat as loopback, linear per connection
 * up to a link's cap as S3, with noise), and S3 throttling above a count.
 */
import { describe, expect, it } from 'vitest';
import { ConcurrencyController, FixedConcurrency } from '../src/meta-request/concurrency-controller.js';

const PART = 8 * 1024 * 1024;

interface Network {
  /** Aggregate bytes per ms with `parts` in flight. */
  rate: (parts: number) => number;
  /** Whether a part ending with `parts` in flight is answered 503 SlowDown. */
  throttles?: (parts: number) => boolean;
  /** Relative noise of each step's rate, from a seeded generator. */
  noise?: number;
  /** Bytes reported only as parts end (an upload), not as they arrive (a download). */
  atPartEnd?: boolean;
}

/** A seeded generator (mulberry32), so that a noisy run is the same every time. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `ms` of transfer in 1 ms steps; returns the window after each simulated second, and the bytes moved. */
function simulate(controller: ConcurrencyController, network: Network, ms: number, seed = 1): { windows: number[]; bytes: number } {
  const next = random(seed);
  const parts: number[] = [];
  const windows: number[] = [];
  let bytes = 0;
  for (let now = 0; now < ms; now++) {
    while (parts.length < controller.window) {
      controller.partStarted(now);
      parts.push(PART);
    }
    const rate = network.rate(parts.length) * (1 + (network.noise ?? 0) * (next() * 2 - 1));
    const each = rate / parts.length;
    if (!network.atPartEnd) controller.transferred(rate, now);
    for (let i = parts.length - 1; i >= 0; i--) {
      parts[i]! -= each;
      if (parts[i]! > 0) continue;
      const inFlight = parts.length;
      parts.splice(i, 1);
      if (network.throttles?.(inFlight)) {
        controller.throttled(now);
        controller.partEnded(0, now);
      } else {
        controller.partEnded(network.atPartEnd ? PART : 0, now);
        bytes += PART;
      }
    }
    if ((now + 1) % 1000 === 0) windows.push(controller.window);
  }
  return { windows, bytes };
}

const MBps = 1000; // bytes per ms in one MB/s

describe('ConcurrencyController', () => {
  it('stays near its start where more parts buy nothing (loopback: 2 GB/s whatever the count)', () => {
    const controller = new ConcurrencyController({ initial: 4, max: 25 });
    const { windows } = simulate(controller, { rate: () => 2000 * MBps, noise: 0.1 }, 20_000);
    expect(Math.max(...windows)).toBeLessThanOrEqual(8);
    expect(windows.at(-1)).toBeLessThanOrEqual(6);
  });

  it('grows to the cap where each connection adds its 90 MB/s (S3), in under a second', () => {
    const controller = new ConcurrencyController({ initial: 4, max: 25 });
    const { windows } = simulate(controller, { rate: (parts) => 90 * MBps * parts, noise: 0.1 }, 5_000);
    expect(windows[0]).toBe(25);
    expect(windows.every((window) => window === 25)).toBe(true);
  });

  it('grows where parts take longer than an epoch and end together (20 MB/s a connection: 0.4 s a part)', () => {
    const controller = new ConcurrencyController({ initial: 4, max: 50 });
    const { windows } = simulate(controller, { rate: (parts) => 20 * MBps * parts }, 5_000);
    expect(windows.at(-1)).toBe(50);
  });

  it('measures uploads by the bytes of the parts that end', () => {
    const controller = new ConcurrencyController({ initial: 4, max: 25 });
    const { windows } = simulate(controller, { rate: (parts) => 90 * MBps * parts, atPartEnd: true, noise: 0.1 }, 5_000);
    expect(windows.at(-1)).toBe(25);
    const flat = new ConcurrencyController({ initial: 4, max: 25 });
    expect(Math.max(...simulate(flat, { rate: () => 1500 * MBps, atPartEnd: true, noise: 0.1 }, 20_000).windows)).toBeLessThanOrEqual(8);
  });

  it('stops where the link saturates: 90 MB/s a connection, 1 GB/s in all', () => {
    const controller = new ConcurrencyController({ initial: 4, max: 50 });
    const { windows } = simulate(controller, { rate: (parts) => Math.min(90 * MBps * parts, 1000 * MBps), noise: 0.05 }, 30_000);
    // 12 parts fill the link; the window settles between that and the step after it, not at 50.
    expect(windows.at(-1)).toBeGreaterThanOrEqual(8);
    expect(windows.at(-1)).toBeLessThanOrEqual(20);
  });

  it('falls back from a window that made things worse', () => {
    const controller = new ConcurrencyController({ initial: 4, max: 64 });
    // Throughput peaks at 16 parts and falls beyond (a server that thrashes).
    const rate = (parts: number) => (parts <= 16 ? 50 * MBps * parts : Math.max(100, 800 - 40 * (parts - 16)) * MBps);
    const { windows } = simulate(controller, { rate }, 20_000);
    expect(windows.at(-1)).toBeGreaterThanOrEqual(16);
    expect(windows.at(-1)).toBeLessThanOrEqual(20);
  });

  it('halves when S3 throttles, at most once an epoch, and keeps below the count that throttles', () => {
    const controller = new ConcurrencyController({ initial: 32, max: 32 });
    const { windows } = simulate(controller, { rate: (parts) => 90 * MBps * parts, throttles: (parts) => parts > 10 }, 20_000);
    expect(windows[0]).toBeLessThanOrEqual(16);
    // Probes upward hit the throttling again and halve; most of the time is spent at or under 10.
    expect(windows.filter((window) => window <= 10).length).toBeGreaterThan(windows.length / 2);
    expect(Math.min(...windows)).toBeGreaterThanOrEqual(4);
  });

  it('does not count an epoch the transfer could not fill (its tail, a memory limit)', () => {
    const controller = new ConcurrencyController({ initial: 4, max: 25 });
    // One part at a time while the window is 4: the rate says nothing of 4 parts.
    for (let now = 0; now < 5000; now += 100) {
      controller.partStarted(now);
      controller.partEnded(PART, now + 100);
    }
    expect(controller.window).toBe(4);
  });

  it('keeps between 1 and max, and a fixed count never moves', () => {
    expect(new ConcurrencyController({ initial: 100, max: 25 }).window).toBe(25);
    expect(new ConcurrencyController({ initial: 0, max: 25 }).window).toBe(1);
    const one = new ConcurrencyController({ initial: 1, max: 8 });
    one.throttled(0);
    expect(one.window).toBe(1);
    const fixed = new FixedConcurrency(8);
    fixed.throttled();
    fixed.partEnded();
    expect(fixed.window).toBe(8);
  });
});
