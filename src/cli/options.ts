/** Command-line parsing shared by the commands: flags, sizes, and the client the flags describe. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidArgumentError, S3ChecksumAlgorithm, S3Client, type FromEnvironmentOptions, type RequestMetrics } from '../index.js';

/** Bad usage: exit code 2, with the command's help. */
export class UsageError extends Error {}

/** A setting the client refused at creation (a CA bundle that cannot be read, say): exit code 2, one line, no help. */
export class SetupError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every transfer command takes: where S3 is and how the client runs. */
export const CLIENT_FLAGS = {
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'part-size': { type: 'string' },
  'target-gbps': { type: 'string' },
  'memory-limit': { type: 'string' },
  'no-verify-ssl': { type: 'boolean' },
  'ca-bundle': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'read-timeout': { type: 'string' },
  // The AWS CLI's spellings of the two timeouts.
  'cli-connect-timeout': { type: 'string' },
  'cli-read-timeout': { type: 'string' },
  'force-path-style': { type: 'boolean' },
  'addressing-style': { type: 'string' },
  'no-sign-request': { type: 'boolean' },
  debug: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'no-progress': { type: 'boolean' },
  json: { type: 'boolean' },
} as const satisfies Options;

/** The AWS CLI's spellings of s3tx's flags, taken as they are typed (`aws s3 sync --dryrun`). */
const AWS_SPELLINGS: Record<string, string> = { '--dryrun': '--dry-run', '--only-show-errors': '--quiet' };

export const CLIENT_HELP = `Client options:
  --endpoint-url URL   S3 endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile, or AWS)
  --region REGION      region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, or us-east-1)
  --profile NAME       profile of ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE or default)
  --part-size SIZE     bytes per part, such as 16MiB (default 8MiB)
  --target-gbps N      throughput to aim for, in Gbit/s; sets the number of connections (default 10)
  --memory-limit SIZE  bytes of part buffers at once, such as 1GiB (default: a quarter of memory, at most 2GiB)
  --no-verify-ssl      do not verify the server's TLS certificate (unsafe: for test servers only)
  --ca-bundle PATH     PEM file of CA certificates to trust instead of the system's
                       (default: AWS_CA_BUNDLE, the profile's ca_bundle, or the system store)
  --connect-timeout S  seconds for a connection's TCP connect and TLS handshake (default 10);
                       also --cli-connect-timeout
  --read-timeout S     seconds a connection may wait for the response or between its bytes before the
                       part is retried (default 30); also --cli-read-timeout
  --force-path-style   address buckets as https://host/bucket/key
  --addressing-style STYLE
                       path, virtual or auto (default: the profile's s3 addressing_style, else auto:
                       virtual for *.amazonaws.com, path style for any other endpoint)
  --no-sign-request    send requests unsigned (public buckets); no credentials are looked up
  --debug              a line on stderr for every request: operation, method, path, status, time
                       (never a header, a key or a signature)
  -q, --quiet          no progress and no per-object lines; errors only (also --only-show-errors)
  --no-progress        per-object lines, but no progress line
  --json               one JSON line per finished object on stdout, for scripts
  -h, --help           show this help`;

/** Flags of the commands that list a prefix. */
export const LIST_FLAGS = { 'page-size': { type: 'string' } } as const satisfies Options;

export const LIST_HELP = `  --page-size N        keys per listing request, 1 to 1000 (default 1000)`;

/** The listing options --page-size gives. */
export function listingOptions(values: Parsed['values']): { maxKeys?: number } {
  const text = values['page-size'] as string | undefined;
  if (text === undefined) return {};
  const maxKeys = Number(text);
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1 || maxKeys > 1000) throw new UsageError(`--page-size must be a whole number from 1 to 1000, got "${text}"`);
  return { maxKeys };
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** The flags in the order typed, which --exclude and --include depend on. */
  tokens: Array<{ kind: string; name?: string; value?: string | undefined }>;
}

export function parse(args: string[], options: Options, positionals = false): Parsed {
  const spelled = args.map((arg) => {
    const own = AWS_SPELLINGS[arg];
    return own !== undefined && own.slice(2) in options ? own : arg;
  });
  try {
    return parseArgs({
      args: spelled,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: positionals,
      strict: true,
      tokens: true,
    }) as Parsed;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  tib: 1024 ** 4,
};

/** `16MiB`, `1.5GiB`, `500MB`, `8388608`: a size in bytes. */
export function parseSize(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit ? Math.round(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsageError(`${flag} must be a size such as 16MiB or 1GiB, got "${text}"`);
  return bytes;
}

export function parseChecksum(text: string): S3ChecksumAlgorithm {
  const name = text.toUpperCase().replace(/-/g, '');
  const algorithm = (S3ChecksumAlgorithm as unknown as Record<string, number | undefined>)[name];
  if (algorithm === undefined || typeof algorithm !== 'number') {
    throw new UsageError(`--checksum must be one of CRC32C, CRC32, CRC64NVME, SHA1, SHA256, got "${text}"`);
  }
  return algorithm as S3ChecksumAlgorithm;
}

export type ClientFlags = { [K in keyof typeof CLIENT_FLAGS]?: (typeof CLIENT_FLAGS)[K]['type'] extends 'string' ? string : boolean };

/** A timeout flag in seconds (either spelling) as milliseconds; 0 or less is refused, not taken as "no timeout". */
function timeoutMs(flags: ClientFlags, name: 'connect-timeout' | 'read-timeout'): number | undefined {
  const own = flags[name];
  const aws = flags[`cli-${name}`];
  if (own !== undefined && aws !== undefined) throw new UsageError(`give one of --${name} and --cli-${name}`);
  const text = own ?? aws;
  if (text === undefined) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(text.trim()) ? Math.round(Number(text) * 1000) : NaN;
  if (!(ms >= 1)) throw new UsageError(`--${own !== undefined ? '' : 'cli-'}${name} must be a number of seconds above 0, got "${text}"`);
  return ms;
}

/** --debug: a request as one line on stderr, which its status and time follow. */
function debugLine(metrics: RequestMetrics): void {
  const { operationName, method, origin, path, statusCode, durationMs, attempt, errorCode } = metrics;
  const outcome = `${statusCode || 'no answer'}${errorCode ? ` ${errorCode}` : ''}`;
  const retry = attempt > 0 ? ` (retry ${attempt})` : '';
  process.stderr.write(`s3tx debug: ${operationName || 'request'} ${method} ${origin}${path} -> ${outcome} in ${durationMs.toFixed(1)} ms${retry}\n`);
}

/** The client the flags describe; everything not given comes from the environment, as the AWS CLI does. */
export function clientFrom(flags: ClientFlags): S3Client {
  const options: FromEnvironmentOptions = {};
  if (flags['endpoint-url'] !== undefined) options.endpoint = flags['endpoint-url'];
  if (flags.region !== undefined) options.region = flags.region;
  // Named by --profile or AWS_PROFILE, a profile must exist, as the AWS CLI requires: fromEnvironment checks a named one.
  const profile = flags.profile ?? (process.env.AWS_PROFILE || undefined);
  if (profile !== undefined) options.profile = profile;
  if (flags['part-size'] !== undefined) options.partSize = parseSize('--part-size', flags['part-size']);
  if (flags['memory-limit'] !== undefined) options.memoryLimit = parseSize('--memory-limit', flags['memory-limit']);
  if (flags['target-gbps'] !== undefined) {
    const gbps = Number(flags['target-gbps']);
    if (!Number.isFinite(gbps) || gbps <= 0) throw new UsageError(`--target-gbps must be a positive number, got "${flags['target-gbps']}"`);
    options.throughputTargetGbps = gbps;
  }
  if (flags['no-verify-ssl']) {
    process.stderr.write(
      's3tx: WARNING: --no-verify-ssl: the server certificate is NOT verified; anyone on the network path can read and change this transfer\n',
    );
    options.tlsConnectionOptions = { verifyPeer: false };
  }
  if (flags['ca-bundle'] !== undefined) options.caBundle = flags['ca-bundle'];
  const connectTimeoutMs = timeoutMs(flags, 'connect-timeout');
  if (connectTimeoutMs !== undefined) options.connectTimeoutMs = connectTimeoutMs;
  const stallTimeoutMs = timeoutMs(flags, 'read-timeout');
  if (stallTimeoutMs !== undefined) options.stallTimeoutMs = stallTimeoutMs;
  const style = flags['addressing-style'];
  if (style !== undefined && style !== 'path' && style !== 'virtual' && style !== 'auto') {
    throw new UsageError(`--addressing-style must be path, virtual or auto, got "${style}"`);
  }
  if (flags['force-path-style'] && style !== undefined && style !== 'path') {
    throw new UsageError(`--force-path-style contradicts --addressing-style ${style}`);
  }
  if (flags['no-sign-request']) options.anonymous = true;
  if (flags.debug) options.onRequestMetrics = debugLine;
  if (flags['force-path-style']) options.forcePathStyle = true;
  else if (style !== undefined) options.addressingStyle = style;
  try {
    return S3Client.fromEnvironment(options);
  } catch (error) {
    // A setting that cannot work (an unreadable CA bundle, a bad profile value) is bad usage, said in one line.
    if (error instanceof InvalidArgumentError) throw new SetupError(error.message);
    throw error;
  }
}
