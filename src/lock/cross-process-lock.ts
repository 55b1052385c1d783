/**
 * An exclusive lock shared by every process of this user on this host that uses
 * the same name, released by the operating system when its holder dies.
 *
 * The lock is a listening local socket: binding its address is atomic, only one
 * process can hold it, and the kernel unbinds it when the process exits, however
 * it exits. On Linux the address is in the abstract namespace (no file at all);
 * on Windows it is a named pipe; on other Unix systems (macOS) it is a socket
 * file in a private folder of the OS temp folder (mode 0700), where a file left
 * by a dead holder is recognised because nothing answers on it and is replaced.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, S3txError } from '../core/errors.js';

/** The lock is held by another process (or another CrossProcessLock of this one). */
export class LockNotOwnedError extends S3txError {
  constructor(name: string) {
    super('AWS_ERROR_MUTEX_CALLER_NOT_OWNER', `the lock "${name}" is held by another process`);
  }
}

const MAX_NAME_BYTES = 255;

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('lockScopeName', 'must be a non-empty string');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new InvalidArgumentError('lockScopeName', `is longer than ${MAX_NAME_BYTES} bytes`);
  if (name.includes('/') || name.includes('\0')) throw new InvalidArgumentError('lockScopeName', 'must not contain "/" or NUL');
  return name;
}

function userId(): string {
  return typeof process.getuid === 'function' ? String(process.getuid()) : userInfo().username;
}

/** The socket address of a lock name for this user on this platform. Names are hashed to fit socket path limits. */
export function lockAddress(name: string, platform: NodeJS.Platform = process.platform): string {
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 40);
  if (platform === 'linux') return `\0s3tx-lock-${userId()}-${digest}`;
  if (platform === 'win32') return `\\\\.\\pipe\\s3tx-lock-${userId()}-${digest}`;
  return join(privateFolder(), `${digest}.sock`);
}

/** `<tmp>/s3tx-locks-<uid>`, created 0700 and refused when another user could write to it. */
function privateFolder(): string {
  const folder = join(tmpdir(), `s3tx-locks-${userId()}`);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const stats = lstatSync(folder);
  if (!stats.isDirectory() || (stats.mode & 0o022) !== 0 || (typeof process.getuid === 'function' && stats.uid !== process.getuid())) {
    throw new S3txError('AWS_ERROR_FILE_INVALID_PATH', `${folder} is not a private folder of this user; remove it`);
  }
  return folder;
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen({ path, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Whether something answers on a socket file (a live holder) or not (a file its dead holder left). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code !== 'ECONNREFUSED' && error.code !== 'ENOENT'));
  });
}

/** An exclusive lock across processes, named by its scope. */
export class CrossProcessLock {
  readonly lockScopeName: string;
  #server: Server | null = null;
  #acquiring: Promise<this> | null = null;

  /** Throws InvalidArgumentError for an empty name, one over 255 bytes, or one containing "/" or NUL. */
  constructor(lockScopeName: string) {
    this.lockScopeName = checkName(lockScopeName);
  }

  /** Whether this object holds the lock. */
  get held(): boolean {
    return this.#server !== null;
  }

  /**
   * Takes the lock, or rejects with {@link LockNotOwnedError} (code `AWS_ERROR_MUTEX_CALLER_NOT_OWNER`)
   * when another holder has it. Resolves to this lock, for `using lock = await new CrossProcessLock(name).acquire()`.
   */
  acquire(): Promise<this> {
    if (this.#server) return Promise.resolve(this);
    this.#acquiring ??= this.#bind().finally(() => (this.#acquiring = null));
    return this.#acquiring;
  }

  async #bind(): Promise<this> {
    const address = lockAddress(this.lockScopeName);
    const fileBacked = !address.startsWith('\0') && !address.startsWith('\\\\.\\pipe\\');
    for (let attempt = 0; attempt < 2; attempt++) {
      const server = createServer((socket) => socket.destroy());
      try {
        await listen(server, address);
        // Holding the lock must not keep the process alive.
        server.unref();
        this.#server = server;
        return this;
      } catch (error) {
        server.close();
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
        if (!fileBacked || attempt > 0 || (await answers(address))) break;
        unlinkSync(address);
      }
    }
    throw new LockNotOwnedError(this.lockScopeName);
  }

  /** Releases the lock; a no-op when this object does not hold it. */
  release(): void {
    const server = this.#server;
    this.#server = null;
    server?.close();
  }

  [Symbol.dispose](): void {
    this.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}

/** Runs `work` while holding the named lock, releasing it afterwards whatever happens. */
export async function withLock<T>(lockScopeName: string, work: () => T | Promise<T>): Promise<T> {
  const lock = await new CrossProcessLock(lockScopeName).acquire();
  try {
    return await work();
  } finally {
    lock.release();
  }
}
