/** `s3tx cp SRC DST`: local to S3, S3 to local, S3 to S3; `-r` for folders and prefixes; `-` for stdin and stdout. */
import { stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { eachLimited, keyUnder, type S3Client } from '../../index.js';
import { download, upload } from '../file-transfers.js';
import { s3Location, tracker, type Location } from '../locations.js';
import { CLIENT_HELP, UsageError, clientFrom, parse, type ClientFlags } from '../options.js';
import { Reporter } from '../report.js';
import { TRANSFER_FLAGS, transferSettings, type TransferSettings } from '../transfer-settings.js';

export const CP_USAGE = `Usage: s3tx cp SRC DST [options]

Copies a file or object; SRC and DST are local paths, s3://bucket/key URLs, or "-" for
stdin (SRC) or stdout (DST). A DST ending in "/" (or an existing folder) takes SRC's name.
Objects are written through a temporary file and renamed when complete; an existing file
of the same name is replaced.

Examples:
  s3tx cp ./video.mp4 s3://bucket/videos/
  s3tx cp s3://bucket/videos/video.mp4 ./
  s3tx cp -r ./site s3://bucket/site
  s3tx cp s3://bucket/a.bin s3://other/b.bin
  tar c dir | s3tx cp - s3://bucket/dir.tar

Options:
  -r, --recursive      copy a folder, or every object below a prefix
  --checksum ALG       the checksum S3 verifies and keeps with each upload: CRC32 (the default, as the AWS
                       CLI's; AWS_REQUEST_CHECKSUM_CALCULATION=when_required or the profile's
                       request_checksum_calculation turn it off), CRC32C, CRC64NVME, SHA1, SHA256, none
  --no-guess-mime-type leave a file's content type to S3 instead of guessing it from its name
  --checksum-location header|trailer
                       where it goes (default: trailer over https, header over plain http)
  --content-type TYPE  content type of uploaded objects (default: from the file name)
  --metadata K=V       user metadata, repeatable
  --storage-class SC   STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, ...
  --resume             continue an upload or download that was interrupted, sending only what is missing
  --concurrency N      files in flight at once with -r (default 8)

${CLIENT_HELP}`;

export async function cp(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...TRANSFER_FLAGS, recursive: { type: 'boolean', short: 'r' }, resume: { type: 'boolean' } }, true);
  if (values.help) return (console.log(CP_USAGE), 0);
  if (positionals.length !== 2) throw new UsageError('cp needs a SRC and a DST');
  const settings = transferSettings(values);
  const [source, target] = positionals.map(s3Location) as [Location, Location];
  if (source.kind === 'local' && target.kind === 'local') throw new UsageError('one of SRC and DST must be an s3:// URL');
  if ((source.kind === 'stdio' || target.kind === 'stdio') && values.recursive) throw new UsageError('"-" cannot be used with --recursive');
  if (source.kind === 'stdio' && target.kind !== 's3') throw new UsageError('"-" as SRC uploads stdin: DST must be an s3:// URL');
  if (target.kind === 'stdio' && source.kind !== 's3') throw new UsageError('"-" as DST writes an object to stdout: SRC must be an s3:// URL');
  const reporter = new Reporter({ quiet: Boolean(values.quiet) || target.kind === 'stdio', json: Boolean(values.json), progress: !values['no-progress'] });
  const client = clientFrom(values as ClientFlags);
  try {
    if (values.recursive) await copyTree(client, source, target, settings, reporter);
    else await copyOne(client, source, target, settings, reporter);
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

async function copyOne(client: S3Client, source: Location, target: Location, settings: TransferSettings, reporter: Reporter): Promise<void> {
  if (source.kind === 'stdio' && target.kind === 's3') {
    if (target.key === '' || target.key.endsWith('/')) throw new UsageError('uploading stdin needs a full object key in DST');
    await upload(client, process.stdin, { bucket: target.bucket, key: target.key, label: '-' }, settings, reporter);
    return;
  }
  if (source.kind === 'local' && target.kind === 's3') {
    const info = await stat(source.path).catch(() => null);
    if (!info?.isFile()) throw new UsageError(info?.isDirectory() ? `${source.path} is a folder: use --recursive` : `${source.path}: no such file`);
    reporter.expect(info.size, 1);
    await upload(client, source.path, { bucket: target.bucket, key: keyFor(target, basename(source.path)), label: source.path }, settings, reporter);
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
    await download(client, { bucket: source.bucket, key: source.key, label: source.text }, path, settings, reporter);
    return;
  }
  await copyObject(client, source, { bucket: target.bucket, key: keyFor(target, basename(source.key)) }, settings, reporter);
}

async function copyTree(client: S3Client, source: Location, target: Location, settings: TransferSettings, reporter: Reporter): Promise<void> {
  if (settings.resume) throw new UsageError('--resume works on one file or object at a time, not with --recursive');
  const onProgress = tracker(reporter);
  if (source.kind === 'local' && target.kind === 's3') {
    if (!(await isFolder(source.path))) throw new UsageError(`${source.path} is not a folder`);
    const result = await client.uploadDirectory(
      source.path,
      { bucket: target.bucket, prefix: target.key },
      {
        ...settings.attributes,
        concurrency: settings.concurrency,
        onProgress,
        onFile: ({ key, path, bytes, error }) =>
          reporter.object({ op: 'upload', source: path, target: `s3://${target.bucket}/${key}`, bytes, ...(error ? { error } : {}) }),
      },
    );
    reporter.expect(result.bytes, result.files);
    return;
  }
  if (source.kind !== 's3') throw new UsageError('unsupported combination of SRC and DST');
  if (target.kind === 'local') {
    const result = await client.downloadDirectory({ bucket: source.bucket, prefix: source.key }, target.path, {
      concurrency: settings.concurrency,
      onProgress,
      onFile: ({ key, path, bytes, error }) =>
        reporter.object({
          op: 'download',
          source: `s3://${source.bucket}/${key}`,
          target: relative(process.cwd(), path) || path,
          bytes,
          ...(error ? { error } : {}),
        }),
    });
    for (const skipped of result.skipped)
      reporter.object({ op: 'skip', source: `s3://${source.bucket}/${skipped.key}`, reason: `not written: the key ${skipped.reason}` });
    return;
  }
  if (target.kind !== 's3') throw new UsageError('unsupported combination of SRC and DST');
  const objects = [];
  for await (const entry of client.listObjects({ bucket: source.bucket, prefix: source.key })) if (entry.kind === 'object') objects.push(entry);
  reporter.expect(
    objects.reduce((total, object) => total + object.size, 0),
    objects.length,
  );
  await eachLimited(objects, settings.concurrency, async (object) => {
    const key = keyUnder(target.key, object.key.slice(source.key.length).replace(/^\//, ''));
    await copyObject(
      client,
      { bucket: source.bucket, key: object.key, text: `s3://${source.bucket}/${object.key}` },
      { bucket: target.bucket, key },
      settings,
      reporter,
      object.size,
    );
  });
}

async function copyObject(
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
      ...settings.attributes,
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
