/**
 * The CLI's transfers of one file or stream, each reported as it ends, and continued after an
 * interruption when asked. An upload records its multipart
 * upload in a checkpoint file (in `$XDG_CACHE_HOME/s3tx/uploads`, else `~/.cache/...`) as soon
 * as it exists; a download writes into `<target>.s3tx-partial` beside a state file. A process
 * that is killed leaves both behind, and the same command with `--resume` sends or fetches only
 * what is missing. Without `--resume`, a failure cleans up as any transfer does, and a
 * checkpoint left by an earlier run is aborted and forgotten.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { DownloadResult, Progress, S3Client, S3ResumeToken, UploadResult } from '../index.js';
import { Reporter } from './report.js';
import { tracker } from './locations.js';
import { copyOptions, uploadOptions, type TransferSettings } from './transfer-settings.js';

interface Checkpoint {
  source: string;
  size: number;
  mtimeMs: number;
  endpoint: string;
  bucket: string;
  key: string;
  token: S3ResumeToken;
}

function checkpointFolder(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 's3tx', 'uploads');
}

async function readCheckpoint(path: string): Promise<Checkpoint | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Checkpoint;
  } catch {
    return null;
  }
}

/** Uploads a file, keeping a checkpoint while its multipart upload is open. */
export async function checkpointedUpload(
  client: S3Client,
  path: string,
  target: { bucket: string; key: string },
  settings: TransferSettings,
  onProgress: (progress: Progress) => void,
): Promise<UploadResult> {
  const source = resolve(path);
  const info = await stat(source);
  const endpoint = client.endpointConfig.endpoint.href;
  // One checkpoint per source file version and destination.
  const id = createHash('sha256')
    .update(JSON.stringify([source, info.size, info.mtimeMs, endpoint, target.bucket, target.key]))
    .digest('hex');
  const folder = checkpointFolder();
  const file = join(folder, `${id}.json`);
  const earlier = await readCheckpoint(file);
  if (earlier && !settings.resume) {
    // Not resuming: the earlier upload will never complete.
    await client.abortMultipartUpload({ bucket: earlier.bucket, key: earlier.key, uploadId: earlier.token.uploadId }).catch(() => {});
    await unlink(file).catch(() => {});
  }
  const attempt = (token: S3ResumeToken | undefined) =>
    client.upload({
      ...settings.attributes,
      bucket: target.bucket,
      key: target.key,
      body: path,
      ...uploadOptions(settings),
      ...(token ? { resumeToken: token } : {}),
      abortOnFailure: !settings.resume,
      onResumeToken: (created) => {
        const checkpoint: Checkpoint = { source, size: info.size, mtimeMs: info.mtimeMs, endpoint, ...target, token: created };
        // Written into a new file of a random name, then renamed: never through a link planted under a fixed name.
        const fresh = `${file}.${randomBytes(6).toString('hex')}.tmp`;
        void mkdir(folder, { recursive: true, mode: 0o700 })
          .then(() => writeFile(fresh, JSON.stringify(checkpoint), { flag: 'wx', mode: 0o600 }))
          .then(() => rename(fresh, file))
          .catch(() => unlink(fresh).catch(() => {}));
      },
      onProgress,
    });
  try {
    let result: UploadResult;
    try {
      result = await attempt(settings.resume ? earlier?.token : undefined);
    } catch (error) {
      // The upload to resume is gone (completed, aborted or expired): start again.
      if (!(settings.resume && earlier && (error as { s3Code?: string }).s3Code === 'NoSuchUpload')) throw error;
      await unlink(file).catch(() => {});
      result = await attempt(undefined);
    }
    await unlink(file).catch(() => {});
    return result;
  } catch (error) {
    if (!settings.resume) await unlink(file).catch(() => {});
    throw error;
  }
}

/** Downloads to a file through `<path>.s3tx-partial`, which a killed run leaves for `--resume`. */
export async function partialDownload(
  client: S3Client,
  source: { bucket: string; key: string },
  path: string,
  settings: TransferSettings,
  onProgress: (progress: Progress) => void,
): Promise<DownloadResult> {
  const partial = `${path}.s3tx-partial`;
  const forget = async () => {
    await unlink(partial).catch(() => {});
    await unlink(`${partial}.json`).catch(() => {});
  };
  // An earlier run's partial file is not continued without --resume.
  if (!settings.resume) await forget();
  try {
    return await client.download({ bucket: source.bucket, key: source.key, to: path, resumable: true, onProgress });
  } catch (error) {
    if (!settings.resume) await forget();
    throw error;
  }
}

export async function upload(
  client: S3Client,
  body: string | Readable,
  target: { bucket: string; key: string; label: string },
  settings: TransferSettings,
  reporter: Reporter,
  expectedSize?: number,
): Promise<void> {
  const destination = `s3://${target.bucket}/${target.key}`;
  try {
    const result =
      typeof body === 'string'
        ? await checkpointedUpload(client, body, target, settings, tracker(reporter))
        : await client.upload({
            ...settings.attributes,
            bucket: target.bucket,
            key: target.key,
            body,
            ...uploadOptions(settings),
            ...(expectedSize !== undefined ? { expectedSize } : {}),
            onProgress: tracker(reporter),
          });
    reporter.object({ op: 'upload', source: target.label, target: destination, bytes: result.bytes, etag: result.etag });
  } catch (error) {
    reporter.object({ op: 'upload', source: target.label, target: destination, error: error as Error });
  }
}

export async function download(
  client: S3Client,
  source: { bucket: string; key: string; label: string },
  path: string,
  settings: TransferSettings,
  reporter: Reporter,
): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    const result = await partialDownload(client, source, path, settings, tracker(reporter));
    reporter.object({ op: 'download', source: source.label, target: relative(process.cwd(), path) || path, bytes: result.bytes, etag: result.etag });
  } catch (error) {
    reporter.object({ op: 'download', source: source.label, target: path, error: error as Error });
  }
}

/** A server-side copy of one object, reported as it ends. */
export async function copyObject(
  client: S3Client,
  source: { bucket: string; key: string; text: string },
  target: { bucket: string; key: string },
  settings: TransferSettings,
  reporter: Reporter,
  size?: number,
): Promise<void> {
  const destination = `s3://${target.bucket}/${target.key}`;
  try {
    const result = await client.copy({
      ...copyOptions(settings),
      source: { bucket: source.bucket, key: source.key },
      bucket: target.bucket,
      key: target.key,
      ...(size !== undefined ? { sourceSize: size } : {}),
      onProgress: tracker(reporter),
    });
    reporter.object({ op: 'copy', source: source.text, target: destination, ...(size !== undefined ? { bytes: size } : {}), etag: result.etag });
  } catch (error) {
    reporter.object({ op: 'copy', source: source.text, target: destination, error: error as Error });
  }
}
