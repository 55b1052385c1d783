/**
 * Where an object lives on the wire: the endpoint and addressing style resolved
 * as the AWS SDKs do (arguments, then `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`,
 * then the profile), and the Host and path of a bucket and key.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../core/errors.js';
import { encodeRfc3986 } from '../auth/sigv4.js';

/** How requests reach S3 for one client. */
export interface EndpointConfig {
  /** `https://s3.<region>.amazonaws.com` unless an endpoint was configured. */
  endpoint: URL;
  region: string;
  /**
   * `/bucket/key` on the endpoint's host rather than `bucket.host/key`: as configured, else
   * (addressing style `auto`) true for every host that is not AWS's, as botocore does, since a
   * custom endpoint's name rarely has a wildcard DNS record and certificate for its buckets.
   */
  forcePathStyle: boolean;
}

/** The profile's `s3 = addressing_style` values, as botocore names them. */
export type AddressingStyle = 'path' | 'virtual' | 'auto';

const ADDRESSING_STYLES: readonly string[] = ['path', 'virtual', 'auto'];

/** Checks an addressing style; `option` names where it came from in the error. */
export function checkAddressingStyle(option: string, value: unknown): AddressingStyle {
  if (typeof value !== 'string' || !ADDRESSING_STYLES.includes(value)) {
    throw new InvalidArgumentError(option, `must be path, virtual or auto, got ${JSON.stringify(value)}`);
  }
  return value as AddressingStyle;
}

/** AWS's own S3 host names (`s3.<region>.amazonaws.com`, `bucket.s3...`, China's `.amazonaws.com.cn`). */
export function isAwsHost(hostname: string): boolean {
  return /\.amazonaws\.com(\.cn)?\.?$/i.test(hostname);
}

/** The settings of one profile in the shared config file, with the `s3` sub-section flattened as `s3.<name>`. */
export type ProfileSettings = Record<string, string>;

/** Parses the shared config file's text: `[default]`, `[profile name]` sections, and indented sub-settings. */
export function parseConfigFile(text: string): Map<string, ProfileSettings> {
  const profiles = new Map<string, ProfileSettings>();
  let current: ProfileSettings | null = null;
  let parent: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+[#;].*$/, '');
    if (/^\s*([#;].*)?$/.test(line)) continue;
    const section = /^\s*\[\s*(?:profile\s+)?([^\]]+?)\s*\]\s*$/.exec(line);
    if (section) {
      const name = section[1]!;
      // `[profile default]` and `[default]` are the same profile; other section kinds (sso-session, services) are not profiles.
      const isProfile = /^\s*\[\s*profile\s+/.test(line) || name === 'default';
      current = isProfile ? (profiles.get(name) ?? {}) : null;
      if (current) profiles.set(name, current);
      parent = null;
      continue;
    }
    const setting = /^(\s*)([^=\s]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!setting || !current) continue;
    const [, indent, key, value] = setting as unknown as [string, string, string, string];
    if (indent && parent) current[`${parent}.${key}`] = value;
    else if (value === '') parent = key;
    else {
      parent = null;
      current[key] = value;
    }
  }
  return profiles;
}

/** The profile a name (or none) means: the name, else `AWS_PROFILE`, else `default`. */
export function resolveProfileName(name?: string): string {
  return name || process.env.AWS_PROFILE || 'default';
}

/** The named profile (`AWS_PROFILE`, else `default`) from `AWS_CONFIG_FILE` or `~/.aws/config`; empty when there is none. */
export function readProfile(name = resolveProfileName()): ProfileSettings {
  const path = sharedFiles().config;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  return parseConfigFile(text).get(name) ?? {};
}

/** The shared files a profile may live in: `AWS_CONFIG_FILE` (`[profile name]`) and `AWS_SHARED_CREDENTIALS_FILE` (`[name]`). */
function sharedFiles(): { config: string; credentials: string } {
  return {
    config: process.env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config'),
    credentials: process.env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials'),
  };
}

/**
 * Throws InvalidArgumentError naming the profile when `name` (a flag, else `AWS_PROFILE`) is in
 * neither shared file, as the AWS CLI refuses it ("The config profile (name) could not be found");
 * `default` may be absent. Without this, the credential chain's own error names no profile.
 */
export function requireProfile(name = resolveProfileName()): void {
  if (name === 'default') return;
  const files = sharedFiles();
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  if (parseConfigFile(read(files.config)).has(name)) return;
  if (new RegExp(`^\\s*\\[\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\]\\s*$`, 'm').test(read(files.credentials))) return;
  throw new InvalidArgumentError('profile', `the config profile (${name}) could not be found in ${files.config} or ${files.credentials}`);
}

/** What an S3 client is configured with, as far as the endpoint goes. */
export interface EndpointSources {
  region?: string;
  endpoint?: string;
  /** An explicit choice: wins over `addressingStyle` and the profile. */
  forcePathStyle?: boolean;
  /** Wins over the profile's `s3 = addressing_style`. */
  addressingStyle?: AddressingStyle;
  env?: Record<string, string | undefined>;
  profile?: ProfileSettings;
}

/**
 * Region, endpoint and addressing style, first found wins: arguments, environment, profile, defaults.
 * Addressing: `forcePathStyle`, else `addressingStyle`, else the profile's `s3.addressing_style`, else
 * `auto`, which is virtual-hosted for AWS's hosts and path style for any other endpoint.
 */
export function resolveEndpointConfig(sources: EndpointSources, tls = true): EndpointConfig {
  const env = sources.env ?? {};
  const profile = sources.profile ?? {};
  const region = sources.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || profile.region || 'us-east-1');
  const ignoreConfigured = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true' || profile.ignore_configured_endpoint_urls === 'true';
  const configured = ignoreConfigured
    ? undefined
    : env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || profile['s3.endpoint_url'] || profile.endpoint_url || undefined;
  const text = sources.endpoint ?? configured ?? `${tls ? 'https' : 'http'}://s3.${region}.amazonaws.com`;
  let endpoint: URL;
  try {
    endpoint = new URL(text);
  } catch {
    throw new InvalidArgumentError('endpoint', `must be a URL such as https://s3.us-west-2.amazonaws.com, got ${JSON.stringify(text)}`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw new InvalidArgumentError('endpoint', `must be http or https, got ${JSON.stringify(endpoint.protocol)}`);
  }
  const style =
    sources.addressingStyle !== undefined
      ? checkAddressingStyle('addressingStyle', sources.addressingStyle)
      : profile['s3.addressing_style'] !== undefined
        ? checkAddressingStyle('s3.addressing_style', profile['s3.addressing_style'])
        : 'auto';
  const forcePathStyle = sources.forcePathStyle ?? (style === 'auto' ? !isAwsHost(endpoint.hostname) : style === 'path');
  return { endpoint, region, forcePathStyle };
}

const IP_HOST = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\])$/i;

/** Bucket names that can be the first label of a host name. */
function dnsCompatible(bucket: string, tls: boolean): boolean {
  return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket) || (!tls && /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) && !bucket.includes('..'));
}

/** A key as a URI path: each segment percent-encoded, slashes kept. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeRfc3986).join('/');
}

/** A directory bucket's name (`base--zone-id--x-s3`) and the Availability Zone it names, or null for a general purpose bucket. */
export function directoryBucketZone(bucket: string): string | null {
  return /^[a-z0-9][a-z0-9.-]*--([a-z0-9]+-[a-z0-9-]+)--x-s3$/.exec(bucket)?.[1] ?? null;
}

/**
 * Host and path of a bucket (and key). Virtual-hosted unless the config says path style; path style also
 * for IP addresses and localhost, and for bucket names that cannot be a host label
 * (with dots under TLS, where the wildcard certificate would not match).
 */
export function objectLocation(config: EndpointConfig, bucket: string, key?: string): { host: string; path: string } {
  const { endpoint } = config;
  const tls = endpoint.protocol === 'https:';
  const prefix = endpoint.pathname.replace(/\/+$/, '');
  const keyPath = key === undefined ? '' : encodeKey(key);
  // A directory bucket on AWS's regional endpoint lives on its zone's endpoint, virtual-hosted, as the SDKs address it.
  const zone = directoryBucketZone(bucket);
  if (zone && endpoint.host === `s3.${config.region}.amazonaws.com`) {
    return { host: `${bucket}.s3express-${zone}.${config.region}.amazonaws.com`, path: `/${keyPath}` };
  }
  const pathStyle = config.forcePathStyle || IP_HOST.test(endpoint.hostname) || endpoint.hostname === 'localhost' || !dnsCompatible(bucket, tls);
  if (pathStyle) return { host: endpoint.host, path: `${prefix}/${bucket}${key === undefined ? '' : `/${keyPath}`}` };
  return { host: `${bucket}.${endpoint.host}`, path: `${prefix}/${keyPath}` };
}

/** `s3://bucket/key/prefix` split into bucket and key (the key may be empty). Null when the text is not an S3 URL. */
export function parseS3Url(text: string): { bucket: string; key: string } | null {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/s.exec(text);
  return match ? { bucket: match[1]!, key: match[2]! } : null;
}
