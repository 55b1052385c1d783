/**
 * What the CLI tells the user: a progress line on a terminal (bytes, percentage, throughput,
 * ETA, files), a line per finished object, or with --json one JSON object per line for
 * scripts; errors as one line on stderr naming the object and S3's error code.
 */
import type { Writable } from 'node:stream';

export interface ReporterOptions {
  quiet: boolean;
  /** False turns the progress line off while per-object lines stay (--no-progress). */
  progress?: boolean;
  json: boolean;
  stdout?: Writable & { isTTY?: boolean };
  stderr?: Writable & { isTTY?: boolean };
}

/** One finished (or failed) object. */
export interface ObjectEvent {
  op: 'upload' | 'download' | 'copy' | 'delete' | 'skip';
  source: string;
  target?: string;
  bytes?: number;
  etag?: string | null;
  error?: Error;
  reason?: string;
  dryRun?: boolean;
}

const REDRAW_MS = 100;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const HUMAN_SUFFIXES = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** One decimal, ties to even as Python's `%.1f` rounds them (1.25 is "1.2"). */
function oneDecimal(value: number): string {
  const tenths = value * 10;
  const floor = Math.floor(tenths);
  const rounded = tenths - floor === 0.5 ? floor + (floor % 2) : Math.round(tenths);
  return (rounded / 10).toFixed(1);
}

/**
 * A size as `aws s3 ls --human-readable` prints it: "1 Byte", "512 Bytes", then "1.0 KiB" and up,
 * each unit taken while the value would not round to 1024 of it.
 */
export function humanSize(bytes: number): string {
  if (bytes === 1) return '1 Byte';
  if (bytes < 1024) return `${bytes} Bytes`;
  for (let i = 0; i < HUMAN_SUFFIXES.length; i++) {
    const unit = 1024 ** (i + 2);
    if (Math.round((bytes / unit) * 1024) < 1024 || i === HUMAN_SUFFIXES.length - 1) return `${oneDecimal((1024 * bytes) / unit)} ${HUMAN_SUFFIXES[i]}`;
  }
  return `${bytes} Bytes`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** An error in --json output: its code, S3's code when S3 answered, and its message. */
function errorFields(error: Error): { code: string | null; s3Code?: string; message: string } {
  const { code, s3Code } = error as Error & { code?: string; s3Code?: string };
  return { code: code ?? null, ...(s3Code !== undefined ? { s3Code } : {}), message: error.message };
}

/** An error as one line: S3's code and status when there is one. */
export function describeError(error: Error): string {
  const { s3Code, statusCode } = error as Error & { s3Code?: string; statusCode?: number };
  // S3's own code says more than the class's (AWS_ERROR_S3_INVALID_RESPONSE_STATUS for every error answer).
  const code = s3Code ?? (error as Error & { code?: string }).code;
  const message = error.message.split('\n')[0]!;
  // S3 errors already say "GetObject failed with 404 NoSuchKey: ...".
  if (!code || message.includes(code)) return message;
  return `${code}${statusCode ? ` (${statusCode})` : ''}: ${message}`;
}

export class Reporter {
  readonly #quiet: boolean;
  readonly #json: boolean;
  readonly #stdout: Writable;
  readonly #stderr: Writable;
  readonly #progress: boolean;
  #totalBytes: number | null = null;
  #totalFiles: number | null = null;
  #bytes = 0;
  #files = 0;
  #failures = 0;
  #skipped = 0;
  #started = performance.now();
  #lastDraw = 0;
  #timer: NodeJS.Timeout | null = null;
  #drawn = false;

  constructor(options: ReporterOptions) {
    this.#quiet = options.quiet;
    this.#json = options.json;
    this.#stdout = options.stdout ?? process.stdout;
    this.#stderr = options.stderr ?? process.stderr;
    this.#progress = !options.quiet && options.progress !== false && Boolean((options.stderr ?? process.stderr).isTTY);
  }

  get failures(): number {
    return this.#failures;
  }

  /** The exit code, as the AWS CLI gives it: 1 when a transfer failed, 2 when a file was skipped, else 0. */
  get exitCode(): number {
    return this.#failures > 0 ? 1 : this.#skipped > 0 ? 2 : 0;
  }

  /** What is to be moved, when known: the progress line shows percentage and ETA from it. */
  expect(bytes: number | null, files: number | null): void {
    this.#totalBytes = bytes;
    this.#totalFiles = files;
  }

  addExpected(bytes: number, files = 1): void {
    this.#totalBytes = (this.#totalBytes ?? 0) + bytes;
    this.#totalFiles = (this.#totalFiles ?? 0) + files;
  }

  bytes(count: number): void {
    this.#bytes += count;
    this.#schedule();
  }

  /** A finished or failed object: a line (or JSON) for it, and the progress line redrawn. */
  object(event: ObjectEvent): void {
    if (event.op !== 'skip' && !event.error) this.#files++;
    if (event.op === 'skip') {
      // As aws s3 does: a warning on stderr whatever the verbosity, and exit 2 in the end.
      this.#skipped++;
      this.#clear();
      if (this.#json) this.#stdout.write(`${JSON.stringify(this.#fields(event))}\n`);
      this.#stderr.write(`warning: skipping ${event.source}: ${event.reason}\n`);
    } else if (event.error) {
      this.#failures++;
      this.#clear();
      const what = `${event.op} of ${event.source}${event.target ? ` to ${event.target}` : ''}`;
      if (this.#json) this.#stdout.write(`${JSON.stringify({ ...this.#fields({ ...event, bytes: undefined }), error: errorFields(event.error) })}\n`);
      this.#stderr.write(`s3tx: ${what} failed: ${describeError(event.error)}\n`);
    } else if (this.#json) {
      this.#stdout.write(`${JSON.stringify(this.#fields(event))}\n`);
    } else if (!this.#quiet) {
      this.#clear();
      const verb = event.dryRun ? `(dryrun) ${event.op}` : event.op;
      this.#stdout.write(`${verb}: ${event.source}${event.target ? ` to ${event.target}` : ''}\n`);
    }
    this.#schedule();
  }

  #fields(event: ObjectEvent): Record<string, unknown> {
    const fields: Record<string, unknown> = { op: event.op, source: event.source };
    if (event.target !== undefined) fields.target = event.target;
    if (event.bytes !== undefined) fields.bytes = event.bytes;
    if (event.etag) fields.etag = event.etag;
    if (event.reason) fields.reason = event.reason;
    if (event.dryRun) fields.dryRun = true;
    return fields;
  }

  /** Redraws at most ten times a second. */
  #schedule(): void {
    if (!this.#progress || this.#timer) return;
    const wait = Math.max(0, this.#lastDraw + REDRAW_MS - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#draw();
    }, wait);
  }

  #draw(): void {
    this.#lastDraw = performance.now();
    const seconds = (this.#lastDraw - this.#started) / 1000;
    const rate = seconds > 0 ? this.#bytes / seconds : 0;
    const parts = [formatBytes(this.#bytes)];
    if (this.#totalBytes) {
      parts[0] += ` / ${formatBytes(this.#totalBytes)} (${Math.min(100, Math.floor((this.#bytes / this.#totalBytes) * 100))}%)`;
    }
    parts.push(`${formatBytes(rate)}/s`);
    if (this.#totalBytes) parts.push(`ETA ${formatDuration(rate > 0 ? (this.#totalBytes - this.#bytes) / rate : Infinity)}`);
    if (this.#totalFiles !== null && this.#totalFiles > 1) parts.push(`${this.#files}/${this.#totalFiles} files`);
    this.#stderr.write(`\r\x1b[2K${parts.join('  ')}`);
    this.#drawn = true;
  }

  #clear(): void {
    if (!this.#drawn) return;
    this.#stderr.write('\r\x1b[2K');
    this.#drawn = false;
  }

  /** Stops redrawing and clears the progress line. */
  finish(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#clear();
  }
}
