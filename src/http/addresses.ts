/**
 * The addresses of each host a client connects to, as aws-c-io's host resolver keeps them: every
 * A and AAAA record of a lookup, cached for a TTL and looked up again in the background once it
 * has passed, handed to new connections in turn, with an address whose connection failed set
 * aside until the others have failed too or its penalty has passed. S3 answers a lookup with up to
 * 8 addresses; one lookup per connection would put all of them on whichever the resolver lists
 * first.
 */
import dns, { type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

/** `dns.lookup` with `{ all: true }`, or a function with its signature (service discovery, tests). */
export type LookupFunction = (
  hostname: string,
  options: { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** How long a lookup's answer is used before it is asked again (aws-c-io keeps 30 s too). */
export const ADDRESS_TTL_MS = 30_000;
/** How long an address whose connection failed is passed over. */
export const FAILURE_PENALTY_MS = 30_000;
/** Host names kept, the least recently used dropped past it: one per virtual-hosted bucket a long-lived client touches. */
export const MAX_HOSTS = 1024;

export interface AddressEntry {
  address: string;
  family: 4 | 6;
  /** When a connection to it last failed, or 0. */
  failedAt: number;
}

/**
 * The next address to use after `cursor` (round-robin), passing over those that failed within
 * the penalty unless every one has; among failed ones, the one that failed longest ago. `family`
 * (4 or 6) keeps to addresses a bound local address can reach; null when none of it exists.
 */
export function chooseAddress(
  entries: readonly AddressEntry[],
  cursor: number,
  now: number,
  family: 4 | 6 | null = null,
): { entry: AddressEntry; cursor: number } | null {
  const usable = family === null ? entries : entries.filter((entry) => entry.family === family);
  if (usable.length === 0) return null;
  for (let step = 0; step < usable.length; step++) {
    const index = (cursor + step) % usable.length;
    const entry = usable[index]!;
    if (entry.failedAt === 0 || now - entry.failedAt >= FAILURE_PENALTY_MS) return { entry, cursor: index + 1 };
  }
  const oldest = usable.reduce((best, entry) => (entry.failedAt < best.failedAt ? entry : best));
  return { entry: oldest, cursor: usable.indexOf(oldest) + 1 };
}

/** The addresses of one host name. */
class HostAddresses {
  #entries: AddressEntry[] = [];
  #resolvedAt = 0;
  #cursor = 0;
  #lookup: Promise<void> | null = null;

  constructor(
    readonly hostname: string,
    private readonly resolve: LookupFunction,
    private readonly now: () => number,
  ) {}

  /** An address for a new connection: at once while the cache holds one, refreshing it in the background once stale. */
  async next(family: 4 | 6 | null): Promise<AddressEntry> {
    if (this.#entries.length === 0) await this.#refresh();
    else if (this.now() - this.#resolvedAt >= ADDRESS_TTL_MS) this.#refresh().catch(() => {});
    const chosen = chooseAddress(this.#entries, this.#cursor, this.now(), family);
    if (!chosen) throw Object.assign(new Error(`${this.hostname} has no IPv${family} address to reach from the bound interfaces`), { code: 'ENOTFOUND' });
    this.#cursor = chosen.cursor;
    return chosen.entry;
  }

  failed(address: string): void {
    const entry = this.#entries.find((candidate) => candidate.address === address);
    if (entry) entry.failedAt = this.now();
  }

  /** One lookup at a time; the failures already seen carry over to the addresses that remain. */
  #refresh(): Promise<void> {
    this.#lookup ??= new Promise<void>((resolve, reject) => {
      this.resolve(this.hostname, { all: true }, (error, found) => {
        // A failed lookup leaves the old answer serving for another TTL rather than asking on every connection.
        if (error) return (this.#entries.length > 0 && (this.#resolvedAt = this.now()), reject(error));
        if (found.length === 0) return reject(Object.assign(new Error(`${this.hostname} has no address`), { code: 'ENOTFOUND' }));
        const failures = new Map(this.#entries.map((entry) => [entry.address, entry.failedAt]));
        this.#entries = found.map(({ address }) => ({ address, family: isIP(address) === 6 ? 6 : 4, failedAt: failures.get(address) ?? 0 }));
        this.#resolvedAt = this.now();
        resolve();
      });
    }).finally(() => (this.#lookup = null));
    return this.#lookup;
  }
}

/** The address cache of one client. */
export class AddressBook {
  readonly #hosts = new Map<string, HostAddresses>();
  readonly #lookup: LookupFunction;
  readonly #now: () => number;

  constructor(lookup: LookupFunction = dns.lookup as LookupFunction, now: () => number = Date.now) {
    this.#lookup = lookup;
    this.#now = now;
  }

  /** The address a new connection to `hostname` (bare, no brackets) should use; an IP address is its own. */
  next(hostname: string, family: 4 | 6 | null): Promise<AddressEntry> {
    const literal = isIP(hostname);
    if (literal !== 0) return Promise.resolve({ address: hostname, family: literal as 4 | 6, failedAt: 0 });
    let host = this.#hosts.get(hostname);
    // Map order is recency: a host used moves to the end, and the first is the one to drop.
    if (host) this.#hosts.delete(hostname);
    host ??= new HostAddresses(hostname, this.#lookup, this.#now);
    this.#hosts.set(hostname, host);
    if (this.#hosts.size > MAX_HOSTS) this.#hosts.delete(this.#hosts.keys().next().value!);
    return host.next(family);
  }

  /** A connection to `address` of `hostname` could not be made. */
  failed(hostname: string, address: string): void {
    this.#hosts.get(hostname)?.failed(address);
  }
}
