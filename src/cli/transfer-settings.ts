/** The settings every transfer command shares (cp, sync): the flags, and what they mean once parsed. */
import { S3ChecksumLocation, type ObjectAttributes, type S3ChecksumAlgorithm } from '../index.js';
import { CLIENT_FLAGS, UsageError, parseChecksum } from './options.js';

export const TRANSFER_FLAGS = {
  ...CLIENT_FLAGS,
  checksum: { type: 'string' },
  'checksum-location': { type: 'string' },
  'content-type': { type: 'string' },
  'no-guess-mime-type': { type: 'boolean' },
  metadata: { type: 'string', multiple: true },
  'storage-class': { type: 'string' },
  concurrency: { type: 'string' },
} as const;

export interface TransferSettings {
  attributes: ObjectAttributes;
  /** The upload's checksum: undefined for the client's default (CRC32), null for none. */
  checksum: S3ChecksumAlgorithm | null | undefined;
  checksumLocation: S3ChecksumLocation | undefined;
  /** Guess a file's content type from its name when none is given (off with --no-guess-mime-type). */
  guessContentType: boolean;
  concurrency: number;
  resume: boolean;
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

export function transferSettings(values: Record<string, unknown>): TransferSettings {
  const metadata: Record<string, string> = {};
  for (const pair of (values.metadata as string[] | undefined) ?? []) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--metadata takes KEY=VALUE, got "${pair}"`);
    metadata[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  const attributes: ObjectAttributes = {};
  if (Object.keys(metadata).length > 0) attributes.metadata = metadata;
  if (values['content-type'] !== undefined) attributes.contentType = values['content-type'] as string;
  if (values['storage-class'] !== undefined) attributes.storageClass = values['storage-class'] as string;
  const concurrency = values.concurrency === undefined ? 8 : Number(values.concurrency);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw new UsageError(`--concurrency must be a whole number above 0, got "${String(values.concurrency)}"`);
  return {
    attributes,
    checksum: values.checksum === undefined ? undefined : /^none$/i.test(values.checksum as string) ? null : parseChecksum(values.checksum as string),
    checksumLocation: checksumLocation(values['checksum-location'] as string | undefined),
    guessContentType: !values['no-guess-mime-type'],
    concurrency,
    resume: Boolean(values.resume),
  };
}
