/**
 * Checksums of whole part buffers on worker threads, so that integrity costs the
 * thread that drives the sockets one message per part instead of a pass over the
 * bytes. A part in shared memory (a SharedArrayBuffer) is read by the worker in
 * place while the caller goes on using it: uploads, whose parts the kernel reads
 * from the file into shared buffers, send a part while its checksum runs. Other
 * memory moves to the worker (a transfer, not a copy) and comes back with the
 * checksum, unreadable meanwhile: downloads, whose parts the worker copies out of
 * shared memory (into its kernels' memory) about half as fast as out of plain
 * memory, measured in a validated GET.
 *
 * Small buffers, where a message costs more than it saves, are checksummed on the
 * calling thread, and transfers hand over only their own part buffers, never a
 * caller's memory. The results are the same either way.
 *
 * The workers run a script given as source rather than a file, so that s3tx keeps
 * working when bundled into one file. They start on first use, keep the process
 * alive only while they have work, and stop after a few idle seconds.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { S3ChecksumAlgorithm } from '../core/enums.js';
import { S3txError } from '../core/errors.js';
import { checksumName, createChecksum } from './index.js';
import { crcModule, foldedCrc32c, runStaged } from './wasm-crc.js';

/** Below this a message round trip (tens of microseconds) is not worth it. */
const OFFLOAD_MIN_BYTES = 256 * 1024;
const IDLE_MS = 5000;
const MAX_THREADS = Math.max(1, Math.min(4, availableParallelism() - 1));

/**
 * The worker's script, which runs as CommonJS or as a module (a worker inherits the
 * parent's flags, `--input-type=module` among them), hence getBuiltinModule. It
 * instantiates the same WebAssembly CRC kernels (the compiled module comes in
 * workerData), runs them with wasm-crc.ts's own runStaged and foldedCrc32c (parts
 * reach the thread only from 256 KiB, above foldedCrc32c's 64 KiB), says it is
 * ready, and answers each part with the checksum's bytes, moving plain memory back.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const { createHash } = process.getBuiltinModule('node:crypto');
const { crc32 } = process.getBuiltinModule('node:zlib');
const kernels = new WebAssembly.Instance(workerData.crcModule).exports;
kernels.init();
const heap = Buffer.from(kernels.memory.buffer);
const runStaged = ${runStaged.toString()};
const foldedCrc32c = ${foldedCrc32c.toString()};
function digest(algorithm, data) {
  if (algorithm === 'crc32c' || algorithm === 'crc32') {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(algorithm === 'crc32' ? crc32(data) : foldedCrc32c(kernels, data));
    return out;
  }
  if (algorithm === 'crc64nvme') {
    const out = Buffer.alloc(8);
    out.writeBigUInt64BE(BigInt.asUintN(64, ~runStaged(kernels.crc64nvme, heap, -1n, data)));
    return out;
  }
  return createHash(algorithm).update(data).digest();
}
parentPort.on('message', ({ id, algorithm, memory, offset, length }) => {
  let reply;
  try {
    reply = { id, memory, digest: digest(algorithm, new Uint8Array(memory, offset, length)) };
  } catch (error) {
    reply = { id, memory, error: String((error && error.message) || error) };
  }
  parentPort.postMessage(reply, memory instanceof SharedArrayBuffer ? [] : [memory]);
});
parentPort.postMessage({ ready: true });
`;

/** A checksum and the bytes it was computed over, in a Buffer that may not be the one given. */
export interface MovedDigest {
  digest: Buffer;
  data: Buffer;
}

interface Job {
  algorithm: S3ChecksumAlgorithm;
  data: Buffer;
  /** Where `data` lies in its memory, kept apart because `data` reads as empty once the memory moves. */
  offset: number;
  length: number;
  resolve(result: MovedDigest): void;
  reject(error: Error): void;
}

interface Reply {
  ready?: true;
  id: number;
  memory: ArrayBuffer | SharedArrayBuffer;
  digest?: Uint8Array;
  error?: string;
}

class ChecksumThread {
  readonly #worker: Worker;
  readonly #jobs = new Map<number, Job>();
  /** Jobs taken before the worker said it is ready: their memory has not moved yet. */
  #waiting: Array<[number, Job]> | null = [];
  #idle: NodeJS.Timeout | null = null;
  #stopping = false;

  /** `onGone` runs when the worker stops; `failed` when it was not told to. */
  constructor(onGone: (thread: ChecksumThread, failed: boolean) => void) {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { crcModule: crcModule() } });
    this.#worker.on('message', (reply: Reply) => (reply.ready ? this.#start() : this.#settle(reply)));
    const gone = (failed: boolean) => {
      this.#clearIdle();
      onGone(this, failed);
      // A worker that never started took no memory: those parts are checksummed here.
      for (const [, job] of this.#waiting ?? []) computeHere(job);
      this.#waiting = null;
      // The memory of jobs in flight went with the worker.
      for (const job of this.#jobs.values()) job.reject(new S3txError('AWS_ERROR_INVALID_STATE', 'a checksum thread stopped with a part in hand'));
      this.#jobs.clear();
    };
    this.#worker.on('error', () => gone(true));
    this.#worker.on('exit', () => gone(!this.#stopping));
    this.#worker.unref();
  }

  get load(): number {
    return this.#jobs.size + (this.#waiting?.length ?? 0);
  }

  /** Takes a job: sent to the worker, shared or moved, or held until it is ready; false when its memory can do neither. */
  take(id: number, job: Job): boolean {
    this.#clearIdle();
    if (this.load === 0) this.#worker.ref();
    if (this.#waiting) {
      this.#waiting.push([id, job]);
      return true;
    }
    return this.#post(id, job);
  }

  #post(id: number, job: Job): boolean {
    const memory = job.data.buffer;
    try {
      const moved = memory instanceof SharedArrayBuffer ? [] : [memory];
      this.#worker.postMessage({ id, algorithm: checksumName(job.algorithm), memory, offset: job.offset, length: job.length }, moved);
    } catch {
      if (this.load === 0) this.#rest();
      return false;
    }
    this.#jobs.set(id, job);
    return true;
  }

  #start(): void {
    const waiting = this.#waiting ?? [];
    this.#waiting = null;
    for (const [id, job] of waiting) if (!this.#post(id, job)) computeHere(job);
  }

  #settle(reply: Reply): void {
    const job = this.#jobs.get(reply.id);
    if (!job) return;
    this.#jobs.delete(reply.id);
    if (this.load === 0) this.#rest();
    const data = Buffer.from(reply.memory, job.offset, job.length);
    if (reply.digest) job.resolve({ digest: Buffer.from(reply.digest.buffer, reply.digest.byteOffset, reply.digest.byteLength), data });
    else job.reject(new S3txError('AWS_ERROR_INVALID_STATE', `a checksum thread failed: ${reply.error}`));
  }

  #rest(): void {
    this.#clearIdle();
    this.#worker.unref();
    this.#idle = setTimeout(() => {
      this.#stopping = true;
      void this.#worker.terminate();
    }, IDLE_MS);
    this.#idle.unref();
  }

  #clearIdle(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
  }
}

const threads: ChecksumThread[] = [];
let nextId = 0;
/** Set when a worker failed; from then on everything is computed on the calling thread. */
let unavailable = false;

function forget(thread: ChecksumThread, failed: boolean): void {
  const index = threads.indexOf(thread);
  if (index >= 0) threads.splice(index, 1);
  if (failed) unavailable = true;
}

/** The least busy thread, started if an idle one is missing and the limit allows; null when none can run. */
function threadFor(): ChecksumThread | null {
  if (unavailable) return null;
  let least: ChecksumThread | undefined;
  for (const thread of threads) if (!least || thread.load < least.load) least = thread;
  if (least && (least.load === 0 || threads.length >= MAX_THREADS)) return least;
  try {
    const thread = new ChecksumThread(forget);
    threads.push(thread);
    return thread;
  } catch {
    unavailable = true;
    return least ?? null;
  }
}

/** Whether a checksum thread can read the bytes in place, while this thread uses them too. */
export function isShared(data: Uint8Array): boolean {
  return data.buffer instanceof SharedArrayBuffer;
}

function computeHere(job: Job): void {
  try {
    job.resolve({ digest: createChecksum(job.algorithm).update(job.data).digest(), data: job.data });
  } catch (error) {
    job.reject(error as Error);
  }
}

/**
 * The checksum of `data`, as S3 encodes it (big-endian bytes), with the bytes it was computed
 * over. Large buffers go to a checksum thread. Shared memory stays readable, but must not change
 * until the promise settles. Other memory moves there: `data` is detached (reads as empty) until
 * the bytes come back in the result's `data`, which is the one to use afterwards; if a thread
 * dies holding them, they are lost and the promise rejects.
 */
export function digestOf(algorithm: S3ChecksumAlgorithm, data: Buffer): Promise<MovedDigest> {
  return new Promise<MovedDigest>((resolve, reject) => {
    const job: Job = { algorithm, data, offset: data.byteOffset, length: data.length, resolve, reject };
    const thread = data.length >= OFFLOAD_MIN_BYTES ? threadFor() : null;
    if (!thread?.take(nextId++, job)) computeHere(job);
  });
}

/** For tests: how many checksum threads are running now. */
export function checksumThreadCount(): number {
  return threads.length;
}
