/**
 * Reads a body stream part by part into reserved buffers: each chunk is copied
 * once, into the part's buffer; what does not fit waits for the next part.
 */
export class StreamReader {
  #iterator: AsyncIterator<Uint8Array | string>;
  #leftover: Buffer | null = null;
  #done = false;
  /** Bytes handed out so far. */
  consumed = 0;

  constructor(source: AsyncIterable<Uint8Array | string>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  /** Fills `buffer` from the stream. Returns how many bytes were written: fewer than its length only at the end. */
  async fill(buffer: Buffer): Promise<number> {
    let filled = 0;
    while (filled < buffer.length) {
      const chunk = this.#leftover ?? (await this.#pull());
      if (!chunk) break;
      const take = Math.min(chunk.length, buffer.length - filled);
      chunk.copy(buffer, filled, 0, take);
      filled += take;
      this.#leftover = take < chunk.length ? chunk.subarray(take) : null;
    }
    this.consumed += filled;
    return filled;
  }

  /** Whether the stream has no byte left; reads one chunk ahead to find out. */
  async atEnd(): Promise<boolean> {
    if (this.#leftover) return false;
    this.#leftover = await this.#pull();
    return this.#leftover === null;
  }

  /** Stops reading, releasing the source (a Node Readable is destroyed). */
  async close(): Promise<void> {
    this.#done = true;
    this.#leftover = null;
    await this.#iterator.return?.();
  }

  async #pull(): Promise<Buffer | null> {
    while (!this.#done) {
      const next = await this.#iterator.next();
      if (next.done) {
        this.#done = true;
        break;
      }
      const value = next.value;
      const chunk =
        typeof value === 'string' ? Buffer.from(value) : Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (chunk.length > 0) return chunk;
    }
    return null;
  }
}
