/**
 * A download's destination file, written atomically: positional writes into
 * `<target>.<random>.s3tx-tmp` in the same folder, renamed over the target only
 * on success and removed otherwise, so a failed transfer never leaves a
 * truncated file under the target's name.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { FileIoError } from '../client/errors.js';

export class FileTarget {
  readonly path: string;
  readonly tempPath: string;
  #handle: FileHandle | null = null;
  #appendOffset = 0;
  #appending: Promise<void> = Promise.resolve();

  private constructor(path: string, tempPath: string, handle: FileHandle) {
    this.path = path;
    this.tempPath = tempPath;
    this.#handle = handle;
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
    }
  }

  /** Closes and removes the temporary file. Never throws. */
  async discard(): Promise<void> {
    await this.#appending.catch(() => {});
    await this.#close().catch(() => {});
    await unlink(this.tempPath).catch(() => {});
  }

  async #close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    await handle?.close();
  }
}
