/** `s3tx rm s3://bucket/key`: one object, or with -r every object below a prefix. */
import { FILTER_FLAGS, FILTER_HELP, filterRules, pathFilter, relativeKey } from '../filters.js';
import { CLIENT_FLAGS, CLIENT_HELP, LIST_FLAGS, LIST_HELP, UsageError, clientFrom, listingOptions, parse, type ClientFlags } from '../options.js';
import { s3Location } from '../locations.js';
import { Reporter } from '../report.js';

export const RM_USAGE = `Usage: s3tx rm s3://bucket/key [options]

Deletes an object, or with --recursive every object below a prefix (a thousand per request).

Options:
  -r, --recursive      every object below the prefix
  --dryrun             print what would be deleted, and delete nothing (also --dry-run)
${FILTER_HELP}
${LIST_HELP}

${CLIENT_HELP}`;

export async function rm(args: string[]): Promise<number> {
  const { values, positionals, tokens } = parse(
    args,
    { ...CLIENT_FLAGS, ...LIST_FLAGS, ...FILTER_FLAGS, recursive: { type: 'boolean', short: 'r' }, 'dry-run': { type: 'boolean' } },
    true,
  );
  if (values.help) return (console.log(RM_USAGE), 0);
  if (positionals.length !== 1) throw new UsageError('rm takes one s3:// URL');
  const location = s3Location(positionals[0]!);
  if (location.kind !== 's3') throw new UsageError('rm deletes from S3: give an s3://bucket/key URL');
  if (!values.recursive && (location.key === '' || location.key.endsWith('/'))) throw new UsageError(`${location.text} names a prefix: use --recursive`);
  const dryRun = Boolean(values['dry-run']);
  const filter = pathFilter(filterRules(tokens));
  if (filter && !values.recursive) throw new UsageError('--exclude and --include choose among the objects of --recursive');
  const listing = listingOptions(values);
  const reporter = new Reporter({ quiet: Boolean(values.quiet), json: Boolean(values.json), progress: !values['no-progress'] });
  const client = clientFrom(values as ClientFlags);
  try {
    const keys: string[] = [];
    if (values.recursive) {
      for await (const entry of client.listObjects({ bucket: location.bucket, prefix: location.key, ...listing })) {
        if (entry.kind === 'object' && (!filter || filter(relativeKey(location.key, entry.key)))) keys.push(entry.key);
      }
    } else {
      keys.push(location.key);
    }
    const label = (key: string) => `s3://${location.bucket}/${key}`;
    if (dryRun) {
      for (const key of keys) reporter.object({ op: 'delete', source: label(key), dryRun: true });
      return 0;
    }
    if (!values.recursive) {
      try {
        await client.deleteObject({ bucket: location.bucket, key: location.key });
        reporter.object({ op: 'delete', source: label(location.key) });
      } catch (error) {
        reporter.object({ op: 'delete', source: label(location.key), error: error as Error });
      }
    } else if (keys.length > 0) {
      const result = await client.deleteObjects({ bucket: location.bucket, keys });
      for (const key of result.deleted) reporter.object({ op: 'delete', source: label(key) });
      for (const failed of result.errors)
        reporter.object({ op: 'delete', source: label(failed.key), error: Object.assign(new Error(failed.message), { s3Code: failed.code }) });
    }
    return reporter.failures > 0 ? 1 : 0;
  } finally {
    reporter.finish();
    await client.close();
  }
}
