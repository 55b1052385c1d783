/** The CLI's arguments as places: an S3 URL, a local path, or "-" for stdin/stdout. */
import type { Progress } from '../index.js';
import { UsageError } from './options.js';
import type { Reporter } from './report.js';

export type Location = { kind: 's3'; bucket: string; key: string; text: string } | { kind: 'local'; path: string } | { kind: 'stdio' };

export function s3Location(text: string): Location {
  if (text === '-') return { kind: 'stdio' };
  if (/^s3:\/\//i.test(text)) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/is.exec(text);
    if (!match) throw new UsageError(`"${text}" is not an s3://bucket/key URL`);
    return { kind: 's3', bucket: match[1]!, key: match[2]!, text };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new UsageError(`"${text}": only s3:// URLs and local paths are understood`);
  return { kind: 'local', path: text };
}

/** An onProgress that feeds a reporter the bytes moved since the last call. */
export function tracker(reporter: Reporter): (progress: Progress) => void {
  let last = 0;
  return (progress) => {
    reporter.bytes(progress.transferred - last);
    last = progress.transferred;
  };
}
