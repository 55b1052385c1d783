/** The settings every transfer command shares (cp, sync): the flags, and what they mean once parsed. */
import type { ObjectAttributes, S3ChecksumAlgorithm } from '../index.js';
import { CLIENT_FLAGS, UsageError, parseChecksum } from './options.js';

export const TRANSFER_FLAGS = {
  ...CLIENT_FLAGS,
  checksum: { type: 'string' },
  'content-type': { type: 'string' },
  metadata: { type: 'string', multiple: true },
  'storage-class': { type: 'string' },
  concurrency: { type: 'string' },
} as const;

export interface TransferSettings {
  attributes: ObjectAttributes;
  checksum: S3ChecksumAlgorithm | undefined;
  concurrency: number;
  resume: boolean;
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
    checksum: values.checksum === undefined ? undefined : parseChecksum(values.checksum as string),
    concurrency,
    resume: Boolean(values.resume),
  };
}
