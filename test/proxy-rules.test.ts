/**
 * The proxy rules (src/http/proxy-rules.ts) against proxy-from-env as an oracle on every case
 * where the two mean the same, and the cases where s3tx follows curl and the AWS CLI instead,
 * by name.
 */
import { getProxyForUrl } from 'proxy-from-env';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ProxyError } from '../src/core/errors.js';
import { ProxyEndpoint, isProxyAnswer, redactCredentials } from '../src/http/proxy.js';
import { bypassesProxy, parseNoProxy, proxiesFromEnvironment, proxyFor } from '../src/http/proxy-rules.js';
import { isRetryable } from '../src/meta-request/retry.js';

const PROXY = 'http://proxy.test:3128';
const saved = { ...process.env };

afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});

/** What s3tx picks for `url` under these variables. */
function ours(env: NodeJS.ProcessEnv, url: string): string {
  return proxyFor(proxiesFromEnvironment(env), new URL(url))?.url ?? '';
}

/** What proxy-from-env picks, reading process.env as it does. */
function oracle(env: NodeJS.ProcessEnv, url: string): string {
  for (const name of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY', 'all_proxy', 'ALL_PROXY']) delete process.env[name];
  Object.assign(process.env, env);
  return getProxyForUrl(url);
}

describe('proxy rules', () => {
  const agreed: Array<[string, string]> = [
    ['', 'https://s3.us-east-1.amazonaws.com/'],
    ['*', 'https://s3.us-east-1.amazonaws.com/'],
    ['.amazonaws.com', 'https://s3.us-east-1.amazonaws.com/'],
    ['*.amazonaws.com', 'https://bucket.s3.amazonaws.com/'],
    ['s3.us-east-1.amazonaws.com', 'https://s3.us-east-1.amazonaws.com/'],
    ['other.test', 'https://s3.us-east-1.amazonaws.com/'],
    ['127.0.0.1', 'http://127.0.0.1:9000/'],
    ['127.0.0.2', 'http://127.0.0.1:9000/'],
    ['127.0.0.1:9000', 'http://127.0.0.1:9000/'],
    ['127.0.0.1:9001', 'http://127.0.0.1:9000/'],
    ['minio.local:9000', 'http://minio.local:9000/'],
    ['minio.local:443', 'https://minio.local/'],
    ['a.test, minio.local b.test', 'http://minio.local:9000/'],
    ['  MINIO.LOCAL ', 'http://minio.local:9000/'],
    ['[::1]:9000', 'http://[::1]:9000/'],
    ['[::1]:9001', 'http://[::1]:9000/'],
  ];

  it.each(agreed)('NO_PROXY=%j for %s: as proxy-from-env', (noProxy, url) => {
    const env = { HTTPS_PROXY: PROXY, HTTP_PROXY: PROXY, NO_PROXY: noProxy };
    expect(ours(env, url)).toBe(oracle(env, url));
  });

  it('a name excludes the names under it, and a leading dot the name itself, as curl and Python (the AWS CLI) do; proxy-from-env does neither', () => {
    const env = { HTTPS_PROXY: PROXY, NO_PROXY: 'amazonaws.com' };
    expect(ours(env, 'https://s3.us-east-1.amazonaws.com/')).toBe('');
    expect(oracle(env, 'https://s3.us-east-1.amazonaws.com/')).toBe(PROXY);
    const dotted = { HTTPS_PROXY: PROXY, NO_PROXY: '.corp.internal' };
    expect(ours(dotted, 'https://corp.internal/')).toBe('');
    expect(oracle(dotted, 'https://corp.internal/')).toBe(PROXY);
    // Not a suffix of labels: s3.notamazonaws.com is another name.
    expect(ours(env, 'https://s3.notamazonaws.com/')).toBe(PROXY);
  });

  it('takes CIDR ranges and IPv6 addresses, as curl does', () => {
    const rules = parseNoProxy('10.0.0.0/8, fd00::/8, ::1');
    expect(bypassesProxy(rules, '10.20.30.40', 443)).toBe(true);
    expect(bypassesProxy(rules, '11.0.0.1', 443)).toBe(false);
    expect(bypassesProxy(rules, '[fd12::3]', 443)).toBe(true);
    expect(bypassesProxy(rules, '[::1]', 9000)).toBe(true);
    expect(bypassesProxy(rules, '[::2]', 9000)).toBe(false);
    // A name is never matched by an address rule.
    expect(bypassesProxy(rules, '10.example', 443)).toBe(false);
    expect(bypassesProxy(parseNoProxy(['a.test', 'b.test:8080']), 'x.b.test', 8080)).toBe(true);
  });

  it('reads the lower-case variable first, then the upper-case one; ALL_PROXY serves either scheme; an empty one is unset', () => {
    expect(proxiesFromEnvironment({ https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:2' }).https).toEqual({ url: 'http://low:1', variable: 'https_proxy' });
    expect(proxiesFromEnvironment({ HTTPS_PROXY: 'http://up:2' }).https).toEqual({ url: 'http://up:2', variable: 'HTTPS_PROXY' });
    expect(proxiesFromEnvironment({ ALL_PROXY: 'http://all:3', HTTP_PROXY: 'http://plain:4' })).toMatchObject({
      http: { url: 'http://plain:4' },
      https: { url: 'http://all:3', variable: 'ALL_PROXY' },
    });
    expect(proxiesFromEnvironment({ https_proxy: '', HTTPS_PROXY: 'http://up:2' }).https?.variable).toBe('HTTPS_PROXY');
    expect(proxiesFromEnvironment({})).toMatchObject({ http: null, https: null });
    // An https endpoint uses HTTPS_PROXY only, an http one HTTP_PROXY only.
    expect(ours({ HTTP_PROXY: PROXY }, 'https://s3.amazonaws.com/')).toBe('');
    expect(ours({ HTTPS_PROXY: PROXY }, 'http://127.0.0.1:9000/')).toBe('');
  });
});

describe('proxy URLs and answers', () => {
  it('a URL that does not parse is named without anything before its last @; bad percent-encoding is an InvalidArgumentError', () => {
    for (const url of ['user:hunter2@proxy.corp:99999', 'http://user:pa/ss@proxy.corp:3128']) {
      expect(() => new ProxyEndpoint(url, 'HTTPS_PROXY')).toThrow(InvalidArgumentError);
      try {
        new ProxyEndpoint(url, 'HTTPS_PROXY');
      } catch (error) {
        expect((error as Error).message).not.toMatch(/hunter2|pa\/ss/);
        expect((error as Error).message).toContain('***@proxy.corp');
      }
    }
    expect(() => new ProxyEndpoint('http://user:100%@proxy.corp:3128', 'proxy.url')).toThrow(/not valid percent-encoding \(proxy http:\/\/proxy.corp:3128\)/);
    expect(redactCredentials('no-credentials:3128')).toBe('no-credentials:3128');
  });

  it("tells a proxy's own refusals from a server's answers, and retries only a busy or timed-out proxy", () => {
    expect(isProxyAnswer(407, { 'x-amz-request-id': 'X' })).toBe(true);
    expect(isProxyAnswer(503, { 'content-type': 'text/html' })).toBe(true);
    expect(isProxyAnswer(503, { 'content-type': 'application/xml' })).toBe(false);
    expect(isProxyAnswer(403, { 'x-amz-request-id': 'X', 'content-type': 'text/html' })).toBe(false);
    expect(isProxyAnswer(404, {})).toBe(false);
    expect(isProxyAnswer(400, { 'content-type': 'text/html' })).toBe(false);
    expect([401, 403, 407, 500, 502, 503, 504].map((status) => isRetryable(new ProxyError('http://p:1', status, '')))).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      true,
    ]);
  });

  it('an empty CIDR prefix is no range; a bracketed IPv6 range is one', () => {
    expect(bypassesProxy(parseNoProxy('10.0.0.0/'), '192.168.1.1', 80)).toBe(false);
    expect(bypassesProxy(parseNoProxy('[fd00::]/8'), '[fd12::1]', 80)).toBe(true);
    expect(bypassesProxy(parseNoProxy('[fd00::]/8:9000'), '[fd12::1]', 9000)).toBe(true);
    expect(bypassesProxy(parseNoProxy('[fd00::]/8:9000'), '[fd12::1]', 80)).toBe(false);
  });
});
