/**
 * A download's destination file, written atomically: positional writes into
 * `<target>.<random>.s3tx-tmp` in the same folder, renamed over the target only
 * on success and removed otherwise, so a failed transfer never leaves a
 * truncated file under the target's name. A resumable download writes into
 * `<target>.s3tx-partial` instead, beside a small state file naming the object
 * (ETag, size, part size) and the parts already written; both stay after a
 * failure, for the next attempt to continue from.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { FileIoError } from '../client/errors.js';

/** Where a resumable download stands: the object it is of, and the parts already in the partial file. */
export interface DownloadState {
  etag: string;
  size: number;
  first: number;
  partSize: number;
  done: number[];
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

  /** Opens (or starts) `<path>.s3tx-partial` and reads what an earlier attempt left in its state file. */
  static async createResumable(path: string): Promise<{ target: FileTarget; state: DownloadState | null }> {
    const tempPath = `${path}.s3tx-partial`;
    const statePath = `${tempPath}.json`;
    let state: DownloadState | null = null;
    try {
      state = JSON.parse(await readFile(statePath, 'utf8')) as DownloadState;
    } catch {
      // No earlier attempt, or its state is unreadable: start over.
    }
    try {
      const handle = await open(tempPath, state ? 'r+' : 'w').catch(() => open(tempPath, 'w'));
      return { target: new FileTarget(path, tempPath, handle, statePath), state };
    } catch (error) {
      throw new FileIoError(`cannot create ${tempPath}: ${(error as Error).message}`, error);
    }
  }

  /** Records a resumable download's progress, each write replacing the last whole (a kill mid-write leaves the previous). */
  saveState(state: DownloadState): Promise<void> {
    const statePath = this.statePath;
    if (!statePath) return Promise.resolve();
    const text = JSON.stringify(state);
    this.#saving = this.#saving.then(async () => {
      await writeFile(`${statePath}.tmp`, text);
      await rename(`${statePath}.tmp`, statePath);
    });
    return this.#saving;
  }

  static async create(path: string): Promise<FileTarget> {
    const tempPath = `${path}.${randomBytes(6).toString('hex')}.s3tx-tmp`;
    try {
      return new FileTarget(path, tempPath, await open(tempPath, 'wx'));
    } catch (error) {
      throw new FileIoError(`cannot create ${tempPath}: ${(error as Error).message}`, error);
    }
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
