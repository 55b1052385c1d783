/**
 * Standard output that a reader may close early (`s3tx ls | head -1`): the first EPIPE ends the
 * output quietly, later writes go nowhere, and commands that only print (ls) stop asking S3 for
 * more. A transfer that prints as it goes finishes, or cleans up, as it would have.
 */
let closed = false;

/** Watches process.stdout for a reader that went away; call once at start. */
export function watchStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
      closed = true;
      return;
    }
    throw error;
  });
}

/** Whether the reader of standard output has gone. */
export function stdoutClosed(): boolean {
  return closed || process.stdout.destroyed;
}

/** Writes a line to standard output unless its reader has gone. */
export function printLine(line: string): void {
  if (!stdoutClosed()) process.stdout.write(`${line}\n`);
}
