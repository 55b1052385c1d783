/**
 * `s3tx sync SRC DST`: makes DST hold what SRC holds, sending only what differs, by size and
 * modification time as `aws s3 sync` compares them. Local to S3, S3 to local, or S3 to S3.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { DestinationFolder, eachLimited, keyUnder, safeLocalPath, type S3Client } from '../../index.js';
import { download, upload } from '../file-transfers.js';
import { CLIENT_HELP, UsageError, clientFrom, parse, type ClientFlags } from '../options.js';
import { s3Location, tracker, type Location } from '../locations.js';
import { Reporter } from '../report.js';
import { TRANSFER_FLAGS, transferSettings, type TransferSettings } from '../transfer-settings.js';

export const SYNC_USAGE = `Usage: s3tx sync SRC DST [options]

Copies the files (or objects) of SRC that DST lacks, or holds with another size or an older
modification time; one side is an s3://bucket/prefix URL. Downloaded files take the object's
time, so a second sync of unchanged data transfers nothing. Files are replaced through a
temporary file and rename. Nothing in DST is deleted unless --delete is given.

Options:
  --delete             delete what DST holds and SRC does not
  --dry-run, --dryrun  print what would be copied or deleted, and change nothing
  --checksum ALG       the checksum of each upload: CRC32 (the default), CRC32C, CRC64NVME, SHA1, SHA256, none
  --no-guess-mime-type leave a file's content type to S3 instead of guessing it from its name
  --checksum-location header|trailer
                       where it goes (default: trailer over https, header over plain http)
  --content-type TYPE, --metadata K=V, --storage-class SC, --concurrency N   as for cp

${CLIENT_HELP}`;

interface Entry {
  size: number;
  mtime: number;
}

async function localTree(folder: string): Promise<Map<string, Entry & { path: string }>> {
  const entries = new Map<string, Entry & { path: string }>();
  const walk = async (dir: string): Promise<void> => {
    for (const item of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, item.name);
      if (item.isDirectory()) await walk(path);
      else if (item.isFile()) {
        const info = await stat(path);
        entries.set(relative(folder, path).split(sep).join('/'), { path, size: info.size, mtime: info.mtimeMs });
      }
    }
  };
  await walk(folder);
  return entries;
}

async function s3Tree(client: S3Client, bucket: string, prefix: string): Promise<Map<string, Entry & { key: string }>> {
  const entries = new Map<string, Entry & { key: string }>();
  const base = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  for await (const entry of client.listObjects({ bucket, prefix: base })) {
    if (entry.kind !== 'object' || entry.key.endsWith('/')) continue;
    entries.set(entry.key.slice(base.length), { key: entry.key, size: entry.size, mtime: entry.lastModified?.getTime() ?? 0 });
  }
  return entries;
}

/** Whether `source` should replace `target`: missing, another size, or newer (S3 keeps whole seconds). */
function differs(source: Entry, target: Entry | undefined): boolean {
  return !target || source.size !== target.size || Math.floor(source.mtime / 1000) > Math.floor(target.mtime / 1000);
}

export async function sync(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...TRANSFER_FLAGS, delete: { type: 'boolean' }, 'dry-run': { type: 'boolean' } }, true);
  if (values.help) return (console.log(SYNC_USAGE), 0);
  if (positionals.length !== 2) throw new UsageError('sync needs a SRC and a DST');
  const [source, target] = positionals.map(s3Location) as [Location, Location];
  if (source.kind === 'stdio' || target.kind === 'stdio') throw new UsageError('sync works on folders and prefixes, not "-"');
  if (source.kind === 'local' && target.kind === 'local') throw new UsageError('one of SRC and DST must be an s3:// URL');
  const settings = transferSettings(values);
  const dryRun = Boolean(values['dry-run']);
  const reporter = new Reporter({ quiet: Boolean(values.quiet), json: Boolean(values.json), progress: !values['no-progress'] });
  const client = clientFrom(values as ClientFlags);
  try {
    if (source.kind === 'local' && target.kind === 's3') await toS3(client, source.path, target, settings, reporter, dryRun, Boolean(values.delete));
    else if (source.kind === 's3' && target.kind === 'local') await toLocal(client, source, target.path, settings, reporter, dryRun, Boolean(values.delete));
    else if (source.kind === 's3' && target.kind === 's3') await s3ToS3(client, source, target, settings, reporter, dryRun, Boolean(values.delete));
  } finally {
    reporter.finish();
    await client.close();
  }
  return reporter.exitCode;
}

type S3Place = Extract<Location, { kind: 's3' }>;

async function toS3(client: S3Client, folder: string, target: S3Place, settings: TransferSettings, reporter: Reporter, dryRun: boolean, remove: boolean) {
  if (!(await stat(folder).catch(() => null))?.isDirectory()) throw new UsageError(`${folder} is not a folder`);
  const [local, remote] = await Promise.all([localTree(folder), s3Tree(client, target.bucket, target.key)]);
  const todo = [...local].filter(([name, entry]) => differs(entry, remote.get(name)));
  reporter.expect(
    todo.reduce((total, [, entry]) => total + entry.size, 0),
    todo.length,
  );
  await eachLimited(todo, settings.concurrency, async ([name, entry]) => {
    const key = keyUnder(target.key, name);
    if (dryRun) return reporter.object({ op: 'upload', source: entry.path, target: `s3://${target.bucket}/${key}`, dryRun });
    await upload(client, entry.path, { bucket: target.bucket, key, label: entry.path }, settings, reporter);
  });
  if (!remove) return;
  const gone = [...remote].filter(([name]) => !local.has(name)).map(([, entry]) => entry.key);
  await deleteKeys(client, target.bucket, gone, reporter, dryRun);
}

async function toLocal(client: S3Client, source: S3Place, folder: string, settings: TransferSettings, reporter: Reporter, dryRun: boolean, remove: boolean) {
  const [remote, local] = await Promise.all([s3Tree(client, source.bucket, source.key), localTree(folder)]);
  const base = source.key === '' || source.key.endsWith('/') ? source.key : `${source.key}/`;
  const todo = [...remote].filter(([name, entry]) => differs(entry, local.get(name)));
  reporter.expect(
    todo.reduce((total, [, entry]) => total + entry.size, 0),
    todo.length,
  );
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
  if (!remove) return;
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

async function s3ToS3(client: S3Client, source: S3Place, target: S3Place, settings: TransferSettings, reporter: Reporter, dryRun: boolean, remove: boolean) {
  const [from, to] = await Promise.all([s3Tree(client, source.bucket, source.key), s3Tree(client, target.bucket, target.key)]);
  const todo = [...from].filter(([name, entry]) => differs(entry, to.get(name)));
  reporter.expect(
    todo.reduce((total, [, entry]) => total + entry.size, 0),
    todo.length,
  );
  await eachLimited(todo, settings.concurrency, async ([name, entry]) => {
    const key = keyUnder(target.key, name);
    const label = `s3://${source.bucket}/${entry.key}`;
    const destination = `s3://${target.bucket}/${key}`;
    if (dryRun) return reporter.object({ op: 'copy', source: label, target: destination, dryRun });
    try {
      const result = await client.copy({
        ...settings.attributes,
        source: { bucket: source.bucket, key: entry.key },
        bucket: target.bucket,
        key,
        sourceSize: entry.size,
        onProgress: tracker(reporter),
      });
      reporter.object({ op: 'copy', source: label, target: destination, bytes: entry.size, etag: result.etag });
    } catch (error) {
      reporter.object({ op: 'copy', source: label, target: destination, error: error as Error });
    }
  });
  if (remove)
    await deleteKeys(
      client,
      target.bucket,
      [...to].filter(([name]) => !from.has(name)).map(([, entry]) => entry.key),
      reporter,
      dryRun,
    );
}

async function deleteKeys(client: S3Client, bucket: string, keys: string[], reporter: Reporter, dryRun: boolean): Promise<void> {
  if (keys.length === 0) return;
  if (dryRun) {
    for (const key of keys) reporter.object({ op: 'delete', source: `s3://${bucket}/${key}`, dryRun });
    return;
  }
  const result = await client.deleteObjects({ bucket, keys });
  for (const key of result.deleted) reporter.object({ op: 'delete', source: `s3://${bucket}/${key}` });
  for (const failed of result.errors)
    reporter.object({ op: 'delete', source: `s3://${bucket}/${failed.key}`, error: Object.assign(new Error(failed.message), { s3Code: failed.code }) });
}
