/**
 * Where the local server keeps buckets, objects and multipart uploads: a folder
 * on disk or memory. Object bodies are written under a temporary name and
 * renamed into place, so a crash never exposes half an object; keys never
 * become file names (they are hashed) and only valid bucket names become
 * folder names, so no key or bucket can escape the folder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { checkBucketName, isBucketName } from './router.js';
import type { Encryption } from './sse.js';
import type { TagSet } from './tags.js';

/** What is stored beside an object's bytes. */
export interface ObjectMeta {
  key: string;
  size: number;
  /** Quoted, as S3 sends it. */
  etag: string;
  lastModified: string;
  contentType: string;
  /** Headers returned as stored: Content-*, Cache-Control, Expires, x-amz-meta-*, website redirect. */
  headers: Record<string, string>;
  /** Absent for STANDARD. */
  storageClass?: string;
  /** Absent for SSE-S3, S3's default. */
  encryption?: Encryption;
  tags?: TagSet;
  /** Checksum values (base64) by algorithm name (`crc32c`, ...), when the object has them. */
  checksums: Record<string, string>;
  /** COMPOSITE (a checksum of part checksums, `-N`) or FULL_OBJECT. */
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT';
  /** For a multipart object: each part's size and checksums, in order. */
  parts?: Array<{ size: number; checksums: Record<string, string> }>;
}

export interface PartMeta {
  partNumber: number;
  size: number;
  etag: string;
  lastModified: string;
  checksums: Record<string, string>;
}

export interface UploadMeta {
  uploadId: string;
  key: string;
  initiated: string;
  headers: Record<string, string>;
  contentType: string;
  /** What the object gets at CompleteMultipartUpload, named at CreateMultipartUpload. */
  storageClass?: string;
  encryption?: Encryption;
  tags?: TagSet;
  /** Algorithm named at CreateMultipartUpload (lower case), and its type. */
  checksumAlgorithm: string | null;
  checksumType: 'COMPOSITE' | 'FULL_OBJECT' | null;
}

/** The sink that receives an object's or a part's bytes; `commit` makes them visible, `discard` drops them. */
export interface BodyWriter<Meta = ObjectMeta> {
  /** Where the bytes go; null for a storage that keeps none (the benchmark sink): they are only counted. */
  stream: Writable | null;
  commit(meta: Meta): Promise<void>;
  discard(): Promise<void>;
}

export interface Storage {
  listBuckets(): Promise<Array<{ name: string; created: string }>>;
  createBucket(name: string): Promise<boolean>;
  hasBucket(name: string): Promise<boolean>;
  deleteBucket(name: string): Promise<void>;
  bucketIsEmpty(name: string): Promise<boolean>;
  headObject(bucket: string, key: string): Promise<ObjectMeta | null>;
  listObjects(bucket: string): Promise<ObjectMeta[]>;
  /** A body writer for an object. */
  writeObject(bucket: string, key: string): Promise<BodyWriter>;
  /** The object's bytes from `start` to `end` inclusive. */
  readObject(bucket: string, meta: ObjectMeta, start: number, end: number): Readable;
  deleteObject(bucket: string, key: string): Promise<void>;
  /** Replaces an object's tags (none: undefined), its bytes and the rest untouched; false when there is no such object. */
  updateTags(bucket: string, key: string, tags: TagSet | undefined): Promise<boolean>;
  createUpload(bucket: string, upload: UploadMeta): Promise<void>;
  getUpload(bucket: string, uploadId: string): Promise<UploadMeta | null>;
  listUploads(bucket: string): Promise<UploadMeta[]>;
  writePart(bucket: string, uploadId: string, partNumber: number): Promise<BodyWriter<PartMeta>>;
  listParts(bucket: string, uploadId: string): Promise<PartMeta[]>;
  /** Concatenates the named parts into the object, then drops the upload. */
  completeUpload(bucket: string, upload: UploadMeta, parts: PartMeta[], meta: ObjectMeta): Promise<void>;
  abortUpload(bucket: string, uploadId: string): Promise<void>;
}

function keyId(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

const now = () => new Date().toISOString();

/** A Writable that keeps what it is given, for memory storage. */
class Collector extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    done();
  }
}

/** Objects and parts kept in memory: for tests and benchmarks that must not touch the disk. */
export class MemoryStorage implements Storage {
  // Bodies stay as the chunks they arrived in: no copy on the way in or out.
  #buckets = new Map<
    string,
    {
      created: string;
      objects: Map<string, { meta: ObjectMeta; data: Buffer[] }>;
      uploads: Map<string, { meta: UploadMeta; parts: Map<number, { meta: PartMeta; data: Buffer[] }> }>;
    }
  >();

  #bucket(name: string) {
    const bucket = this.#buckets.get(name);
    if (!bucket) throw new Error(`no bucket ${name}`);
    return bucket;
  }

  async listBuckets() {
    return [...this.#buckets].map(([name, bucket]) => ({ name, created: bucket.created }));
  }
  async createBucket(name: string) {
    checkBucketName(name);
    if (this.#buckets.has(name)) return false;
    this.#buckets.set(name, { created: now(), objects: new Map(), uploads: new Map() });
    return true;
  }
  async hasBucket(name: string) {
    return this.#buckets.has(name);
  }
  async deleteBucket(name: string) {
    this.#buckets.delete(name);
  }
  async bucketIsEmpty(name: string) {
    return this.#bucket(name).objects.size === 0;
  }
  async headObject(bucket: string, key: string) {
    return this.#bucket(bucket).objects.get(key)?.meta ?? null;
  }
  async listObjects(bucket: string) {
    return [...this.#bucket(bucket).objects.values()].map((entry) => entry.meta);
  }
  async writeObject(bucket: string, key: string): Promise<BodyWriter> {
    const collector = new Collector();
    return {
      stream: collector,
      commit: async (meta) => {
        this.#bucket(bucket).objects.set(key, { meta, data: collector.chunks });
      },
      discard: async () => {},
    };
  }
  readObject(bucket: string, meta: ObjectMeta, start: number, end: number): Readable {
    return Readable.from(slices(this.#bucket(bucket).objects.get(meta.key)?.data ?? [], start, end), { objectMode: false });
  }
  async deleteObject(bucket: string, key: string) {
    this.#bucket(bucket).objects.delete(key);
  }
  async updateTags(bucket: string, key: string, tags: TagSet | undefined) {
    const entry = this.#bucket(bucket).objects.get(key);
    if (entry) entry.meta = { ...entry.meta, tags };
    return entry !== undefined;
  }
  async createUpload(bucket: string, upload: UploadMeta) {
    this.#bucket(bucket).uploads.set(upload.uploadId, { meta: upload, parts: new Map() });
  }
  async getUpload(bucket: string, uploadId: string) {
    return this.#bucket(bucket).uploads.get(uploadId)?.meta ?? null;
  }
  async listUploads(bucket: string) {
    return [...this.#bucket(bucket).uploads.values()].map((entry) => entry.meta);
  }
  async writePart(bucket: string, uploadId: string, partNumber: number): Promise<BodyWriter<PartMeta>> {
    const collector = new Collector();
    return {
      stream: collector,
      commit: async (meta: PartMeta) => {
        this.#bucket(bucket).uploads.get(uploadId)?.parts.set(partNumber, { meta, data: collector.chunks });
      },
      discard: async () => {},
    };
  }
  async listParts(bucket: string, uploadId: string) {
    const parts = this.#bucket(bucket).uploads.get(uploadId)?.parts;
    return parts ? [...parts.values()].map((part) => part.meta).sort((a, b) => a.partNumber - b.partNumber) : [];
  }
  async completeUpload(bucket: string, upload: UploadMeta, parts: PartMeta[], meta: ObjectMeta) {
    const stored = this.#bucket(bucket).uploads.get(upload.uploadId)!;
    const data = parts.flatMap((part) => stored.parts.get(part.partNumber)!.data);
    this.#bucket(bucket).objects.set(meta.key, { meta, data });
    this.#bucket(bucket).uploads.delete(upload.uploadId);
  }
  async abortUpload(bucket: string, uploadId: string) {
    this.#bucket(bucket).uploads.delete(uploadId);
  }
}

/**
 * Objects in a folder: `<root>/<bucket>/objects/<sha256(key)>` with a `.json` beside it,
 * uploads in `<root>/<bucket>/uploads/<uploadId>/`, temporary files in `<root>/.tmp`.
 */
export class DiskStorage implements Storage {
  readonly root: string;
  /** The metadata change in progress for each object path, which the next one waits for. */
  readonly #changing = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.root = root;
  }

  /**
   * Runs `change` to the metadata of the object at `path` once the changes before it are done. A
   * tag update reads and rewrites an object's metadata: a write that replaced the object between
   * the two would otherwise get the old object's size and ETag over its new bytes.
   */
  async #exclusive<T>(path: string, change: () => Promise<T>): Promise<T> {
    const before = this.#changing.get(path);
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    this.#changing.set(path, mine);
    await before;
    try {
      return await change();
    } finally {
      done();
      if (this.#changing.get(path) === mine) this.#changing.delete(path);
    }
  }

  #tmp(): string {
    return join(this.root, '.tmp', randomBytes(12).toString('hex'));
  }
  /** Every path of a bucket is made here, and only of a valid name: none leads outside the root. */
  #bucketPath(bucket: string): string {
    checkBucketName(bucket);
    return join(this.root, bucket);
  }
  #objectPath(bucket: string, key: string): string {
    return join(this.#bucketPath(bucket), 'objects', keyId(key));
  }
  #uploadPath(bucket: string, uploadId: string): string {
    return join(this.#bucketPath(bucket), 'uploads', keyId(uploadId));
  }

  async init(): Promise<void> {
    await mkdir(join(this.root, '.tmp'), { recursive: true });
  }

  async listBuckets() {
    // Only folders named as buckets are buckets: not `.tmp`, nor anything else put in the root.
    const names = (await readdir(this.root, { withFileTypes: true })).filter((entry) => entry.isDirectory() && isBucketName(entry.name));
    return Promise.all(names.map(async (entry) => ({ name: entry.name, created: (await stat(join(this.root, entry.name))).birthtime.toISOString() })));
  }
  async createBucket(name: string) {
    if (await this.hasBucket(name)) return false;
    await mkdir(join(this.#bucketPath(name), 'objects'), { recursive: true });
    await mkdir(join(this.#bucketPath(name), 'uploads'), { recursive: true });
    return true;
  }
  async hasBucket(name: string) {
    return stat(this.#bucketPath(name)).then(
      (stats) => stats.isDirectory(),
      () => false,
    );
  }
  async deleteBucket(name: string) {
    await rm(this.#bucketPath(name), { recursive: true, force: true });
  }
  async bucketIsEmpty(name: string) {
    return (await readdir(join(this.#bucketPath(name), 'objects'))).length === 0;
  }
  async headObject(bucket: string, key: string): Promise<ObjectMeta | null> {
    return readJson<ObjectMeta>(`${this.#objectPath(bucket, key)}.json`);
  }
  async listObjects(bucket: string) {
    const folder = join(this.#bucketPath(bucket), 'objects');
    const files = (await readdir(folder)).filter((name) => name.endsWith('.json'));
    const metas = await Promise.all(files.map((name) => readJson<ObjectMeta>(join(folder, name))));
    return metas.filter((meta): meta is ObjectMeta => meta !== null);
  }
  async writeObject(bucket: string, key: string): Promise<BodyWriter> {
    return this.#writer(this.#objectPath(bucket, key));
  }
  #writer(target: string) {
    const temp = this.#tmp();
    // A deep buffer lets many socket chunks go to disk in one writev.
    const stream = createWriteStream(temp, { highWaterMark: 8 * 1024 * 1024 });
    let failure: Error | null = null;
    // Kept for commit to report; a write error after discard has no one left to tell.
    stream.on('error', (error) => (failure ??= error));
    return {
      stream: stream as Writable,
      commit: async (meta: object) => {
        await new Promise<void>((resolve, reject) => (stream.writableFinished ? resolve() : stream.once('finish', resolve).once('error', reject)));
        if (failure) throw failure;
        const metaTemp = `${temp}.json`;
        await writeFile(metaTemp, JSON.stringify(meta));
        // The bytes first, then the metadata that makes them visible, then what an older multipart object left.
        await this.#exclusive(target, async () => {
          await rename(temp, target);
          await rename(metaTemp, `${target}.json`);
          await rm(`${target}.d`, { recursive: true, force: true });
        });
      },
      discard: async () => {
        stream.destroy();
        await rm(temp, { force: true });
      },
    };
  }
  readObject(bucket: string, meta: ObjectMeta, start: number, end: number): Readable {
    if (end < start) return Readable.from([]);
    const path = this.#objectPath(bucket, meta.key);
    if (!meta.parts) return createReadStream(path, { start, end, highWaterMark: 1024 * 1024 });
    const sizes = meta.parts.map((part) => part.size);
    async function* segments() {
      let offset = 0;
      for (const [index, size] of sizes.entries()) {
        const first = Math.max(start, offset);
        const last = Math.min(end, offset + size - 1);
        if (first <= last) yield* createReadStream(join(`${path}.d`, String(index)), { start: first - offset, end: last - offset, highWaterMark: 1024 * 1024 });
        offset += size;
      }
    }
    return Readable.from(segments(), { objectMode: false });
  }
  async deleteObject(bucket: string, key: string) {
    const path = this.#objectPath(bucket, key);
    await this.#exclusive(path, async () => {
      await rm(`${path}.json`, { force: true });
      await rm(path, { force: true });
      await rm(`${path}.d`, { recursive: true, force: true });
    });
  }
  async updateTags(bucket: string, key: string, tags: TagSet | undefined) {
    const path = this.#objectPath(bucket, key);
    return this.#exclusive(path, async () => {
      const meta = await readJson<ObjectMeta>(`${path}.json`);
      if (!meta) return false;
      const temp = `${this.#tmp()}.json`;
      await writeFile(temp, JSON.stringify({ ...meta, tags }));
      await rename(temp, `${path}.json`);
      return true;
    });
  }
  async createUpload(bucket: string, upload: UploadMeta) {
    const folder = this.#uploadPath(bucket, upload.uploadId);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'upload.json'), JSON.stringify(upload));
  }
  async getUpload(bucket: string, uploadId: string) {
    return readJson<UploadMeta>(join(this.#uploadPath(bucket, uploadId), 'upload.json'));
  }
  async listUploads(bucket: string) {
    const folder = join(this.#bucketPath(bucket), 'uploads');
    const ids = await readdir(folder);
    const uploads = await Promise.all(ids.map((id) => readJson<UploadMeta>(join(folder, id, 'upload.json'))));
    return uploads.filter((upload): upload is UploadMeta => upload !== null);
  }
  async writePart(bucket: string, uploadId: string, partNumber: number) {
    return this.#writer(join(this.#uploadPath(bucket, uploadId), `part-${partNumber}`));
  }
  async listParts(bucket: string, uploadId: string) {
    const folder = this.#uploadPath(bucket, uploadId);
    const files = (await readdir(folder).catch(() => [] as string[])).filter((name) => /^part-\d+\.json$/.test(name));
    const parts = await Promise.all(files.map((name) => readJson<PartMeta>(join(folder, name))));
    return parts.filter((part): part is PartMeta => part !== null).sort((a, b) => a.partNumber - b.partNumber);
  }
  /** The part files become the object's segments by rename: completing an upload copies no bytes. */
  async completeUpload(bucket: string, upload: UploadMeta, parts: PartMeta[], meta: ObjectMeta) {
    const folder = this.#uploadPath(bucket, upload.uploadId);
    const target = this.#objectPath(bucket, meta.key);
    const staging = this.#tmp();
    await mkdir(staging);
    for (const [index, part] of parts.entries()) await rename(join(folder, `part-${part.partNumber}`), join(staging, String(index)));
    await writeFile(`${staging}.json`, JSON.stringify(meta));
    await this.#exclusive(target, async () => {
      await rm(`${target}.d`, { recursive: true, force: true });
      await rename(staging, `${target}.d`);
      await rename(`${staging}.json`, `${target}.json`);
      await rm(target, { force: true });
    });
    await rm(folder, { recursive: true, force: true });
  }
  async abortUpload(bucket: string, uploadId: string) {
    await rm(this.#uploadPath(bucket, uploadId), { recursive: true, force: true });
  }
}

/** The bytes `start..end` of an object kept as a list of chunks. */
function* slices(chunks: Buffer[], start: number, end: number): Generator<Buffer> {
  let offset = 0;
  for (const chunk of chunks) {
    const first = Math.max(start, offset);
    const last = Math.min(end, offset + chunk.length - 1);
    if (first <= last) yield chunk.subarray(first - offset, last - offset + 1);
    offset += chunk.length;
    if (offset > end) return;
  }
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}
