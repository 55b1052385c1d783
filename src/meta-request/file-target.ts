/**
 * A download's destination file, written atomically: positional writes into
 * `<target>.<random>.s3tx-tmp` in the same folder, renamed over the target only
 * on success and removed otherwise, so a failed transfer never leaves a
 * truncated file under the target's name. A resumable download writes into
 * `<target>.s3tx-partial` instead, beside a small state file naming the object
 * (ETag, size, part size) and the parts already written; both stay after a
 * failure, for the next attempt to continue from.
 *
 * The folder may be shared with other users, who can plant a symbolic link (or a hard link to a
 * file of ours) under any of these names. So every file is created with O_CREAT|O_EXCL, which
 * never follows a link; a partial or state file is continued only when it is opened with
 * O_NOFOLLOW and turns out to be a regular file of this user with no other name; the state is
 * replaced through a fresh exclusive file and a rename, which replaces a link rather than writing
 * through it. A name taken by anything else is an UnsafePathError that names it.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { FileIoError, UnsafePathError } from '../core/errors.js';

/** Where a resumable download stands: the object it is of, and the parts already in the partial file. */
export interface DownloadState {
  etag: string;
  size: number;
  first: number;
  partSize: number;
  done: number[];
}

// O_NOFOLLOW does not exist on Windows, where creating a symbolic link needs privileges anyway.
// O_NONBLOCK keeps a FIFO planted under the name from blocking the open; it means nothing for a regular file.
const OPEN_OWN = constants.O_RDWR | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
/** A state file lists at most 10,000 part numbers: a larger one is not s3tx's. */
const MAX_STATE_BYTES = 1024 * 1024;

/**
 * Opens an existing file of s3tx's own to continue it, or returns null when there is none. Never
 * through a link; and only a regular file of this user that has no other name (a hard link to
 * another of the user's files would have the download written into that file).
 */
async function openOwn(path: string): Promise<FileHandle | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_OWN);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new UnsafePathError(path, 'is a symbolic link');
    if (code === 'EISDIR') throw new UnsafePathError(path, 'is a folder');
    throw new FileIoError(`cannot open ${path}: ${(error as Error).message}`, error);
  }
  const info = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw new FileIoError(`cannot read what ${path} is: ${(error as Error).message}`, error);
  });
  const uid = process.getuid?.();
  const reason = !info.isFile()
    ? 'is not a regular file'
    : uid !== undefined && info.uid !== uid
      ? 'belongs to another user'
      : info.nlink > 1
        ? 'has other names (hard links)'
        : null;
  if (reason === null) return handle;
  await handle.close();
  throw new UnsafePathError(path, reason);
}

/** Creates `path` for reading and writing; a name already taken (by a file, a link, anything) is an UnsafePathError. */
async function createExclusive(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'wx+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UnsafePathError(path, 'already exists');
    throw new FileIoError(`cannot create ${path}: ${(error as Error).message}`, error);
  }
}

/** Replaces `path` with `text` whole: written into a new file of a random name, then renamed over it. */
async function replaceFile(path: string, text: string): Promise<void> {
  const fresh = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(fresh, text, { flag: 'wx', mode: 0o600 });
    await rename(fresh, path);
  } catch (error) {
    await unlink(fresh).catch(() => {});
    throw error;
  }
}

/** A state file's contents, or null when they are not a state s3tx wrote. */
function parseState(text: string): DownloadState | null {
  let state: Partial<DownloadState>;
  try {
    state = JSON.parse(text) as Partial<DownloadState>;
  } catch {
    return null;
  }
  const counts = [state?.size, state?.first, state?.partSize];
  const valid =
    typeof state?.etag === 'string' &&
    counts.every((count) => Number.isSafeInteger(count) && count! >= 0) &&
    Array.isArray(state.done) &&
    state.done.every((part) => Number.isSafeInteger(part) && part >= 0);
  return valid ? (state as DownloadState) : null;
}

/** What an earlier attempt left in its state file: null when there is none or it cannot be read as one. */
async function readState(path: string): Promise<DownloadState | null> {
  const handle = await openOwn(path);
  if (!handle) return null;
  try {
    const { size } = await handle.stat();
    if (size > MAX_STATE_BYTES) return null;
    return parseState(await handle.readFile('utf8'));
  } finally {
    await handle.close();
  }
}

export class FileTarget {
  readonly path: string;
  readonly tempPath: string;
  /** The state file of a resumable download, else null. */
  readonly statePath: string | null;
  #handle: FileHandle | null = null;
  #appendOffset = 0;
  #appending: Promise<void> = Promise.resolve();
  #saving: Promise<void> = Promise.resolve();

  private constructor(path: string, tempPath: string, handle: FileHandle, statePath: string | null = null) {
    this.path = path;
    this.tempPath = tempPath;
    this.#handle = handle;
    this.statePath = statePath;
  }

  /**
   * Continues `<path>.s3tx-partial` with what an earlier attempt left in its state file, or starts
   * it afresh. The state counts only beside the partial file it describes.
   */
  static async createResumable(path: string): Promise<{ target: FileTarget; state: DownloadState | null }> {
    const tempPath = `${path}.s3tx-partial`;
    const statePath = `${tempPath}.json`;
    let handle = await openOwn(tempPath);
    let state: DownloadState | null = null;
    try {
      if (handle) {
        state = await readState(statePath);
        // Bytes without a state to say which parts they are: start over.
        if (!state) await handle.truncate(0);
      } else {
        handle = await createExclusive(tempPath);
      }
    } catch (error) {
      await handle?.close();
      if (error instanceof UnsafePathError) throw error;
      throw new FileIoError(`cannot prepare ${tempPath}: ${(error as Error).message}`, error);
    }
    return { target: new FileTarget(path, tempPath, handle, statePath), state };
  }

  /** Records a resumable download's progress, each write replacing the last whole: a kill mid-write leaves the previous. */
  saveState(state: DownloadState): Promise<void> {
    const statePath = this.statePath;
    if (!statePath) return Promise.resolve();
    const text = JSON.stringify(state);
    this.#saving = this.#saving.then(() => replaceFile(statePath, text));
    return this.#saving;
  }

  static async create(path: string): Promise<FileTarget> {
    const tempPath = `${path}.${randomBytes(6).toString('hex')}.s3tx-tmp`;
    return new FileTarget(path, tempPath, await createExclusive(tempPath));
  }

  /** Writes all of `data` at `position`. */
  async write(data: Buffer, position: number): Promise<void> {
    const handle = this.#handle;
    if (!handle) throw new FileIoError(`${this.tempPath} is already closed`, null);
    try {
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
        written += bytesWritten;
      }
    } catch (error) {
      throw new FileIoError(`cannot write ${this.tempPath}: ${(error as Error).message}`, error);
    }
  }

  /**
   * Queues `data` after the bytes appended so far; for bodies that arrive as one
   * ordered stream. The chunk must not be reused by the caller.
   */
  append(data: Buffer): void {
    const position = this.#appendOffset;
    this.#appendOffset += data.length;
    this.#appending = this.#appending.then(() => this.write(data, position));
  }

  /** Waits for appended data; rejects with the first write error. */
  flush(): Promise<void> {
    return this.#appending;
  }

  /** Closes the file and moves it over the target. */
  async commit(): Promise<void> {
    await this.flush();
    await this.#close();
    try {
      await rename(this.tempPath, this.path);
    } catch (error) {
      await unlink(this.tempPath).catch(() => {});
      throw new FileIoError(`cannot rename ${this.tempPath} to ${this.path}: ${(error as Error).message}`, error);
    } finally {
      await this.#removeState();
    }
  }

  /** Closes the partial file of a resumable download and leaves it, with its state, for the next attempt. Never throws. */
  async keep(): Promise<void> {
    await this.#appending.catch(() => {});
    await this.#saving.catch(() => {});
    await this.#close().catch(() => {});
  }

  async #removeState(): Promise<void> {
    if (!this.statePath) return;
    await this.#saving.catch(() => {});
    await unlink(this.statePath).catch(() => {});
  }

  /** Closes and removes the temporary file. Never throws. */
  async discard(): Promise<void> {
    await this.#appending.catch(() => {});
    await this.#close().catch(() => {});
    await unlink(this.tempPath).catch(() => {});
    await this.#removeState();
  }

  async #close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    await handle?.close();
  }
}
