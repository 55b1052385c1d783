/** Command-line parsing shared by the commands: flags, sizes, and the client the flags describe. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { S3ChecksumAlgorithm, S3Client, type S3ClientOptions } from '../index.js';

/** Bad usage: exit code 2, with the command's help. */
export class UsageError extends Error {}

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
  quiet: { type: 'boolean', short: 'q' },
  json: { type: 'boolean' },
} as const satisfies Options;

export const CLIENT_HELP = `Client options:
  --endpoint-url URL   S3 endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile, or AWS)
  --region REGION      region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, or us-east-1)
  --profile NAME       profile of ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE or default)
  --part-size SIZE     bytes per part, such as 16MiB (default 8MiB)
  --target-gbps N      throughput to aim for, in Gbit/s; sets the number of connections (default 10)
  --memory-limit SIZE  bytes of part buffers at once, such as 1GiB (default: a quarter of memory, at most 2GiB)
  --no-verify-ssl      do not verify the server's TLS certificate (unsafe: for test servers only)
  -q, --quiet          no progress and no per-object lines; errors only
  --json               one JSON line per finished object on stdout, for scripts
  -h, --help           show this help`;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(args: string[], options: Options, positionals = false): Parsed {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: positionals, strict: true }) as Parsed;
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

/** The client the flags describe; everything not given comes from the environment, as the AWS CLI does. */
export function clientFrom(flags: ClientFlags): S3Client {
  const options: Partial<S3ClientOptions> & { profile?: string } = {};
  if (flags['endpoint-url'] !== undefined) options.endpoint = flags['endpoint-url'];
  if (flags.region !== undefined) options.region = flags.region;
  if (flags.profile !== undefined) options.profile = flags.profile;
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
  return S3Client.fromEnvironment(options);
}
