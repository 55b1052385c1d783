declare module 'proxy-from-env' {
  /** The proxy URL for `url` under the process's *_PROXY and NO_PROXY variables, or '' for none. */
  export function getProxyForUrl(url: string | URL): string;
}
