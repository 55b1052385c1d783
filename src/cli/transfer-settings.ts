/** The settings every transfer command shares (cp, sync): the flags, and what they mean once parsed. */
import { S3ChecksumLocation, type ObjectAttributes, type S3ChecksumAlgorithm } from '../index.js';
import { FILTER_FLAGS, FILTER_HELP, filterRules, pathFilter } from './filters.js';
import { CLIENT_FLAGS, LIST_FLAGS, UsageError, parseChecksum, type Parsed } from './options.js';

export const TRANSFER_FLAGS = {
  ...CLIENT_FLAGS,
  ...LIST_FLAGS,
  ...FILTER_FLAGS,
  checksum: { type: 'string' },
  'checksum-location': { type: 'string' },
  'content-type': { type: 'string' },
  'no-guess-mime-type': { type: 'boolean' },
  metadata: { type: 'string', multiple: true },
  'metadata-directive': { type: 'string' },
  'storage-class': { type: 'string' },
  acl: { type: 'string' },
  sse: { type: 'string' },
  'sse-kms-key-id': { type: 'string' },
  'cache-control': { type: 'string' },
  'content-disposition': { type: 'string' },
  'content-encoding': { type: 'string' },
  'content-language': { type: 'string' },
  expires: { type: 'string' },
  'follow-symlinks': { type: 'boolean' },
  'no-follow-symlinks': { type: 'boolean' },
  concurrency: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

export const TRANSFER_HELP = `Object options (uploads and copies):
  --checksum ALG       the checksum S3 verifies and keeps with each upload: CRC32 (the default, as the AWS
                       CLI's; AWS_REQUEST_CHECKSUM_CALCULATION=when_required or the profile's
                       request_checksum_calculation turn it off), CRC32C, CRC64NVME, SHA1, SHA256, none
  --checksum-location header|trailer
                       where it goes (default: trailer over https, header over plain http)
  --content-type TYPE  content type of uploaded objects (default: guessed from the file name)
  --no-guess-mime-type leave a file's content type to S3 instead of guessing it from its name
  --metadata K=V       user metadata, repeatable
  --metadata-directive COPY|REPLACE
                       for S3 to S3 copies: keep the source's metadata and content headers (COPY, the
                       default unless some are given) or replace them with those given (REPLACE)
  --storage-class SC   STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, ...
  --acl ACL            a canned ACL: private, public-read, bucket-owner-full-control, ...
  --sse [ALG]          server-side encryption: AES256 (when given alone), aws:kms or aws:kms:dsse
  --sse-kms-key-id ID  the KMS key of --sse aws:kms
  --cache-control V, --content-disposition V, --content-encoding V, --content-language V
                       the object headers of those names
  --expires TIME       when the object may no longer be cached (ISO 8601, such as 2027-01-01T00:00:00Z)

Which files and objects:
${FILTER_HELP}
  --follow-symlinks    follow symbolic links to files and folders (the default); a loop or a dangling
                       link is skipped with a warning (exit code 2)
  --no-follow-symlinks leave symbolic links out
  --concurrency N      files in flight at once (default 8)
  --dryrun             print what would be done, and change nothing (also --dry-run)`;

export interface TransferSettings {
  attributes: ObjectAttributes;
  /** For S3 to S3 copies: undefined lets the copy decide (REPLACE when attributes are given). */
  metadataDirective: 'COPY' | 'REPLACE' | undefined;
  /** The upload's checksum: undefined for the client's default (CRC32), null for none. */
  checksum: S3ChecksumAlgorithm | null | undefined;
  checksumLocation: S3ChecksumLocation | undefined;
  /** Guess a file's content type from its name when none is given (off with --no-guess-mime-type). */
  guessContentType: boolean;
  /** Whether a relative path or key is transferred, under --exclude and --include; null when all are. */
  filter: ((relativePath: string) => boolean) | null;
  followSymlinks: boolean;
  concurrency: number;
  dryRun: boolean;
  resume: boolean;
}

/** The values `--sse` takes; S3 refuses any other. */
const SSE_ALGORITHMS = ['AES256', 'aws:kms', 'aws:kms:dsse'];

/**
 * `--sse` given alone means AES256, as the AWS CLI reads it (an optional value, which parseArgs
 * cannot express): as argparse does, it takes the next argument unless that is a flag.
 */
export function spellSse(args: readonly string[]): string[] {
  const spelled: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (args[i] !== '--sse') spelled.push(args[i]!);
    else if (next !== undefined && !next.startsWith('-')) spelled.push(`--sse=${args[++i]}`);
    else spelled.push('--sse=AES256');
  }
  return spelled;
}

function checksumLocation(text: string | undefined): S3ChecksumLocation | undefined {
  if (text === undefined) return undefined;
  if (/^header$/i.test(text)) return S3ChecksumLocation.HEADER;
  if (/^trailer$/i.test(text)) return S3ChecksumLocation.TRAILER;
  throw new UsageError(`--checksum-location must be header or trailer, got "${text}"`);
}

/** The upload options the flags give: nothing for a flag unset, so the client's defaults apply. */
export function uploadOptions(settings: TransferSettings): {
  checksumAlgorithm?: S3ChecksumAlgorithm | null;
  checksumLocation?: S3ChecksumLocation;
  guessContentType?: false;
} {
  return {
    ...(settings.guessContentType ? {} : { guessContentType: false as const }),
    ...(settings.checksum !== undefined ? { checksumAlgorithm: settings.checksum } : {}),
    ...(settings.checksumLocation !== undefined ? { checksumLocation: settings.checksumLocation } : {}),
  };
}

/** The copy options the flags give. */
export function copyOptions(settings: TransferSettings): ObjectAttributes & { metadataDirective?: 'COPY' | 'REPLACE' } {
  return { ...settings.attributes, ...(settings.metadataDirective ? { metadataDirective: settings.metadataDirective } : {}) };
}

function attributesFrom(values: Parsed['values']): ObjectAttributes {
  const metadata: Record<string, string> = {};
  for (const pair of (values.metadata as string[] | undefined) ?? []) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--metadata takes KEY=VALUE, got "${pair}"`);
    metadata[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  const attributes: ObjectAttributes = {};
  if (Object.keys(metadata).length > 0) attributes.metadata = metadata;
  const text = (flag: string) => values[flag] as string | undefined;
  const sse = text('sse');
  if (sse !== undefined && !SSE_ALGORITHMS.includes(sse)) throw new UsageError(`--sse must be one of ${SSE_ALGORITHMS.join(', ')}, got "${sse}"`);
  const kmsKey = text('sse-kms-key-id');
  if (kmsKey !== undefined && sse !== 'aws:kms' && sse !== 'aws:kms:dsse') throw new UsageError('--sse-kms-key-id needs --sse aws:kms');
  const expires = text('expires');
  if (expires !== undefined && Number.isNaN(Date.parse(expires)))
    throw new UsageError(`--expires must be a date and time such as 2027-01-01T00:00:00Z, got "${expires}"`);
  const given: Array<[keyof ObjectAttributes, string | undefined]> = [
    ['contentType', text('content-type')],
    ['contentEncoding', text('content-encoding')],
    ['contentDisposition', text('content-disposition')],
    ['contentLanguage', text('content-language')],
    ['cacheControl', text('cache-control')],
    ['expires', expires],
    ['storageClass', text('storage-class')],
    ['acl', text('acl')],
    ['serverSideEncryption', sse],
    ['sseKmsKeyId', kmsKey],
  ];
  for (const [name, value] of given) if (value !== undefined) (attributes as Record<string, unknown>)[name] = value;
  return attributes;
}

export function transferSettings(parsed: Parsed): TransferSettings {
  const { values } = parsed;
  const directive = values['metadata-directive'] as string | undefined;
  if (directive !== undefined && directive !== 'COPY' && directive !== 'REPLACE')
    throw new UsageError(`--metadata-directive must be COPY or REPLACE, got "${directive}"`);
  if (values['follow-symlinks'] && values['no-follow-symlinks']) throw new UsageError('give one of --follow-symlinks and --no-follow-symlinks');
  const concurrency = values.concurrency === undefined ? 8 : Number(values.concurrency);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw new UsageError(`--concurrency must be a whole number above 0, got "${String(values.concurrency)}"`);
  return {
    attributes: attributesFrom(values),
    metadataDirective: directive,
    checksum: values.checksum === undefined ? undefined : /^none$/i.test(values.checksum as string) ? null : parseChecksum(values.checksum as string),
    checksumLocation: checksumLocation(values['checksum-location'] as string | undefined),
    guessContentType: !values['no-guess-mime-type'],
    filter: pathFilter(filterRules(parsed.tokens)),
    followSymlinks: !values['no-follow-symlinks'],
    concurrency,
    dryRun: Boolean(values['dry-run']),
    resume: Boolean(values.resume),
  };
}
