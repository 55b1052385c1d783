/**
 * How many parts a client keeps in flight to one endpoint, found by measurement rather than by
 * the endpoint's name. S3 serves each connection at about 85-90 MB/s and rewards parallelism; a
 * server on this machine rewards few connections; a proxy or a rate-limited link anything in
 * between. So the window grows while the aggregate throughput rises enough per added part, falls
 * back to the best window when it stops rising, and halves when S3 throttles (503 SlowDown), as
 * congestion control does; a window held for a while is probed upward again, since conditions
 * change.
 *
 * Pure logic: the caller reports parts starting and ending (with their bytes) and throttling,
 * each with the time; nothing here reads a clock or does I/O.
 */

export interface ConcurrencyOptions {
  /** The largest window: the connection count the throughput target gives, or maxConnections. */
  max: number;
  /** The window to start at. */
  initial: number;
  /** Shortest measurement, in ms; an epoch counting bytes only as parts end also waits for `minParts` of them. */
  epochMs?: number;
  minParts?: number;
  /**
   * Gain asked of a larger window, per unit of relative growth: doubling asks `gainPerGrowth`
   * more throughput, a quarter more parts a quarter of it. 0.3 keeps a doubling that buys 30%,
   * and refuses what noise gives (loopback epochs vary by about 10%).
   */
  gainPerGrowth?: number;
  /** Epochs a window is held before it is probed upward again. */
  probeAfterEpochs?: number;
}

/**
 * What a scheduler needs of a concurrency rule: the window, and the events that move it. Bytes
 * come as they arrive (`transferred`, from response bodies) or with the part's end (`partEnded`,
 * for a request body, which is not followed chunk by chunk).
 */
export interface Concurrency {
  readonly window: number;
  partStarted(now: number): void;
  transferred(bytes: number, now: number): void;
  partEnded(bytes: number, now: number): void;
  throttled(now: number): void;
}

/** A window that never moves: maxConnections given explicitly, as aws-c-s3's override is. */
export class FixedConcurrency implements Concurrency {
  constructor(readonly window: number) {}
  partStarted(): void {}
  transferred(): void {}
  partEnded(): void {}
  throttled(): void {}
}

/**
 * Growth per step: doubling until a step first fails to pay (slow start, so that a transfer to S3
 * reaches its 25 parts in three epochs from 4), then a quarter more for each later probe.
 */
const SLOW_START_GROWTH = 2;
const PROBE_GROWTH = 1.25;
/** An epoch counts only if its parts kept this share of the window busy (a transfer's tail or a memory limit do not). */
const MIN_UTILISATION = 0.7;

export class ConcurrencyController implements Concurrency {
  readonly #max: number;
  readonly #epochMs: number;
  readonly #minParts: number;
  readonly #gainPerGrowth: number;
  readonly #probeAfter: number;
  #window: number;
  #inFlight = 0;
  /** The best window measured, and its throughput (bytes per ms) then. */
  #best: { window: number; rate: number } | null = null;
  #heldEpochs = 0;
  #slowStart = true;
  /** The first epoch is connections opening and TCP warming up: its rate is no measure of the window, and a doubling would look like a gain. */
  #warmedUp = false;
  // The epoch being measured: its start, bytes of parts ended in it, parts ended, and the integral of parts in flight over time.
  #epochStart: number | null = null;
  #lastEvent = 0;
  #bytes = 0;
  #parts = 0;
  /** Whether bytes of this epoch came as they arrived: then it need not wait for parts to end. */
  #streamed = false;
  #busy = 0;
  #throttledAt = -Infinity;

  constructor(options: ConcurrencyOptions) {
    this.#max = Math.max(1, options.max);
    this.#window = Math.min(this.#max, Math.max(1, options.initial));
    this.#epochMs = options.epochMs ?? 200;
    this.#minParts = options.minParts ?? 3;
    this.#gainPerGrowth = options.gainPerGrowth ?? 0.3;
    this.#probeAfter = options.probeAfterEpochs ?? 8;
  }

  get window(): number {
    return this.#window;
  }

  partStarted(now: number): void {
    this.#advance(now);
    this.#inFlight++;
  }

  /**
   * Bytes of a response as they arrive. Counting them so, rather than when a part ends, measures
   * a window within an epoch even where one part takes longer than that (8 MiB at 20 MB/s is 0.4 s)
   * and parts that started together end together.
   */
  transferred(bytes: number, now: number): void {
    this.#advance(now);
    this.#bytes += bytes;
    this.#streamed = true;
    this.#check(now);
  }

  partEnded(bytes: number, now: number): void {
    this.#advance(now);
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    this.#bytes += bytes;
    this.#parts++;
    this.#check(now);
  }

  #check(now: number): void {
    const elapsed = now - this.#epochStart!;
    if (elapsed >= this.#epochMs && (this.#streamed || this.#parts >= this.#minParts)) this.#endEpoch(elapsed);
  }

  /** S3 said SlowDown: half the window, at most once an epoch however many parts hear it. */
  throttled(now: number): void {
    if (now - this.#throttledAt < this.#epochMs) return;
    this.#throttledAt = now;
    this.#set(Math.max(1, Math.floor(this.#window / 2)));
    // What was best before the throttling is no guide now: measure again from here, growing slowly.
    this.#best = null;
    this.#heldEpochs = 0;
    this.#slowStart = false;
  }

  /** Accounts the time since the last event at the parts then in flight. */
  #advance(now: number): void {
    if (this.#epochStart === null) {
      this.#epochStart = now;
    } else {
      this.#busy += this.#inFlight * (now - this.#lastEvent);
    }
    this.#lastEvent = now;
  }

  #endEpoch(elapsed: number): void {
    const saturated = this.#busy / (elapsed * this.#window) >= MIN_UTILISATION;
    const rate = this.#bytes / elapsed;
    this.#resetEpoch();
    if (!saturated) return;
    if (!this.#warmedUp) {
      this.#warmedUp = true;
      return;
    }
    const best = this.#best;
    if (best === null || this.#window === best.window) {
      // The first measure, or the held window measured again (conditions change: keep the latest).
      this.#best = { window: this.#window, rate };
      if (best === null || ++this.#heldEpochs >= this.#probeAfter) this.#grow();
      return;
    }
    const growth = (this.#window - best.window) / best.window;
    if (this.#window > best.window && rate >= best.rate * (1 + this.#gainPerGrowth * growth)) {
      this.#best = { window: this.#window, rate };
      this.#grow();
    } else {
      // No gain worth its parts: back to the best window, and hold it.
      this.#heldEpochs = 0;
      this.#slowStart = false;
      this.#set(best.window);
    }
  }

  #grow(): void {
    this.#heldEpochs = 0;
    this.#set(Math.min(this.#max, Math.ceil(this.#window * (this.#slowStart ? SLOW_START_GROWTH : PROBE_GROWTH))));
  }

  #set(window: number): void {
    if (window !== this.#window) this.#resetEpoch();
    this.#window = window;
  }

  #resetEpoch(): void {
    this.#epochStart = null;
    this.#bytes = 0;
    this.#parts = 0;
    this.#streamed = false;
    this.#busy = 0;
  }
}
