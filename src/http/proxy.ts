/**
 * An HTTP proxy and the two ways through it: a CONNECT tunnel for an https endpoint (TLS to the
 * endpoint runs inside it, verified against the endpoint's name), and absolute-form requests for
 * an http endpoint. Credentials in the proxy's URL become `Proxy-Authorization: Basic`, kept in a
 * private field so that no error, log or inspected object shows them.
 */
import { STATUS_CODES } from 'node:http';
import type net from 'node:net';
import { InvalidArgumentError, ProxyError } from '../core/errors.js';
import { bareHostname } from './hosts.js';
import { HEAD_END, parseResponseHead } from './h1-parser.js';

/** A CONNECT answer's head may have this many bytes, as any response head here. */
const MAX_CONNECT_HEAD = 64 * 1024;

/** A proxy to send requests through. */
export class ProxyEndpoint {
  /** The host to connect to, without brackets. */
  readonly hostname: string;
  readonly port: number;
  /** `http://host:port`, for messages: never the credentials. */
  readonly display: string;
  readonly #authorization: string | null;

  /** `source` says where the URL came from (`HTTPS_PROXY`, `proxy.url`), for the error a bad one gets. */
  constructor(url: string, source: string) {
    let parsed: URL;
    try {
      parsed = new URL(url.includes('://') ? url : `http://${url}`);
    } catch {
      throw new InvalidArgumentError(source, `is not a proxy URL: ${redactCredentials(url)}`);
    }
    if (parsed.protocol !== 'http:') {
      throw new InvalidArgumentError(source, `names a ${parsed.protocol}// proxy (${parsed.host}); s3tx reaches proxies over plain http://`);
    }
    if (!parsed.hostname) throw new InvalidArgumentError(source, `is not a proxy URL: ${redactCredentials(url)}`);
    this.hostname = bareHostname(parsed.hostname);
    this.port = Number(parsed.port) || 80;
    this.display = `http://${parsed.host}`;
    try {
      this.#authorization = parsed.username || parsed.password ? basicAuthorization(parsed.username, parsed.password) : null;
    } catch {
      throw new InvalidArgumentError(source, `has credentials that are not valid percent-encoding (proxy ${this.display})`);
    }
  }

  /** The `Proxy-Authorization` value, or null when the URL has no credentials. */
  authorization(): string | null {
    return this.#authorization;
  }

  toJSON(): string {
    return this.display;
  }
}

function basicAuthorization(username: string, password: string): string {
  const pair = `${decodeURIComponent(username)}:${decodeURIComponent(password)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/**
 * A URL that did not parse, fit for a message: everything up to its last `@` (which may hold
 * credentials, with or without a scheme, `/` in a password and all) replaced by `***@`.
 */
export function redactCredentials(url: string): string {
  const at = url.lastIndexOf('@');
  return at < 0 ? url : `***@${url.slice(at + 1)}`;
}

/** The error for a proxy's own refusal; `statusCode` is its answer. */
export function proxyRefusal(proxy: ProxyEndpoint, statusCode: number): ProxyError {
  return new ProxyError(proxy.display, statusCode, STATUS_CODES[statusCode] ?? '');
}

/**
 * Whether an answer through a forwarding proxy is the proxy's rather than the server's: 407
 * always (no S3 asks for proxy credentials), and 401, 403 or a 5xx that carries neither an
 * `x-amz-request-id` (S3 and the S3-compatible servers put one on every answer) nor an XML body
 * (S3's errors are XML; proxies answer with HTML pages). tinyproxy, for one, answers wrong
 * credentials with 401 and an unreachable server with 500.
 */
export function isProxyAnswer(statusCode: number, headers: Record<string, string | string[]>): boolean {
  if (statusCode === 407) return true;
  if (!PROXY_STATUSES.has(statusCode) || headers['x-amz-request-id'] !== undefined) return false;
  return !/xml/i.test(String(headers['content-type'] ?? ''));
}

/** The errors a proxy gives of its own: credentials refused (401 from tinyproxy, 403), and its own failures reaching the server. */
const PROXY_STATUSES = new Set([401, 403, 500, 502, 503, 504]);

/**
 * Asks the proxy on `socket` for a tunnel to `host:port` and resolves once it has answered 2xx;
 * a refusal rejects with a ProxyError, a head over 64 KiB or a socket closed first with an Error.
 * The answer is read with 'readable' rather than 'data', so that the socket is never left flowing
 * for the TLS socket that takes it over; a proxy that sends bytes past the answer before the TLS
 * handshake has begun breaks the protocol.
 */
export function openTunnel(socket: net.Socket, proxy: ProxyEndpoint, hostname: string, port: number): Promise<void> {
  const authority = `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
  const authorization = proxy.authorization();
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n${authorization ? `proxy-authorization: ${authorization}\r\n` : ''}\r\n`, 'latin1');
  return new Promise((resolve, reject) => {
    let head: Buffer = Buffer.alloc(0);
    const stop = (error: Error | null) => {
      socket.off('readable', onReadable);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onClose = () => stop(new Error(`the proxy ${proxy.display} closed the connection before answering CONNECT`));
    const onReadable = () => {
      for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null;) head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf(HEAD_END);
      if (end < 0) {
        if (head.length > MAX_CONNECT_HEAD) stop(new Error(`the proxy ${proxy.display} sent a CONNECT answer longer than ${MAX_CONNECT_HEAD} bytes`));
        return;
      }
      let answer;
      try {
        answer = parseResponseHead(head.subarray(0, end + HEAD_END.length));
      } catch (error) {
        return stop(error as Error);
      }
      if (!answer) return stop(new Error(`the proxy ${proxy.display} sent an answer to CONNECT that is not HTTP/1.1`));
      if (answer.statusCode < 200 || answer.statusCode > 299) return stop(proxyRefusal(proxy, answer.statusCode));
      if (answer.length < head.length) return stop(new Error(`the proxy ${proxy.display} sent bytes after its answer to CONNECT`));
      stop(null);
    };
    socket.on('readable', onReadable);
    socket.on('close', onClose);
  });
}
