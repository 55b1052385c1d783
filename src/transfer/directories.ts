/**
 * Folders: `client.uploadDirectory()` and `client.downloadDirectory()`, a bounded number of
 * files at a time on one client (whose memory limit and connections they share). A key that
 * would land outside the target folder is refused and counted; the rest continue.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { parseS3Url } from '../protocol/endpoint.js';
import type { S3ClientCore } from '../client/s3-client-core.js';
import { download } from './download.js';
import { eachLimited } from './each-limited.js';
import type { ObjectAttributes } from './object-headers.js';
import { localFiles } from './local-files.js';
import { listObjects, type ListOptions, type ObjectSummary } from './objects.js';
import { DestinationFolder, keyUnder } from './paths.js';
import type { Progress, TransferControl } from './perform.js';
import { upload, type UploadOptions } from './upload.js';

/** A bucket and key prefix: `s3://bucket/prefix/` or an object. */
export type S3Prefix = string | { bucket: string; prefix?: string };

export interface DirectoryOptions extends TransferControl {
  /** Files in flight at once; 8 by default. */
  concurrency?: number;
  /** Called as each file finishes, or fails. */
  onFile?: (event: { key: string; path: string; bytes: number; error: Error | null }) => void;
}

export interface UploadDirectoryOptions
  extends DirectoryOptions, ObjectAttributes, Pick<UploadOptions, 'checksumAlgorithm' | 'checksumLocation' | 'guessContentType'> {
  /** Which files to send, by path relative to the folder (with `/` separators). */
  filter?: (relativePath: string) => boolean;
  /**
   * Follow symbolic links to files and folders (true, the default, as `aws s3 cp`); false leaves
   * links out. A dangling link or one that loops is skipped, and listed in the result's `skipped`.
   */
  followSymlinks?: boolean;
}

export interface DownloadDirectoryOptions extends DirectoryOptions, Pick<ListOptions, 'maxKeys'> {
  /** Which objects to fetch. */
  filter?: (object: ObjectSummary) => boolean;
}

export interface DirectoryResult {
  files: number;
  bytes: number;
  failed: Array<{ key: string; path: string; error: Error }>;
  /** What was left out, and why: a key that would leave the folder, a folder marker, a dangling or looping link. */
  skipped: Array<{ key: string; reason: string }>;
}

function prefixOf(target: S3Prefix, option: string): { bucket: string; prefix: string } {
  if (typeof target === 'string') {
    const parsed = parseS3Url(target);
    if (!parsed) throw new InvalidArgumentError(option, `must be an s3://bucket/prefix URL, got ${JSON.stringify(target)}`);
    return { bucket: parsed.bucket, prefix: parsed.key };
  }
  if (!target || typeof target.bucket !== 'string' || target.bucket === '') throw new InvalidArgumentError(option, 'must name a bucket');
  return { bucket: target.bucket, prefix: target.prefix ?? '' };
}

/** The result of a folder transfer, file by file, and its progress as one running total over all files. */
class FolderProgress {
  readonly result: DirectoryResult = { files: 0, bytes: 0, failed: [], skipped: [] };
  readonly #onProgress: DirectoryOptions['onProgress'];
  readonly #onFile: DirectoryOptions['onFile'];
  #transferred = 0;

  constructor(onProgress: DirectoryOptions['onProgress'], onFile: DirectoryOptions['onFile']) {
    this.#onProgress = onProgress;
    this.#onFile = onFile;
  }

  /** Runs one file's transfer, given the onProgress to pass on, and records how it ended. */
  async file(key: string, path: string, transfer: (onProgress: (progress: Progress) => void) => Promise<{ bytes: number }>): Promise<void> {
    let last = 0;
    let bytes = 0;
    let error: Error | null = null;
    try {
      ({ bytes } = await transfer((progress) => {
        this.#transferred += progress.transferred - last;
        last = progress.transferred;
        this.#onProgress?.({ transferred: this.#transferred, total: null });
      }));
      this.result.files++;
      this.result.bytes += bytes;
    } catch (caught) {
      error = caught as Error;
      this.result.failed.push({ key, path, error });
    }
    this.#onFile?.({ key, path, bytes, error });
  }
}

function checkConcurrency(value: number | undefined): number {
  const concurrency = value ?? 8;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw new InvalidArgumentError('concurrency', `must be a whole number, 1 or more, got ${String(value)}`);
  return concurrency;
}

/** Sends every file below `folder` to `target`, keys being the paths relative to the folder. */
export async function uploadDirectory(client: S3ClientCore, folder: string, target: S3Prefix, options: UploadDirectoryOptions = {}): Promise<DirectoryResult> {
  const { bucket, prefix } = prefixOf(target, 'target');
  const { concurrency: requested, onFile, filter, onProgress, signal, followSymlinks, ...attributes } = options;
  const concurrency = checkConcurrency(requested);
  const folderProgress = new FolderProgress(onProgress, onFile);
  const files = localFiles(folder, {
    ...(followSymlinks !== undefined ? { followSymlinks } : {}),
    onSkip: (skipped) => void folderProgress.result.skipped.push({ key: keyUnder(prefix, skipped.relativePath), reason: skipped.reason }),
  });
  await eachLimited(files, concurrency, async ({ path, relativePath }) => {
    if (filter && !filter(relativePath)) return;
    const key = keyUnder(prefix, relativePath);
    await folderProgress.file(key, path, (fileProgress) =>
      upload(client, { ...attributes, bucket, key, body: path, ...(signal ? { signal } : {}), onProgress: fileProgress }),
    );
  });
  return folderProgress.result;
}

/** Fetches every object below `source` into `folder`, paths being the keys relative to the prefix. */
export async function downloadDirectory(
  client: S3ClientCore,
  source: S3Prefix,
  folder: string,
  options: DownloadDirectoryOptions = {},
): Promise<DirectoryResult> {
  const { bucket, prefix } = prefixOf(source, 'source');
  const concurrency = checkConcurrency(options.concurrency);
  const folderProgress = new FolderProgress(options.onProgress, options.onFile);
  const { result } = folderProgress;
  const objects = async function* () {
    for await (const entry of listObjects(client, {
      bucket,
      prefix,
      ...(options.maxKeys !== undefined ? { maxKeys: options.maxKeys } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })) {
      if (entry.kind === 'object') yield entry;
    }
  };
  const destination = await DestinationFolder.open(folder);
  await eachLimited(objects(), concurrency, async (object) => {
    if (options.filter && !options.filter(object)) return;
    const place = await destination.place(prefix, object.key);
    if ('reason' in place) return void result.skipped.push({ key: object.key, reason: place.reason });
    await folderProgress.file(object.key, place.path, async (fileProgress) => {
      if ('error' in place) throw place.error;
      return download(client, { bucket, key: object.key, to: place.path, ...(options.signal ? { signal: options.signal } : {}), onProgress: fileProgress });
    });
  });
  return result;
}
