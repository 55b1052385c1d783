/**
 * The client's `proxy` option and the environment's proxy variables, checked and parsed once, at
 * client creation: a bad proxy URL is an InvalidArgumentError naming where it came from, before
 * any request.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { ProxyEndpoint } from '../http/proxy.js';
import { parseNoProxy, proxiesFromEnvironment, type ProxyChoice } from '../http/proxy-rules.js';

/** A proxy for every request of a client. */
export interface ProxyOptions {
  /** `http://[user:password@]host:port`; the credentials become `Proxy-Authorization: Basic`. */
  url: string;
  /** Hosts reached directly, as `NO_PROXY` lists them: `*`, names (and the names under them), IP addresses and ranges, each with an optional `:port`. */
  noProxy?: string | readonly string[];
}

/**
 * The proxies of a client: those of `option` when given, none when it is `false`, else those of
 * `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` in `env` (either case).
 */
export function resolveProxy(option: ProxyOptions | false | undefined, env: NodeJS.ProcessEnv): ProxyChoice<ProxyEndpoint> | null {
  if (option === false) return null;
  if (option === undefined) {
    const found = proxiesFromEnvironment(env);
    if (!found.http && !found.https) return null;
    const endpoint = (proxy: typeof found.http) => (proxy ? new ProxyEndpoint(proxy.url, proxy.variable) : null);
    return { http: endpoint(found.http), https: endpoint(found.https), noProxy: found.noProxy };
  }
  if (option === null || typeof option !== 'object' || typeof option.url !== 'string') {
    throw new InvalidArgumentError('proxy', 'must be { url, noProxy? } with an http:// URL, or false to ignore HTTPS_PROXY and HTTP_PROXY');
  }
  const { noProxy = [] } = option;
  if (typeof noProxy !== 'string' && !(Array.isArray(noProxy) && noProxy.every((entry) => typeof entry === 'string'))) {
    throw new InvalidArgumentError('proxy.noProxy', 'must be a NO_PROXY list: a string or an array of strings');
  }
  const proxy = new ProxyEndpoint(option.url, 'proxy.url');
  return { http: proxy, https: proxy, noProxy: parseNoProxy(noProxy) };
}
