/**
 * Whether `sync` sends a file or object, as `aws s3 sync` decides: one missing at the destination
 * or of another size is sent; of the same size, by modification time in whole seconds (S3 keeps
 * no finer), in a direction-dependent way that the AWS CLI documents:
 * - upload and copy: sent when the source is newer than the destination;
 * - download: sent only when the local file is newer than the object (a download sets the file's
 *   time to the object's, so an unchanged pair compares equal); `--exact-timestamps` sends it
 *   whenever the times differ.
 * `--size-only` compares sizes alone.
 */

export type SyncDirection = 'upload' | 'download' | 'copy';

export interface SyncEntry {
  size: number;
  mtimeMs: number;
}

export interface SyncComparison {
  sizeOnly?: boolean;
  /** Downloads only: same-sized files are left alone only when their times are equal. */
  exactTimestamps?: boolean;
}

export function needsSync(direction: SyncDirection, source: SyncEntry, destination: SyncEntry | undefined, comparison: SyncComparison = {}): boolean {
  if (!destination || source.size !== destination.size) return true;
  if (comparison.sizeOnly) return false;
  const sourceSeconds = Math.floor(source.mtimeMs / 1000);
  const destinationSeconds = Math.floor(destination.mtimeMs / 1000);
  if (direction !== 'download') return sourceSeconds > destinationSeconds;
  return comparison.exactTimestamps ? sourceSeconds !== destinationSeconds : destinationSeconds > sourceSeconds;
}
