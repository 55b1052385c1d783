/**
 * S3's many addresses: a name that resolves to 127.0.0.2, .3 and .4, with a local server on each
 * (one disk folder behind all three, as S3's front ends share one store). A multipart PUT and GET
 * spread their connections over all three; when one stops mid-transfer, the transfer completes on
 * the others. Plus the address cache's rules as pure functions, and IPv6 endpoints.
 */
import dns, { type LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESS_TTL_MS, AddressBook, FAILURE_PENALTY_MS, MAX_HOSTS, chooseAddress, type AddressEntry, type LookupFunction } from '../src/http/addresses.js';
import type { S3Client } from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { createBucket, newClient } from './helpers/client.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, tempFolder } from './helpers/servers.js';

const NAME = 's3.many.test';
const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const bucket = 'spread';
let servers: LocalS3[] = [];
let folder: { path: string; remove: () => Promise<void> };
let lookups = 0;

const lookup: LookupFunction = (hostname, options, callback) => {
  if (hostname !== NAME) return dns.lookup(hostname, options, callback);
  lookups++;
  callback(
    null,
    ADDRESSES.map((address) => ({ address, family: 4 })),
  );
};

function client(): S3Client {
  return newClient({ endpoint: `http://${NAME}:${servers[0]!.port}`, partSize: 4 * MiB, maxConnections: 6, lookup });
}

/** Requests each server logged for `key`, by address. */
function countsFor(key: string): number[] {
  return servers.map((server) => server.requests.filter((request) => request.path === `/${bucket}/${key}`).length);
}

beforeAll(async () => {
  folder = await tempFolder();
  const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
  const first = await startLocalS3({ host: ADDRESSES[0], root: folder.path, credentials });
  servers = [first];
  for (const host of ADDRESSES.slice(1)) servers.push(await startLocalS3({ host, port: first.port, root: folder.path, credentials }));
  await createBucket(first, bucket);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await folder?.remove();
});

describe('a host with three addresses', () => {
  it('a multipart PUT and GET use all three, with one lookup for the client', async () => {
    const data = makeBuffer(48 * MiB);
    lookups = 0;
    const c = client();
    try {
      await c.upload({ bucket, key: 'spread.bin', body: data });
      const put = countsFor('spread.bin');
      expect(
        put.every((count) => count > 0),
        `PUTs per address ${put}`,
      ).toBe(true);
      servers.forEach((server) => server.resetRequests());
      const chunks: Buffer[] = [];
      for await (const chunk of c.downloadStream({ bucket, key: 'spread.bin' })) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
      const get = countsFor('spread.bin');
      expect(
        get.every((count) => count > 0),
        `GETs per address ${get}`,
      ).toBe(true);
    } finally {
      await c.close();
    }
    expect(lookups).toBe(1);
  });

  it('when one address stops mid-transfer, the GET and the PUT complete on the others', async () => {
    const data = makeBuffer(64 * MiB);
    const setup = client();
    try {
      await setup.upload({ bucket, key: 'failover.bin', body: data });
    } finally {
      await setup.close();
    }
    const c = client();
    try {
      const stopping = servers[2]!;
      servers.forEach((server) => server.resetRequests());
      let stopped: Promise<void> | null = null;
      let servedBeforeStop = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of c.downloadStream({ bucket, key: 'failover.bin' })) {
        chunks.push(chunk as Buffer);
        if (stopped || stopping.requests.length === 0) continue;
        servedBeforeStop = stopping.requests.length;
        stopped = stopping.close();
      }
      await stopped;
      expect(servedBeforeStop).toBeGreaterThan(0);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
      servers.forEach((server) => server.resetRequests());
      await c.upload({ bucket, key: 'after-failover.bin', body: data });
      const counts = countsFor('after-failover.bin');
      expect(counts[2]).toBe(0);
      // 64 MiB in 5 MiB parts (S3's least), with the create and complete requests: 15, on the two left.
      expect(counts[0]! + counts[1]!).toBe(15);
      expect(counts[0]! > 0 && counts[1]! > 0).toBe(true);
    } finally {
      await c.close();
    }
  });
});

describe('the address cache', () => {
  const entries = (...failedAt: number[]): AddressEntry[] => failedAt.map((at, i) => ({ address: `10.0.0.${i + 1}`, family: 4, failedAt: at }));

  it('hands out addresses in turn, passing over one that failed within the penalty', () => {
    const list = entries(0, 0, 0);
    const picks: string[] = [];
    let cursor = 0;
    for (let i = 0; i < 6; i++) {
      const chosen = chooseAddress(list, cursor, 1_000_000)!;
      picks.push(chosen.entry.address);
      cursor = chosen.cursor;
    }
    expect(picks).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
    const now = 1_000_000;
    expect(chooseAddress(entries(0, now - 1000, 0), 1, now)!.entry.address).toBe('10.0.0.3');
    expect(chooseAddress(entries(0, now - FAILURE_PENALTY_MS, 0), 1, now)!.entry.address).toBe('10.0.0.2');
    // When every one has failed, the one that failed longest ago.
    expect(chooseAddress(entries(now - 10, now - 30, now - 20), 0, now)!.entry.address).toBe('10.0.0.2');
  });

  it('keeps to the family of the bound address, and says when there is none of it', () => {
    const mixed: AddressEntry[] = [
      { address: '::1', family: 6, failedAt: 0 },
      { address: '127.0.0.1', family: 4, failedAt: 0 },
    ];
    expect(chooseAddress(mixed, 0, 0, 4)!.entry.address).toBe('127.0.0.1');
    expect(chooseAddress(mixed, 0, 0, 6)!.entry.address).toBe('::1');
    expect(chooseAddress(mixed.slice(1), 0, 0, 6)).toBeNull();
  });

  it('looks up once per TTL, refreshing in the background while the old answer serves, and keeps failures across it', async () => {
    let now = 1_000_000;
    let answer: LookupAddress[] = [
      { address: '10.0.0.1', family: 4 },
      { address: '10.0.0.2', family: 4 },
    ];
    let calls = 0;
    const book = new AddressBook(
      (_name, _options, callback) => {
        calls++;
        setImmediate(() => callback(null, answer));
      },
      () => now,
    );
    expect((await book.next('s3.test', null)).address).toBe('10.0.0.1');
    book.failed('s3.test', '10.0.0.2');
    expect((await book.next('s3.test', null)).address).toBe('10.0.0.1');
    expect(calls).toBe(1);
    now += ADDRESS_TTL_MS;
    answer = [...answer, { address: '10.0.0.3', family: 4 }];
    // The stale answer serves at once; the new one arrives for the next connection.
    expect(['10.0.0.1', '10.0.0.2']).toContain((await book.next('s3.test', null)).address);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(2);
    const next = new Set([(await book.next('s3.test', null)).address, (await book.next('s3.test', null)).address]);
    expect(next).toEqual(new Set(['10.0.0.1', '10.0.0.3']));
    expect((await book.next('127.0.0.9', null)).address).toBe('127.0.0.9');
    expect(calls).toBe(2);
  });

  it('a lookup that fails fails the connection with the resolver error, and is asked again next time', async () => {
    let fail = true;
    const book = new AddressBook((_name, _options, callback) =>
      fail
        ? callback(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' }), [])
        : callback(null, [{ address: '10.1.1.1', family: 4 }]),
    );
    await expect(book.next('nowhere.test', null)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    fail = false;
    expect((await book.next('nowhere.test', null)).address).toBe('10.1.1.1');
  });
});

describe('IPv6', () => {
  let v6: LocalS3;

  beforeAll(async () => {
    v6 = await startLocalS3({ host: '::1', credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    await createBucket(v6, bucket);
  });

  afterAll(async () => {
    await v6?.close();
  });

  it('an endpoint [::1]:port and a name with only an AAAA record carry multipart transfers, signed for their Host', async () => {
    expect(v6.endpoint).toBe(`http://[::1]:${v6.port}`);
    const sixOnly: LookupFunction = (hostname, options, callback) =>
      hostname === 'aaaa-only.test' ? callback(null, [{ address: '::1', family: 6 }]) : dns.lookup(hostname, options, callback);
    for (const endpoint of [v6.endpoint, `http://aaaa-only.test:${v6.port}`]) {
      const data = makeBuffer(12 * MiB);
      const c = newClient({ endpoint, partSize: 5 * MiB, lookup: sixOnly });
      v6.resetRequests();
      try {
        await c.upload({ bucket, key: 'six.bin', body: data });
        const chunks: Buffer[] = [];
        for await (const chunk of c.downloadStream({ bucket, key: 'six.bin' })) chunks.push(chunk as Buffer);
        expect(Buffer.concat(chunks).equals(data), endpoint).toBe(true);
      } finally {
        await c.close();
      }
      expect(new Set(v6.requests.map((request) => request.headers.host))).toEqual(new Set([new URL(endpoint).host]));
      expect(v6.requests.every((request) => request.status < 300)).toBe(true);
    }
  });
});

describe('lookups that misbehave', () => {
  it('a resolver that never answers fails the connection within the connect timeout', async () => {
    const silent: LookupFunction = () => {};
    const c = newClient({ endpoint: 'http://never.answers.test:9', lookup: silent, connectTimeoutMs: 300, maxRetries: 0 });
    const started = Date.now();
    try {
      await expect(c.headObject({ bucket, key: 'x' })).rejects.toMatchObject({
        code: 'ERR_S3TX_NETWORK',
        message: expect.stringContaining('resolving never.answers.test timed out after 300 ms'),
      });
    } finally {
      await c.close();
    }
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('keeps at most MAX_HOSTS host names, the least recently used dropped', async () => {
    let calls = 0;
    const book = new AddressBook((_name, _options, callback) => {
      calls++;
      callback(null, [{ address: '10.9.9.9', family: 4 }]);
    });
    await book.next('host-0.test', null);
    for (let i = 1; i <= MAX_HOSTS; i++) await book.next(`host-${i}.test`, null);
    expect(calls).toBe(MAX_HOSTS + 1);
    // host-0 was the least recently used: dropped, so it is looked up again; host-MAX_HOSTS is still held.
    await book.next(`host-${MAX_HOSTS}.test`, null);
    expect(calls).toBe(MAX_HOSTS + 1);
    await book.next('host-0.test', null);
    expect(calls).toBe(MAX_HOSTS + 2);
  });

  it('takes a family given as a string, and a failed refresh keeps the old answer for another TTL', async () => {
    let now = 1_000_000;
    let fail = false;
    let calls = 0;
    const book = new AddressBook(
      (_name, _options, callback) => {
        calls++;
        if (fail) callback(Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' }), []);
        else callback(null, [{ address: 'fd00::1', family: 'IPv6' as unknown as number }]);
      },
      () => now,
    );
    expect((await book.next('six.test', 6)).address).toBe('fd00::1');
    fail = true;
    now += ADDRESS_TTL_MS;
    expect((await book.next('six.test', 6)).address).toBe('fd00::1');
    await new Promise((resolve) => setImmediate(resolve));
    // The refresh failed; the next connections use the old answer without asking again until a TTL has passed.
    for (let i = 0; i < 5; i++) expect((await book.next('six.test', 6)).address).toBe('fd00::1');
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(2);
    now += ADDRESS_TTL_MS;
    await book.next('six.test', 6);
    expect(calls).toBe(3);
  });
});
