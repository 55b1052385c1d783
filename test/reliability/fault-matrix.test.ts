/**
 * The fault matrix: every kind of transfer against every fault the local server can inject.
 * Each case ends byte-exact or with a typed error; only the failing part is repeated; nothing
 * is left behind (multipart uploads, target files, sockets, file handles, timers).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChecksumMismatchError,
  NetworkError,
  S3ChecksumAlgorithm,
  S3ChecksumLocation,
  S3ResponseError,
  S3RequestType,
  type S3Client,
  type S3RequestOptions,
} from '../../src/index.js';
import { startLocalS3, type FaultRule, type LocalS3, type RecordedRequest } from '../../src/local/index.js';
import { httpRequest, newClient, run, streamOf } from '../helpers/client.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, sha256, tempFolder } from '../helpers/servers.js';

const PART = 5 * MiB;
const STALL_TIMEOUT_MS = 500;
const bucket = 'matrix';
const data = makeBuffer(3 * PART - 1234);
const small = makeBuffer(MiB + 17);

type Mode = 'GET to file' | 'GET to onBody' | 'PUT from file' | 'PUT from stream' | 'PUT with CRC32C trailer' | 'DEFAULT';
const MODES: Mode[] = ['GET to file', 'GET to onBody', 'PUT from file', 'PUT from stream', 'PUT with CRC32C trailer', 'DEFAULT'];
const isGet = (mode: Mode) => mode.startsWith('GET');
const isPut = (mode: Mode) => mode.startsWith('PUT');

/** How a fault case should end: success, or the class and S3 code of the error. */
type Outcome = { ok: true } | { ok: false; error: new (...args: never[]) => Error; code?: string; s3Code?: string };

interface Case {
  /** The second part (or the only request, for DEFAULT), which most faults aim at. */
  rules: (target: Target) => FaultRule[];
  outcome: Outcome;
  /** Attempts expected per part id; every other part must be sent exactly once. */
  attempts?: (target: Target) => Record<string, number>;
  /** DEFAULT sends a PutObject instead of a GetObject, for faults on request bodies. */
  defaultPut?: boolean;
}

interface Target {
  mode: Mode;
  key: string;
  operation: string;
  /** Identifies one part in the server's log: `part 2` for uploads, the range start for downloads. */
  second: string;
  secondRule: Partial<FaultRule>;
  partIds: string[];
}

const OK: Outcome = { ok: true };

function partId(request: RecordedRequest): string | null {
  if (request.operation === 'UploadPart') return `part ${request.partNumber}`;
  if (request.operation === 'GetObject' || request.operation === 'PutObject')
    return request.headers.range ? `from ${/bytes=(\d+)-/.exec(request.headers.range)?.[1]}` : 'single';
  return null;
}

/** The fault matrix; `null` where a fault cannot happen to that kind of transfer (said in the name). */
const FAULTS: Record<string, (mode: Mode) => Case | null> = {
  '503 SlowDown on 30% of part requests': () => ({
    rules: (t) => [
      { operation: t.operation, key: t.key, probability: 0.3, seed: 7, times: Infinity, action: { type: 'error', status: 503, code: 'SlowDown' } },
    ],
    outcome: OK,
  }),
  '500 InternalError once per part': () => ({
    rules: (t) =>
      t.partIds.map((id) => ({
        operation: t.operation,
        key: t.key,
        ...ruleFor(id),
        action: { type: 'error', status: 500, code: 'InternalError' },
      })),
    outcome: OK,
    attempts: (t) => Object.fromEntries(t.partIds.map((id) => [id, 2])),
  }),
  'RequestTimeout once': () => ({
    rules: (t) => [{ operation: t.operation, key: t.key, ...t.secondRule, action: { type: 'error', status: 400, code: 'RequestTimeout' } }],
    outcome: OK,
    attempts: (t) => ({ [t.second]: 2 }),
  }),
  'connection reset after half of a response body': (mode) =>
    isPut(mode)
      ? null
      : {
          rules: (t) => [
            {
              operation: t.operation,
              key: t.key,
              ...t.secondRule,
              action: { type: 'reset-response', afterBytes: mode === 'DEFAULT' ? small.length >> 1 : PART >> 1 },
            },
          ],
          // A DEFAULT GetObject streams to the caller: bytes already delivered cannot be taken back, so it fails.
          outcome: mode === 'DEFAULT' ? { ok: false, error: NetworkError } : OK,
          attempts: (t) => ({ [t.second]: mode === 'DEFAULT' ? 1 : 2 }),
        },
  'connection reset after half of a request body': (mode) =>
    isGet(mode)
      ? null
      : {
          rules: (t) => [
            {
              operation: t.operation,
              key: t.key,
              ...t.secondRule,
              action: { type: 'reset-request', afterBytes: mode === 'DEFAULT' ? small.length >> 1 : PART >> 1 },
            },
          ],
          outcome: OK,
          attempts: (t) => ({ [t.second]: 2 }),
          defaultPut: true,
        },
  'connection reset before any byte': () => ({
    rules: (t) => [{ operation: t.operation, key: t.key, ...t.secondRule, action: { type: 'reset-request', afterBytes: 0 } }],
    outcome: OK,
    attempts: (t) => ({ [t.second]: 2 }),
  }),
  'stall longer than the no-progress timeout': (mode) => ({
    rules: (t) => [
      {
        operation: t.operation,
        key: t.key,
        ...t.secondRule,
        action: { type: 'stall', ms: 4 * STALL_TIMEOUT_MS, afterBytes: isPut(mode) ? undefined : 64 * 1024 },
      },
    ],
    outcome: mode === 'DEFAULT' ? { ok: false, error: NetworkError } : OK,
    attempts: (t) => ({ [t.second]: mode === 'DEFAULT' ? 1 : 2 }),
  }),
  'a flipped byte in one GET part, validateResponse on': (mode) =>
    isPut(mode)
      ? null
      : {
          rules: (t) => [{ operation: t.operation, key: t.key, ...t.secondRule, action: { type: 'flip-byte', offset: 1000 } }],
          // The object's checksum covers the whole body: a mismatch shows only at the end, so nothing can be retried.
          outcome: { ok: false, error: ChecksumMismatchError, code: 'AWS_ERROR_S3_RESPONSE_CHECKSUM_MISMATCH' },
          attempts: (t) => ({ [t.second]: 1 }),
        },
  'object replaced after the first request': (mode) =>
    !isGet(mode)
      ? null
      : {
          // A validated download learns the object's checksum with a HEAD first; the object changes right after it.
          rules: (t) => [{ operation: 'HeadObject', key: t.key, action: { type: 'replace-object' } }],
          outcome: { ok: false, error: S3ResponseError, code: 'AWS_ERROR_S3_INVALID_RESPONSE_STATUS', s3Code: 'PreconditionFailed' },
        },
  'CompleteMultipartUpload 200 with an InternalError body, then success': (mode) =>
    !isPut(mode)
      ? null
      : {
          rules: (t) => [{ operation: 'CompleteMultipartUpload', key: t.key, action: { type: 'error', status: 200, code: 'InternalError' } }],
          outcome: OK,
          attempts: () => ({ complete: 2 }),
        },
  'every attempt of one part fails': () => ({
    rules: (t) => [{ operation: t.operation, key: t.key, ...t.secondRule, times: Infinity, action: { type: 'error', status: 503, code: 'SlowDown' } }],
    outcome: { ok: false, error: S3ResponseError, code: 'AWS_ERROR_S3_SLOW_DOWN', s3Code: 'SlowDown' },
    attempts: (t) => ({ [t.second]: 6 }),
  }),
};

function ruleFor(id: string): Partial<FaultRule> {
  if (id.startsWith('part ')) return { partNumber: Number(id.slice(5)) };
  if (id.startsWith('from ')) return { range: `bytes=${id.slice(5)}-` };
  return {};
}

let server: LocalS3;
let folder: { path: string; remove: () => Promise<void> };
let sourceFile: string;
let caseNumber = 0;
let quiet: string[] = [];

function resources(): string[] {
  return process.getActiveResourcesInfo().sort();
}

/** Resources open now beyond those open while nothing ran (the server listening, the test runner's own). */
function extraResources(): string[] {
  const spare = [...quiet];
  return resources().filter((name) => {
    const index = spare.indexOf(name);
    if (index < 0) return true;
    spare.splice(index, 1);
    return false;
  });
}

/** Waits up to 3 s for the extra resources to close (the server's ends of closed sockets take a moment). */
async function leftOpen(): Promise<string[]> {
  const deadline = Date.now() + 3000;
  while (extraResources().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  return extraResources();
}

async function putSource(client: S3Client, key: string, body: Buffer): Promise<void> {
  const result = await run(client, {
    type: S3RequestType.PUT_OBJECT,
    request: httpRequest(server.host, 'PUT', `/${bucket}/${key}`, {}, body),
    checksumConfig: { algorithm: S3ChecksumAlgorithm.CRC32C, location: S3ChecksumLocation.TRAILER },
  });
  expect(result.error).toBeNull();
}

async function readBack(client: S3Client, key: string): Promise<Buffer> {
  const result = await run(client, { type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', `/${bucket}/${key}`) });
  expect(result.error).toBeNull();
  return result.body;
}

beforeAll(async () => {
  server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  folder = await tempFolder();
  sourceFile = join(folder.path, 'source.bin');
  await writeFile(sourceFile, data);
  const client = newClient();
  expect(
    (await run(client, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', `/${bucket}`) })).error,
  ).toBeNull();
  await client.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  quiet = resources();
});

afterAll(async () => {
  await server?.close();
  await folder?.remove();
});

function requestFor(mode: Mode, key: string, dir: string, defaultPut: boolean): Omit<S3RequestOptions, 'onHeaders' | 'onBody' | 'onDone' | 'onProgress'> {
  const path = `/${bucket}/${key}`;
  switch (mode) {
    case 'GET to file':
      return {
        type: S3RequestType.GET_OBJECT,
        request: httpRequest(server.host, 'GET', path),
        recvFilepath: join(dir, 'target.bin'),
        checksumConfig: { validateResponse: true },
      };
    case 'GET to onBody':
      return { type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', path), checksumConfig: { validateResponse: true } };
    case 'PUT from file':
      return { type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', path), sendFilepath: sourceFile };
    case 'PUT from stream':
      return { type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', path, {}, streamOf(data)) };
    case 'PUT with CRC32C trailer':
      return {
        type: S3RequestType.PUT_OBJECT,
        request: httpRequest(server.host, 'PUT', path, {}, data),
        checksumConfig: { algorithm: S3ChecksumAlgorithm.CRC32C, location: S3ChecksumLocation.TRAILER },
      };
    case 'DEFAULT':
      return defaultPut
        ? { type: S3RequestType.DEFAULT, operationName: 'PutObject', request: httpRequest(server.host, 'PUT', path, {}, small) }
        : {
            type: S3RequestType.DEFAULT,
            operationName: 'GetObject',
            request: httpRequest(server.host, 'GET', path),
            checksumConfig: { validateResponse: true },
          };
  }
}

function targetFor(mode: Mode, key: string, defaultPut: boolean): Target {
  if (isPut(mode)) {
    return { mode, key, operation: 'UploadPart', second: 'part 2', secondRule: { partNumber: 2 }, partIds: ['part 1', 'part 2', 'part 3'] };
  }
  if (isGet(mode)) {
    return {
      mode,
      key,
      operation: 'GetObject',
      second: `from ${PART}`,
      secondRule: { range: `bytes=${PART}-` },
      partIds: ['from 0', `from ${PART}`, `from ${2 * PART}`],
    };
  }
  return { mode, key, operation: defaultPut ? 'PutObject' : 'GetObject', second: 'single', secondRule: {}, partIds: ['single'] };
}

/**
 * The cells of the matrix that cannot happen, and why; a test holds FAULTS to this table, so that
 * a cell is never left out by mistake.
 *
 * | fault | transfers | why it cannot happen |
 * |---|---|---|
 * | connection reset after half of a response body | the three PUTs | an upload's answers have no body to cut |
 * | connection reset after half of a request body | the two GETs | a download sends no body |
 * | a flipped byte in one GET part | the three PUTs | nothing is downloaded to validate |
 * | object replaced after the first request | the PUTs and DEFAULT | only a split GET reads one object in several requests |
 * | CompleteMultipartUpload 200 with an error body | the GETs and DEFAULT | only a multipart upload completes |
 */
const CANNOT_HAPPEN: Record<string, Mode[]> = {
  'connection reset after half of a response body': ['PUT from file', 'PUT from stream', 'PUT with CRC32C trailer'],
  'connection reset after half of a request body': ['GET to file', 'GET to onBody'],
  'a flipped byte in one GET part, validateResponse on': ['PUT from file', 'PUT from stream', 'PUT with CRC32C trailer'],
  'object replaced after the first request': ['PUT from file', 'PUT from stream', 'PUT with CRC32C trailer', 'DEFAULT'],
  'CompleteMultipartUpload 200 with an InternalError body, then success': ['GET to file', 'GET to onBody', 'DEFAULT'],
};

it('the cells without a case are exactly the ones that cannot happen', () => {
  const missing: Record<string, Mode[]> = {};
  for (const [name, make] of Object.entries(FAULTS)) {
    const modes = MODES.filter((mode) => make(mode) === null);
    if (modes.length > 0) missing[name] = modes;
  }
  expect(missing).toEqual(CANNOT_HAPPEN);
});

describe.each(MODES)('%s', (mode) => {
  for (const [name, make] of Object.entries(FAULTS)) {
    const spec = make(mode);
    if (!spec) continue;
    it(name, { timeout: 30_000 }, async () => {
      const key = `case-${++caseNumber}`;
      const defaultPut = mode === 'DEFAULT' && spec.defaultPut === true;
      const expected = mode === 'DEFAULT' ? small : data;
      const dir = join(folder.path, key);
      await mkdir(dir);
      const setup = newClient({ partSize: PART });
      if (!isPut(mode) && !defaultPut) await putSource(setup, key, expected);
      await setup.close();

      const target = targetFor(mode, key, defaultPut);
      server.resetRequests();
      for (const rule of spec.rules(target)) server.faults.add(rule);
      const client = newClient({ partSize: PART, stallTimeoutMs: STALL_TIMEOUT_MS });
      const started = Date.now();
      const result = await run(client, requestFor(mode, key, dir, defaultPut));
      const elapsed = Date.now() - started;
      server.faults.clear();
      const log = [...server.requests];
      await client.close();

      // Nothing left open: the client's sockets, file handles and timers are gone once it is closed.
      expect(await leftOpen()).toEqual([]);
      expect(elapsed).toBeLessThan(20_000);

      if (spec.outcome.ok) {
        expect(result.error).toBeNull();
        const check = newClient();
        const bytes =
          mode === 'GET to file'
            ? await readFile(join(dir, 'target.bin'))
            : isGet(mode) || (mode === 'DEFAULT' && !defaultPut)
              ? result.body
              : await readBack(check, key);
        await check.close();
        expect(bytes.length).toBe(expected.length);
        expect(sha256(bytes)).toBe(sha256(expected));
      } else {
        expect(result.error).toBeInstanceOf(spec.outcome.error);
        if (spec.outcome.code) expect(result.error).toMatchObject({ code: spec.outcome.code });
        if (spec.outcome.s3Code) expect(result.error).toMatchObject({ s3Code: spec.outcome.s3Code });
        if (mode === 'GET to file') expect(await readdir(dir)).toEqual([]);
      }

      // Only the failing part was repeated.
      const attempts = new Map<string, RecordedRequest[]>();
      for (const request of log) {
        const id = request.operation === 'CompleteMultipartUpload' ? 'complete' : request.key === key ? partId(request) : null;
        if (id) attempts.set(id, [...(attempts.get(id) ?? []), request]);
      }
      const wanted = spec.attempts?.(target) ?? {};
      if (name.startsWith('503 SlowDown on 30%')) {
        const throttled = log.filter((request) => request.status === 503).length;
        expect(throttled).toBeGreaterThan(0);
        for (const [id, requests] of attempts) {
          if (id === 'complete') continue;
          expect(requests.filter((request) => request.status < 300).length, id).toBe(1);
          expect(
            requests.every((request) => request.status < 300 || request.status === 503),
            id,
          ).toBe(true);
        }
      } else if (spec.outcome.ok || spec.attempts) {
        for (const id of target.partIds) {
          if (!attempts.has(id) && !spec.outcome.ok) continue;
          expect(attempts.get(id)?.length ?? 0, id).toBe(wanted[id] ?? 1);
        }
        if (wanted.complete) expect(attempts.get('complete')?.length).toBe(wanted.complete);
      }

      // A failed or finished upload leaves no multipart upload behind.
      const check = newClient();
      const uploads = await run(check, {
        type: S3RequestType.DEFAULT,
        operationName: 'ListMultipartUploads',
        request: httpRequest(server.host, 'GET', `/${bucket}?uploads`),
      });
      await check.close();
      expect(uploads.body.toString()).not.toContain('<Upload>');
    });
  }
});
