/**
 * Which EC2 instance type this is. DMI first: on Nitro instances the firmware
 * names the vendor ("Amazon EC2") and the instance type, with no network call.
 * IMDSv2 only when DMI cannot tell (no DMI files, or an EC2 vendor without a
 * product name), within one second in total, so that off EC2 the answer is a
 * quick null. A DMI vendor other than Amazon EC2 means "not EC2" at once.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';

export const DEFAULT_DMI_ROOTS = ['/sys/class/dmi/id', '/sys/devices/virtual/dmi/id'];
export const DEFAULT_IMDS_ENDPOINT = 'http://169.254.169.254';
const IMDS_TIMEOUT_MS = 1000;

export interface DmiInfo {
  vendor: string | null;
  productName: string | null;
}

export interface InstanceTypeSources {
  /** Folders holding `sys_vendor` and `product_name`, tried in order. */
  dmiRoots: readonly string[];
  /** Base URL of the instance metadata service. */
  imdsEndpoint: string;
  /** `AWS_EC2_METADATA_DISABLED`: never call IMDS. */
  imdsDisabled: boolean;
  timeoutMs?: number;
}

function readTrimmed(path: string): string | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return text === '' ? null : text;
  } catch {
    return null;
  }
}

/** The DMI vendor and product name from the first root that has a vendor. */
export function readDmi(roots: readonly string[]): DmiInfo {
  for (const root of roots) {
    const vendor = readTrimmed(`${root}/sys_vendor`);
    if (vendor !== null) return { vendor, productName: readTrimmed(`${root}/product_name`) };
  }
  return { vendor: null, productName: null };
}

/**
 * What DMI says: an instance type, `'not-ec2'`, or `'ask-imds'` when it cannot tell.
 * Pure, so the rules are tested on made-up DMI.
 */
export function instanceTypeFromDmi(dmi: DmiInfo): string | 'not-ec2' | 'ask-imds' {
  if (dmi.vendor === null) return 'ask-imds';
  if (dmi.vendor.toLowerCase() !== 'amazon ec2') return 'not-ec2';
  return dmi.productName ?? 'ask-imds';
}

/** The sources named by the environment, as the AWS SDKs read them. */
export function sourcesFromEnvironment(env: NodeJS.ProcessEnv = process.env): InstanceTypeSources {
  return {
    dmiRoots: DEFAULT_DMI_ROOTS,
    imdsEndpoint: env.AWS_EC2_METADATA_SERVICE_ENDPOINT || DEFAULT_IMDS_ENDPOINT,
    imdsDisabled: (env.AWS_EC2_METADATA_DISABLED ?? '').toLowerCase() === 'true',
  };
}

/** One IMDS exchange; resolves with the status and body, rejects on a network error or when `signal` fires. */
function imdsCall(url: URL, method: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const call = request(url, { method, headers, signal, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    call.on('error', reject);
    call.end();
  });
}

/** IMDSv2: a session token, then the instance type with it. Null on any failure or after the deadline. */
export async function instanceTypeFromImds(endpoint: string, timeoutMs = IMDS_TIMEOUT_MS): Promise<string | null> {
  let base: URL;
  try {
    base = new URL(endpoint);
  } catch {
    return null;
  }
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const token = await imdsCall(new URL('/latest/api/token', base), 'PUT', { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' }, controller.signal);
    if (token.status !== 200 || token.body === '') return null;
    const type = await imdsCall(new URL('/latest/meta-data/instance-type', base), 'GET', { 'x-aws-ec2-metadata-token': token.body }, controller.signal);
    return type.status === 200 && type.body.trim() !== '' ? type.body.trim() : null;
  } catch {
    return null;
  } finally {
    clearTimeout(deadline);
  }
}

/** The instance type from the given sources, uncached. */
export async function detectInstanceType(sources: InstanceTypeSources): Promise<string | null> {
  const fromDmi = instanceTypeFromDmi(readDmi(sources.dmiRoots));
  if (fromDmi === 'not-ec2') return null;
  if (fromDmi !== 'ask-imds') return fromDmi;
  return sources.imdsDisabled ? null : instanceTypeFromImds(sources.imdsEndpoint, sources.timeoutMs);
}

let cached: Promise<string | null> | undefined;
let settled: { value: string | null } | undefined;

/**
 * The EC2 instance type this process runs on, or null. DMI first, then IMDSv2 with a
 * one-second deadline; honours `AWS_EC2_METADATA_DISABLED` and
 * `AWS_EC2_METADATA_SERVICE_ENDPOINT`. The answer is cached for the process.
 */
export function getEc2InstanceType(): Promise<string | null> {
  cached ??= detectInstanceType(sourcesFromEnvironment()).then((value) => {
    settled = { value };
    return value;
  });
  return cached;
}

/**
 * The instance type without waiting or touching the network: the cached answer when
 * getEc2InstanceType() has settled, else what DMI alone says. Used when a client is created.
 */
export function instanceTypeNow(dmiRoots: readonly string[] = DEFAULT_DMI_ROOTS): string | null {
  if (settled) return settled.value;
  const fromDmi = instanceTypeFromDmi(readDmi(dmiRoots));
  return fromDmi === 'not-ec2' || fromDmi === 'ask-imds' ? null : fromDmi;
}
