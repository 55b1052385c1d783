/**
 * Benchmark storage: object bodies are counted and dropped (no stream takes them), and reads return
 * synthetic bytes of the stored size, so a benchmark measures the client and
 * the network path, not the disk. Keys `synthetic/<bytes>` exist without a PUT.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { MemoryStorage, type BodyWriter, type ObjectMeta } from './storage.js';

/** A repeating pattern whose length is not a power of two, so parts at different offsets differ. */
const PATTERN = randomBytes(1024 * 1024 + 7);

export function syntheticMeta(key: string): ObjectMeta | null {
  const match = /^synthetic\/(\d+)$/.exec(key);
  if (!match) return null;
  return {
    key,
    size: Number(match[1]),
    etag: `"${'5'.repeat(32)}"`,
    lastModified: new Date(0).toISOString(),
    contentType: 'application/octet-stream',
    headers: {},
    checksums: {},
  };
}

/** The synthetic byte at `offset` of every object. */
export function syntheticByte(offset: number): number {
  return PATTERN[offset % PATTERN.length]!;
}

async function* synthetic(start: number, end: number): AsyncGenerator<Buffer> {
  for (let offset = start; offset <= end;) {
    const at = offset % PATTERN.length;
    const take = Math.min(PATTERN.length - at, end - offset + 1);
    yield PATTERN.subarray(at, at + take);
    offset += take;
  }
}

export class SinkStorage extends MemoryStorage {
  override async headObject(bucket: string, key: string) {
    return (await super.headObject(bucket, key)) ?? syntheticMeta(key);
  }
  override async writeObject(bucket: string, key: string): Promise<BodyWriter> {
    const writer = await super.writeObject(bucket, key);
    return { stream: null, commit: writer.commit, discard: writer.discard };
  }
  override readObject(_bucket: string, _meta: ObjectMeta, start: number, end: number): Readable {
    return Readable.from(synthetic(start, end), { objectMode: false });
  }
  override async writePart(bucket: string, uploadId: string, partNumber: number) {
    const writer = await super.writePart(bucket, uploadId, partNumber);
    return { stream: null, commit: writer.commit, discard: writer.discard };
  }
}
