/**
 * Fault injection for tests: rules that match requests by operation, key, part
 * number or range, and apply once, N times, or with a seeded probability.
 */

/** What a matching request gets instead of a normal answer. */
export type FaultAction =
  /** An S3 error document with this status and code (status 200 makes an error inside a 200, as S3 sometimes sends). */
  | { type: 'error'; status: number; code: string; message?: string }
  /** The connection is reset after this many bytes of the response body. */
  | { type: 'reset-response'; afterBytes: number }
  /** The connection is reset after this many bytes of the request body have arrived. */
  | { type: 'reset-request'; afterBytes: number }
  /** Nothing is sent for `ms` milliseconds, before the first byte or after `afterBytes` of the body; then the connection is reset. */
  | { type: 'stall'; ms: number; afterBytes?: number }
  /** One byte of the response body is flipped (at `offset`, default the middle). */
  | { type: 'flip-byte'; offset?: number }
  /** The object is replaced with new content (and a new ETag) right after this request is answered. */
  | { type: 'replace-object' }
  /** A GET is answered as if it had no Range or part number: 200 with the whole object, as servers without range support do. */
  | { type: 'ignore-range' }
  /** This answer instead of the operation's, as a broken server or proxy might give: any status, headers and body. */
  | { type: 'respond'; status: number; headers?: Record<string, string>; body?: string }
  /** The normal answer, then these many bytes more on the connection than its Content-Length said. */
  | { type: 'extra-bytes'; count: number };

export interface FaultRule {
  /** S3 operation name, for example `UploadPart` or `GetObject`. */
  operation?: string;
  /** Exact key, or a pattern. */
  key?: string | RegExp;
  partNumber?: number;
  /** Matches a GET whose Range header starts with this, for example `bytes=8388608-`. */
  range?: string;
  /** How many matching requests it applies to; 1 by default, Infinity for all. */
  times?: number;
  /** Applies to each matching request with this probability, drawn from `seed`. */
  probability?: number;
  seed?: number;
  action: FaultAction;
}

export interface FaultTarget {
  operation: string;
  key: string | null;
  partNumber: number | null;
  range: string | null;
}

/** mulberry32: a small seeded generator, so a probabilistic fault plan repeats exactly. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
  random: () => number;
}

/** The fault rules of a server, changeable while it runs. */
export class FaultPlan {
  #rules: ActiveRule[] = [];

  constructor(rules: readonly FaultRule[] = []) {
    for (const rule of rules) this.add(rule);
  }

  add(rule: FaultRule): FaultRule {
    this.#rules.push({ rule, remaining: rule.times ?? 1, random: seeded(rule.seed ?? 1) });
    return rule;
  }

  remove(rule: FaultRule): void {
    this.#rules = this.#rules.filter((active) => active.rule !== rule);
  }

  clear(): void {
    this.#rules = [];
  }

  /** The action for a request, counting it against its rule; null when no rule applies. */
  take(target: FaultTarget): FaultAction | null {
    for (const active of this.#rules) {
      const { rule } = active;
      if (active.remaining <= 0) continue;
      if (rule.operation !== undefined && rule.operation !== target.operation) continue;
      if (rule.key !== undefined && (target.key === null || (typeof rule.key === 'string' ? rule.key !== target.key : !rule.key.test(target.key)))) continue;
      if (rule.partNumber !== undefined && rule.partNumber !== target.partNumber) continue;
      if (rule.range !== undefined && !(target.range ?? '').startsWith(rule.range)) continue;
      if (rule.probability !== undefined && active.random() >= rule.probability) continue;
      active.remaining--;
      return rule.action;
    }
    return null;
  }
}
