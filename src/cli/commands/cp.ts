/** `s3tx cp SRC DST`: local to S3, S3 to local, S3 to S3; `-r` for folders and prefixes; `-` for stdin and stdout. */
import { stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { eachLimited, keyUnder, localFiles, safeLocalPath, type ListEntry, type S3Client } from '../../index.js';
import { copyObject, download, upload } from '../file-transfers.js';
import { relativeKey } from '../filters.js';
import { s3Location, tracker, type Location } from '../locations.js';
import { CLIENT_HELP, LIST_HELP, UsageError, clientFrom, listingOptions, parse, parseSize, type ClientFlags } from '../options.js';
import { Reporter } from '../report.js';
import { TRANSFER_FLAGS, TRANSFER_HELP, spellSse, transferSettings, uploadOptions, type TransferSettings } from '../transfer-settings.js';

export const CP_USAGE = `Usage: s3tx cp SRC DST [options]

Copies a file or object; SRC and DST are local paths, s3://bucket/key URLs, or "-" for
stdin (SRC) or stdout (DST). A DST ending in "/" (or an existing folder) takes SRC's name.
Objects are written through a temporary file and renamed when complete; an existing file
of the same name is replaced.

Examples:
  s3tx cp ./video.mp4 s3://bucket/videos/
  s3tx cp s3://bucket/videos/video.mp4 ./
  s3tx cp -r ./site s3://bucket/site --exclude "*.tmp"
  s3tx cp s3://bucket/a.bin s3://other/b.bin
  tar c dir | s3tx cp - s3://bucket/dir.tar --expected-size 80GB

Options:
  -r, --recursive      copy a folder, or every object below a prefix
  --resume             continue an upload or download that was interrupted, sending only what is missing
  --expected-size SIZE the size stdin will reach, when above 80 GB (10,000 parts of 8 MiB): parts grow to fit

${TRANSFER_HELP}
${LIST_HELP}

${CLIENT_HELP}`;

/** What cp does, once its arguments are read. */
interface Plan {
  settings: TransferSettings;
  listing: { maxKeys?: number };
  expectedSize: number | undefined;
}

export async function cp(args: string[]): Promise<number> {
  const parsed = parse(
    spellSse(args),
    { ...TRANSFER_FLAGS, recursive: { type: 'boolean', short: 'r' }, resume: { type: 'boolean' }, 'expected-size': { type: 'string' } },
    true,
  );
  const { values, positionals } = parsed;
  if (values.help) return (console.log(CP_USAGE), 0);
  if (positionals.length !== 2) throw new UsageError('cp needs a SRC and a DST');
  const plan: Plan = {
    settings: transferSettings(parsed),
    listing: listingOptions(values),
    expectedSize: values['expected-size'] === undefined ? undefined : parseSize('--expected-size', values['expected-size'] as string),
  };
  const [source, target] = positionals.map(s3Location) as [Location, Location];
  if (source.kind === 'local' && target.kind === 'local') throw new UsageError('one of SRC and DST must be an s3:// URL');
  if ((source.kind === 'stdio' || target.kind === 'stdio') && values.recursive) throw new UsageError('"-" cannot be used with --recursive');
  if (source.kind === 'stdio' && target.kind !== 's3') throw new UsageError('"-" as SRC uploads stdin: DST must be an s3:// URL');
  if (target.kind === 'stdio' && source.kind !== 's3') throw new UsageError('"-" as DST writes an object to stdout: SRC must be an s3:// URL');
  if (plan.expectedSize !== undefined && source.kind !== 'stdio') throw new UsageError('--expected-size is for uploads from stdin ("-" as SRC)');
  const reporter = new Reporter({ quiet: Boolean(values.quiet) || target.kind === 'stdio', json: Boolean(values.json), progress: !values['no-progress'] });
  const client = clientFrom(values as ClientFlags);
  try {
    if (values.recursive) await copyTree(client, source, target, plan, reporter);
    else await copyOne(client, source, target, plan, reporter);
  } finally {
    reporter.finish();
    await client.close();
  }
  return reporter.exitCode;
}

/** The object key for a local file sent to `target`: a target ending in `/` (or empty) takes the file's name. */
function keyFor(target: { key: string }, name: string): string {
  return target.key === '' || target.key.endsWith('/') ? `${target.key}${name}` : target.key;
}

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

async function copyOne(client: S3Client, source: Location, target: Location, plan: Plan, reporter: Reporter): Promise<void> {
  const { settings } = plan;
  const { dryRun } = settings;
  if (source.kind === 'stdio' && target.kind === 's3') {
    if (target.key === '' || target.key.endsWith('/')) throw new UsageError('uploading stdin needs a full object key in DST');
    const destination = { bucket: target.bucket, key: target.key, label: '-' };
    if (dryRun) return reporter.object({ op: 'upload', source: '-', target: target.text, dryRun });
    await upload(client, process.stdin, destination, settings, reporter, plan.expectedSize);
    return;
  }
  if (source.kind === 'local' && target.kind === 's3') {
    const info = await stat(source.path).catch(() => null);
    if (!info?.isFile()) throw new UsageError(info?.isDirectory() ? `${source.path} is a folder: use --recursive` : `${source.path}: no such file`);
    const key = keyFor(target, basename(source.path));
    if (dryRun) return reporter.object({ op: 'upload', source: source.path, target: `s3://${target.bucket}/${key}`, dryRun });
    reporter.expect(info.size, 1);
    await upload(client, source.path, { bucket: target.bucket, key, label: source.path }, settings, reporter);
    return;
  }
  if (source.kind !== 's3') throw new UsageError('unsupported combination of SRC and DST');
  if (source.key === '' || source.key.endsWith('/')) throw new UsageError(`${source.text} names a prefix, not an object: use --recursive`);
  if (target.kind === 'stdio') {
    const track = tracker(reporter);
    const stream = client.downloadStream({ bucket: source.bucket, key: source.key, onProgress: track });
    await pipeline(stream, process.stdout).catch((error: Error) => reporter.object({ op: 'download', source: source.text, target: '-', error }));
    return;
  }
  if (target.kind === 'local') {
    const path =
      target.path.endsWith('/') || target.path.endsWith(sep) || (await isFolder(target.path)) ? join(target.path, basename(source.key)) : target.path;
    if (dryRun) return reporter.object({ op: 'download', source: source.text, target: path, dryRun });
    await download(client, { bucket: source.bucket, key: source.key, label: source.text }, path, settings, reporter);
    return;
  }
  const key = keyFor(target, basename(source.key));
  if (dryRun) return reporter.object({ op: 'copy', source: source.text, target: `s3://${target.bucket}/${key}`, dryRun });
  await copyObject(client, source, { bucket: target.bucket, key }, settings, reporter);
}

/** The objects below an S3 prefix that the filters let through, each with its path relative to the prefix. */
async function selectedObjects(client: S3Client, source: { bucket: string; key: string }, plan: Plan) {
  const objects: Array<Extract<ListEntry, { kind: 'object' }> & { relativePath: string }> = [];
  for await (const entry of client.listObjects({ bucket: source.bucket, prefix: source.key, ...plan.listing })) {
    if (entry.kind !== 'object') continue;
    const relativePath = relativeKey(source.key, entry.key);
    if (!plan.settings.filter || plan.settings.filter(relativePath)) objects.push({ ...entry, relativePath });
  }
  return objects;
}

async function copyTree(client: S3Client, source: Location, target: Location, plan: Plan, reporter: Reporter): Promise<void> {
  const { settings } = plan;
  if (settings.resume) throw new UsageError('--resume works on one file or object at a time, not with --recursive');
  if (source.kind === 'local' && target.kind === 's3') return uploadTree(client, source.path, target, settings, reporter);
  if (source.kind !== 's3') throw new UsageError('unsupported combination of SRC and DST');
  if (target.kind === 'local') return downloadTree(client, source, target.path, plan, reporter);
  if (target.kind !== 's3') throw new UsageError('unsupported combination of SRC and DST');
  const objects = await selectedObjects(client, source, plan);
  reporter.expect(
    objects.reduce((total, object) => total + object.size, 0),
    objects.length,
  );
  await eachLimited(objects, settings.concurrency, async (object) => {
    const key = keyUnder(target.key, object.relativePath);
    const from = { bucket: source.bucket, key: object.key, text: `s3://${source.bucket}/${object.key}` };
    if (settings.dryRun) return reporter.object({ op: 'copy', source: from.text, target: `s3://${target.bucket}/${key}`, dryRun: true });
    await copyObject(client, from, { bucket: target.bucket, key }, settings, reporter, object.size);
  });
}

async function uploadTree(client: S3Client, folder: string, target: { bucket: string; key: string }, settings: TransferSettings, reporter: Reporter) {
  if (!(await isFolder(folder))) throw new UsageError(`${folder} is not a folder`);
  const skip = (path: string, reason: string) => reporter.object({ op: 'skip', source: path, reason });
  if (settings.dryRun) {
    for await (const file of localFiles(folder, { followSymlinks: settings.followSymlinks, onSkip: ({ path, reason }) => skip(path, reason) })) {
      if (settings.filter && !settings.filter(file.relativePath)) continue;
      reporter.object({ op: 'upload', source: file.path, target: `s3://${target.bucket}/${keyUnder(target.key, file.relativePath)}`, dryRun: true });
    }
    return;
  }
  const result = await client.uploadDirectory(
    folder,
    { bucket: target.bucket, prefix: target.key },
    {
      ...settings.attributes,
      ...uploadOptions(settings),
      followSymlinks: settings.followSymlinks,
      ...(settings.filter ? { filter: settings.filter } : {}),
      concurrency: settings.concurrency,
      onProgress: tracker(reporter),
      onFile: ({ key, path, bytes, error }) =>
        reporter.object({ op: 'upload', source: path, target: `s3://${target.bucket}/${key}`, bytes, ...(error ? { error } : {}) }),
    },
  );
  for (const skipped of result.skipped) skip(join(folder, relativeKey(target.key, skipped.key)), skipped.reason);
  reporter.expect(result.bytes, result.files);
}

async function downloadTree(client: S3Client, source: { bucket: string; key: string }, folder: string, plan: Plan, reporter: Reporter) {
  const { settings } = plan;
  const skip = (key: string, reason: string) =>
    reporter.object({ op: 'skip', source: `s3://${source.bucket}/${key}`, reason: `not written: the key ${reason}` });
  if (settings.dryRun) {
    for (const object of await selectedObjects(client, source, plan)) {
      const place = safeLocalPath(folder, source.key, object.key);
      if ('reason' in place) skip(object.key, place.reason);
      else reporter.object({ op: 'download', source: `s3://${source.bucket}/${object.key}`, target: place.path, dryRun: true });
    }
    return;
  }
  const { filter } = settings;
  const result = await client.downloadDirectory({ bucket: source.bucket, prefix: source.key }, folder, {
    concurrency: settings.concurrency,
    ...plan.listing,
    ...(filter ? { filter: (object) => filter(relativeKey(source.key, object.key)) } : {}),
    onProgress: tracker(reporter),
    onFile: ({ key, path, bytes, error }) =>
      reporter.object({
        op: 'download',
        source: `s3://${source.bucket}/${key}`,
        target: relative(process.cwd(), path) || path,
        bytes,
        ...(error ? { error } : {}),
      }),
  });
  for (const skipped of result.skipped) skip(skipped.key, skipped.reason);
}
