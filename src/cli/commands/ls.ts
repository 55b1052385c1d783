/** `s3tx ls [s3://bucket/prefix]`: buckets, or the objects and folders below a prefix. */
import { CLIENT_FLAGS, CLIENT_HELP, LIST_FLAGS, LIST_HELP, UsageError, clientFrom, listingOptions, parse, type ClientFlags } from '../options.js';
import { humanSize } from '../report.js';
import { s3Location } from '../locations.js';
import { printLine, stdoutClosed } from '../stdout.js';

export const LS_USAGE = `Usage: s3tx ls [s3://bucket[/prefix]] [options]

Without an argument, lists the buckets. With one, lists the objects below the prefix and, unless
--recursive, groups deeper keys into folders (PRE lines), as "aws s3 ls" does.

Options:
  -r, --recursive      every object below the prefix
  --summarize          print the number of objects and their total size at the end
  --human-readable     sizes in Bytes, KiB, MiB, GiB, ... rather than bytes
${LIST_HELP}

${CLIENT_HELP}`;

function timestamp(date: Date | null): string {
  return date ? date.toISOString().replace('T', ' ').slice(0, 19) : ''.padEnd(19);
}

export async function ls(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...CLIENT_FLAGS, ...LIST_FLAGS, recursive: { type: 'boolean', short: 'r' }, summarize: { type: 'boolean' }, 'human-readable': { type: 'boolean' } },
    true,
  );
  if (values.help) return (console.log(LS_USAGE), 0);
  if (positionals.length > 1) throw new UsageError('ls takes at most one s3:// URL');
  const location = positionals[0] === undefined ? null : s3Location(positionals[0]);
  if (location && location.kind !== 's3') throw new UsageError('ls lists S3: give an s3://bucket/prefix URL');
  const json = Boolean(values.json);
  const listing = listingOptions(values);
  const size = (bytes: number) => (values['human-readable'] ? humanSize(bytes) : String(bytes));
  const out = printLine;
  const client = clientFrom(values as ClientFlags);
  try {
    if (!location) {
      for (const bucket of await client.listBuckets())
        out(json ? JSON.stringify({ bucket: bucket.name, created: bucket.created }) : `${timestamp(bucket.created)} ${bucket.name}`);
      return 0;
    }
    let count = 0;
    let bytes = 0;
    for await (const entry of client.listObjects({
      bucket: location.bucket,
      prefix: location.key,
      ...listing,
      ...(values.recursive ? {} : { delimiter: '/' }),
    })) {
      // A reader that went away (`| head`) wants no more pages.
      if (stdoutClosed()) break;
      if (entry.kind === 'prefix') {
        out(json ? JSON.stringify({ prefix: entry.prefix }) : `${''.padStart(30)} PRE ${entry.prefix.slice(location.key.lastIndexOf('/') + 1)}`);
        continue;
      }
      count++;
      bytes += entry.size;
      const name = values.recursive ? entry.key : entry.key.slice(location.key.lastIndexOf('/') + 1);
      out(
        json
          ? JSON.stringify({ key: entry.key, size: entry.size, etag: entry.etag, lastModified: entry.lastModified })
          : `${timestamp(entry.lastModified)} ${size(entry.size).padStart(10)} ${name}`,
      );
    }
    if (values.summarize && !json) out(`\nTotal Objects: ${count}\n   Total Size: ${size(bytes)}`);
    return 0;
  } finally {
    await client.close();
  }
}
