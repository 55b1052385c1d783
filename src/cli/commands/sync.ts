/**
 * `s3tx sync SRC DST`: makes DST hold what SRC holds, sending only what differs, by size and
 * modification time as `aws s3 sync` compares them (see sync-decision.ts). Local to S3, S3 to
 * local, or S3 to S3. --exclude and --include apply to both sides, so that what they leave out
 * of SRC is not deleted from DST by --delete either.
 */
import { stat, unlink } from 'node:fs/promises';
import { DestinationFolder, eachLimited, keyUnder, localFiles, safeLocalPath, type S3Client } from '../../index.js';
import { copyObject, download, upload } from '../file-transfers.js';
import { CLIENT_HELP, LIST_HELP, UsageError, clientFrom, listingOptions, parse, type ClientFlags } from '../options.js';
import { s3Location, type Location } from '../locations.js';
import { Reporter } from '../report.js';
import { needsSync, type SyncComparison, type SyncEntry } from '../sync-decision.js';
import { TRANSFER_FLAGS, TRANSFER_HELP, spellSse, transferSettings, type TransferSettings } from '../transfer-settings.js';

export const SYNC_USAGE = `Usage: s3tx sync SRC DST [options]

Copies the files (or objects) of SRC that DST lacks or holds with another size, and those whose
modification time says they changed, as "aws s3 sync" compares them: an upload or copy when the
source is newer; a download when the local file is newer than the object (or with
--exact-timestamps, when the times differ). Downloaded files take the object's time, so a second
sync of unchanged data transfers nothing. Files are replaced through a temporary file and rename.
Nothing in DST is deleted unless --delete is given.

Options:
  --delete             delete what DST holds and SRC does not (but not what --exclude leaves out)
  --size-only          compare sizes only, not modification times
  --exact-timestamps   for downloads: send same-sized files unless their times are equal

${TRANSFER_HELP}
${LIST_HELP}

${CLIENT_HELP}`;

/** A side of the sync: what it holds, by path relative to its folder or prefix. */
type Tree<T> = Map<string, SyncEntry & T>;

interface Job {
  client: S3Client;
  settings: TransferSettings;
  comparison: SyncComparison;
  listing: { maxKeys?: number };
  reporter: Reporter;
  remove: boolean;
}

type S3Place = Extract<Location, { kind: 's3' }>;

function selected(settings: TransferSettings, relativePath: string): boolean {
  return !settings.filter || settings.filter(relativePath);
}

async function localTree(job: Job, folder: string): Promise<Tree<{ path: string }>> {
  const entries: Tree<{ path: string }> = new Map();
  // A download's folder that is not there yet holds nothing.
  if (!(await stat(folder).catch(() => null))) return entries;
  const files = localFiles(folder, {
    followSymlinks: job.settings.followSymlinks,
    onSkip: ({ path, relativePath, reason }) => {
      if (selected(job.settings, relativePath)) job.reporter.object({ op: 'skip', source: path, reason });
    },
  });
  for await (const file of files) {
    if (selected(job.settings, file.relativePath)) entries.set(file.relativePath, { path: file.path, size: file.size, mtimeMs: file.mtimeMs });
  }
  return entries;
}

async function s3Tree(job: Job, bucket: string, prefix: string): Promise<Tree<{ key: string }>> {
  const entries: Tree<{ key: string }> = new Map();
  const base = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  for await (const entry of job.client.listObjects({ bucket, prefix: base, ...job.listing })) {
    if (entry.kind !== 'object' || entry.key.endsWith('/')) continue;
    const relativePath = entry.key.slice(base.length);
    if (selected(job.settings, relativePath)) entries.set(relativePath, { key: entry.key, size: entry.size, mtimeMs: entry.lastModified?.getTime() ?? 0 });
  }
  return entries;
}

export async function sync(args: string[]): Promise<number> {
  const parsed = parse(
    spellSse(args),
    { ...TRANSFER_FLAGS, delete: { type: 'boolean' }, 'size-only': { type: 'boolean' }, 'exact-timestamps': { type: 'boolean' } },
    true,
  );
  const { values, positionals } = parsed;
  if (values.help) return (console.log(SYNC_USAGE), 0);
  if (positionals.length !== 2) throw new UsageError('sync needs a SRC and a DST');
  const [source, target] = positionals.map(s3Location) as [Location, Location];
  if (source.kind === 'stdio' || target.kind === 'stdio') throw new UsageError('sync works on folders and prefixes, not "-"');
  if (source.kind === 'local' && target.kind === 'local') throw new UsageError('one of SRC and DST must be an s3:// URL');
  if (values['exact-timestamps'] && !(source.kind === 's3' && target.kind === 'local'))
    throw new UsageError('--exact-timestamps is for syncs from S3 to a local folder');
  const settings = transferSettings(parsed);
  const listing = listingOptions(values);
  const reporter = new Reporter({ quiet: Boolean(values.quiet), json: Boolean(values.json), progress: !values['no-progress'] });
  const client = clientFrom(values as ClientFlags);
  const job: Job = {
    client,
    settings,
    listing,
    reporter,
    remove: Boolean(values.delete),
    comparison: { sizeOnly: Boolean(values['size-only']), exactTimestamps: Boolean(values['exact-timestamps']) },
  };
  try {
    if (source.kind === 'local' && target.kind === 's3') await toS3(job, source.path, target);
    else if (source.kind === 's3' && target.kind === 'local') await toLocal(job, source, target.path);
    else if (source.kind === 's3' && target.kind === 's3') await s3ToS3(job, source, target);
  } finally {
    reporter.finish();
    await client.close();
  }
  return reporter.exitCode;
}

/** The entries of `from` to send, the reporter told their total. */
function toSend<T>(job: Job, direction: 'upload' | 'download' | 'copy', from: Tree<T>, to: Tree<unknown>): Array<[string, SyncEntry & T]> {
  const todo = [...from].filter(([name, entry]) => needsSync(direction, entry, to.get(name), job.comparison));
  job.reporter.expect(
    todo.reduce((total, [, entry]) => total + entry.size, 0),
    todo.length,
  );
  return todo;
}

async function toS3(job: Job, folder: string, target: S3Place) {
  const { client, settings, reporter } = job;
  if (!(await stat(folder).catch(() => null))?.isDirectory()) throw new UsageError(`${folder} is not a folder`);
  const [local, remote] = await Promise.all([localTree(job, folder), s3Tree(job, target.bucket, target.key)]);
  await eachLimited(toSend(job, 'upload', local, remote), settings.concurrency, async ([name, entry]) => {
    const key = keyUnder(target.key, name);
    if (settings.dryRun) return reporter.object({ op: 'upload', source: entry.path, target: `s3://${target.bucket}/${key}`, dryRun: true });
    await upload(client, entry.path, { bucket: target.bucket, key, label: entry.path }, settings, reporter);
  });
  if (!job.remove) return;
  const gone = [...remote].filter(([name]) => !local.has(name)).map(([, entry]) => entry.key);
  await deleteKeys(job, target.bucket, gone);
}

async function toLocal(job: Job, source: S3Place, folder: string) {
  const { client, settings, reporter } = job;
  const { dryRun } = settings;
  const [remote, local] = await Promise.all([s3Tree(job, source.bucket, source.key), localTree(job, folder)]);
  const base = source.key === '' || source.key.endsWith('/') ? source.key : `${source.key}/`;
  const todo = toSend(job, 'download', remote, local);
  const destination = dryRun ? null : await DestinationFolder.open(folder);
  await eachLimited(todo, settings.concurrency, async ([, entry]) => {
    const label = `s3://${source.bucket}/${entry.key}`;
    // A dry run makes no folders: it only says where each object would go.
    const place = destination ? await destination.place(base, entry.key) : safeLocalPath(folder, base, entry.key);
    if ('reason' in place) return reporter.object({ op: 'skip', source: label, reason: `not written: the key ${place.reason}` });
    if ('error' in place) return reporter.object({ op: 'download', source: label, target: place.path, error: place.error as Error });
    if (dryRun) return reporter.object({ op: 'download', source: label, target: place.path, dryRun });
    await download(client, { bucket: source.bucket, key: entry.key, label }, place.path, settings, reporter);
  });
  if (!job.remove) return;
  for (const [name, entry] of local) {
    if (remote.has(name)) continue;
    if (dryRun) reporter.object({ op: 'delete', source: entry.path, dryRun });
    else {
      await unlink(entry.path).then(
        () => reporter.object({ op: 'delete', source: entry.path }),
        (error: Error) => reporter.object({ op: 'delete', source: entry.path, error }),
      );
    }
  }
}

async function s3ToS3(job: Job, source: S3Place, target: S3Place) {
  const { client, settings, reporter } = job;
  const [from, to] = await Promise.all([s3Tree(job, source.bucket, source.key), s3Tree(job, target.bucket, target.key)]);
  await eachLimited(toSend(job, 'copy', from, to), settings.concurrency, async ([name, entry]) => {
    const key = keyUnder(target.key, name);
    const label = `s3://${source.bucket}/${entry.key}`;
    if (settings.dryRun) return reporter.object({ op: 'copy', source: label, target: `s3://${target.bucket}/${key}`, dryRun: true });
    await copyObject(client, { bucket: source.bucket, key: entry.key, text: label }, { bucket: target.bucket, key }, settings, reporter, entry.size);
  });
  if (job.remove)
    await deleteKeys(
      job,
      target.bucket,
      [...to].filter(([name]) => !from.has(name)).map(([, entry]) => entry.key),
    );
}

async function deleteKeys(job: Job, bucket: string, keys: string[]): Promise<void> {
  const { reporter } = job;
  if (keys.length === 0) return;
  if (job.settings.dryRun) {
    for (const key of keys) reporter.object({ op: 'delete', source: `s3://${bucket}/${key}`, dryRun: true });
    return;
  }
  const result = await job.client.deleteObjects({ bucket, keys });
  for (const key of result.deleted) reporter.object({ op: 'delete', source: `s3://${bucket}/${key}` });
  for (const failed of result.errors)
    reporter.object({ op: 'delete', source: `s3://${bucket}/${failed.key}`, error: Object.assign(new Error(failed.message), { s3Code: failed.code }) });
}
