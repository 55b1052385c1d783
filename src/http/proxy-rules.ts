/**
 * Which proxy a request goes through: the `*_PROXY` and `NO_PROXY` environment variables as curl
 * and the AWS CLI read them, and the same exclusion rules for a proxy given as an option. Pure
 * functions over strings; connecting through the proxy is proxy.ts's.
 *
 * Our own rather than proxy-from-env's: that library matches `NO_PROXY=example.com` against
 * example.com alone, where curl, Go and Python's urllib (the AWS CLI's) also exclude every name
 * under it, so a user who sets `NO_PROXY=corp.internal` for the AWS CLI would find s3tx sending
 * `s3.corp.internal` through the proxy. test/proxy-rules.test.ts checks these rules against
 * proxy-from-env on every case where the two agree, and the differences by name.
 */
import { BlockList, isIP } from 'node:net';
import { bareHostname } from './hosts.js';

/** An exclusion: every host, a name and the names under it, an address, or an address range; each with an optional port. */
type NoProxyRule = { kind: 'all' } | { kind: 'domain'; name: string; port: number } | { kind: 'address'; block: BlockList; port: number };

/** The parsed `NO_PROXY` list. */
export type NoProxyRules = readonly NoProxyRule[];

/** The proxies of a client (URLs, or what they were parsed into), by the scheme of the endpoint they carry, and the hosts that go direct. */
export interface ProxyChoice<Proxy = string> {
  http: Proxy | null;
  https: Proxy | null;
  noProxy: NoProxyRules;
}

/**
 * Parses a `NO_PROXY` list: entries separated by commas or white space, each `*` (no proxy at
 * all), a host name (that name and those under it; a leading `.` or `*.` means the same), an IP
 * address or a CIDR range (`10.0.0.0/8`, `fd00::/8`), optionally followed by `:port`
 * (`[::1]:9000` for an IPv6 address with a port).
 */
export function parseNoProxy(list: string | readonly string[]): NoProxyRules {
  const entries = typeof list === 'string' ? list.split(/[\s,]+/) : list.flatMap((entry) => entry.split(/[\s,]+/));
  const rules: NoProxyRule[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return [{ kind: 'all' }];
    const { host, port } = splitPort(entry);
    const address = addressRule(host, port);
    if (address) rules.push(address);
    else rules.push({ kind: 'domain', name: host.replace(/^\*?\.+/, '').replace(/\.$/, ''), port });
  }
  return rules;
}

/** `host:port`, `[v6]:port`, or a bare host (port 0: any). A bare IPv6 address has colons but no port. */
function splitPort(entry: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](\/\d+)?(?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]! + (bracketed[2] ?? ''), port: Number(bracketed[3] ?? 0) };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  if (withPort) return { host: withPort[1]!, port: Number(withPort[2]) };
  return { host: entry, port: 0 };
}

function addressRule(host: string, port: number): NoProxyRule | null {
  const [address = '', bits] = host.split('/', 2);
  const family = isIP(address);
  if (family === 0) return null;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const prefix = bits === undefined ? (family === 4 ? 32 : 128) : /^\d+$/.test(bits) ? Number(bits) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) return null;
  const block = new BlockList();
  block.addSubnet(address, prefix, type);
  return { kind: 'address', block, port };
}

/** Whether a request to `hostname` (as a URL gives it) on `port` goes direct under `rules`. */
export function bypassesProxy(rules: NoProxyRules, hostname: string, port: number): boolean {
  const host = bareHostname(hostname).toLowerCase().replace(/\.$/, '');
  const family = isIP(host);
  return rules.some((rule) => {
    if (rule.kind === 'all') return true;
    if (rule.port !== 0 && rule.port !== port) return false;
    if (rule.kind === 'address') return family !== 0 && rule.block.check(host, family === 4 ? 'ipv4' : 'ipv6');
    return host === rule.name || host.endsWith(`.${rule.name}`);
  });
}

/** A proxy URL as the environment gives it, and the variable it came from, for messages. */
export interface ProxyVariable {
  url: string;
  variable: string;
}

/** Reads a variable as curl does: the lower-case name first, then the upper-case one; empty is unset. */
function readVariable(env: NodeJS.ProcessEnv, name: string): ProxyVariable | null {
  for (const variable of [name, name.toUpperCase()]) {
    const url = env[variable]?.trim();
    if (url) return { url, variable };
  }
  return null;
}

/** The proxies the environment names: `HTTPS_PROXY` for https endpoints, `HTTP_PROXY` for http, `ALL_PROXY` for either, and `NO_PROXY`. */
export function proxiesFromEnvironment(env: NodeJS.ProcessEnv): ProxyChoice<ProxyVariable> {
  const all = readVariable(env, 'all_proxy');
  return {
    http: readVariable(env, 'http_proxy') ?? all,
    https: readVariable(env, 'https_proxy') ?? all,
    noProxy: parseNoProxy(readVariable(env, 'no_proxy')?.url ?? ''),
  };
}

/** The proxy for a request to `origin` (`https://host:port`), or null to go direct. */
export function proxyFor<Proxy>(choice: ProxyChoice<Proxy>, origin: URL): Proxy | null {
  const https = origin.protocol === 'https:';
  const proxy = https ? choice.https : choice.http;
  if (!proxy) return null;
  const port = Number(origin.port) || (https ? 443 : 80);
  return bypassesProxy(choice.noProxy, origin.hostname, port) ? null : proxy;
}
