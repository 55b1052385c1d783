/**
 * The local S3-compatible server: HTTP plumbing, authentication, fault injection
 * and the request log. The operations themselves are in operations.ts.
 *
 * It runs on shared machines and in CI, where a client may be hostile before it has
 * authenticated, so what such a client can make it hold is bounded: the log keeps a few KiB of
 * each request and a set total, a connection must finish its head and keep its body coming
 * within timeouts, and connections past a cap (below the open-file limit) are answered 503.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { FaultPlan, type FaultAction, type FaultRule } from './faults.js';
import { ServerExchange, H1ServerConnection, type ConnectionTimeouts } from './h1-server.js';
import { handle, type OperationContext } from './operations/index.js';
import { bodyDecoder, pipeBody, readBody } from './request-body.js';
import { RequestLog, type RecordedRequest } from './request-log.js';
import { isDirectoryBucketName, route } from './router.js';
import { DEFAULT_SESSION_SECONDS, SessionRegistry, checkDirectoryBucketRequest } from './s3express.js';
import { S3Error, errorXml } from './s3-error.js';
import { DEFAULT_REGION, UNSUPPORTED_AUTHENTICATION, verifySignature, type VerifyOptions } from './sigv4.js';
import { DiskStorage, MemoryStorage, type Storage } from './storage.js';
import { SinkStorage } from './sink-storage.js';

export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Options of {@link startLocalS3}. */
export interface LocalS3Options {
  /** Address to listen on; 127.0.0.1 by default. */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  /** Folder to keep buckets in; memory when absent. */
  root?: string;
  /** Accepted credentials; one generated pair by default. */
  credentials?: LocalCredentials | LocalCredentials[];
  /** Serve unsigned requests too. */
  anonymous?: boolean;
  /**
   * The region the server answers for: a request signed for another is refused (as S3 refuses it,
   * AuthorizationHeaderMalformed), and HeadBucket and GetBucketLocation name it. us-east-1 by default.
   */
  region?: string;
  /**
   * Benchmark mode: PUT bodies are discarded without computing anything over them (no MD5, no
   * checksums: the checksum values sent are kept as they are), and GETs serve synthetic bytes of
   * the stored size.
   */
  sink?: boolean;
  /** Fault rules in force from the start; more can be added through the handle. */
  faults?: FaultRule[];
  /** How many requests the log keeps, the oldest dropped first; 10,000 by default, 0 for none. */
  requestLogSize?: number;
  /**
   * How many bytes of request text the log holds in all, the oldest records dropped first; 32 MiB
   * by default. A record counts for its whole head (the strings it keeps are parsed out of it, and
   * hold it), or, for a head past 16 KiB, whose strings it copies, for the paths, query and
   * headers it keeps; plus a fixed estimate. Each record keeps at most 8 KiB of headers, the first
   * that fit, whatever was sent.
   */
  requestLogBytes?: number;
  /**
   * Milliseconds a connection has to send a whole request head, from its start (or from the
   * first byte of a later request on a kept-alive connection); 60,000 by default, as nginx's
   * client_header_timeout. A partial head is then answered 408, an empty connection closed.
   */
  headerTimeoutMs?: number;
  /**
   * Milliseconds a request body may go without a byte arriving (while the server is reading it);
   * 60,000 by default, as nginx's client_body_timeout. It is then answered RequestTimeout (400)
   * and its connection closed.
   */
  bodyTimeoutMs?: number;
  /**
   * Most connections open at once; one more is answered 503 and closed. By default 4,096, or
   * less where the open-file limit is low (on Linux, the soft limit read at start): half of what
   * the limit leaves after 64 descriptors for the server's own use, since a connection that
   * uploads to disk holds a file too.
   */
  maxConnections?: number;
  /** Serve HTTPS with this certificate and key (PEM) instead of plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * S3 Express One Zone: directory buckets (`name--zone--x-s3`) take requests signed with sessions
   * from CreateSession, which last `sessionSeconds` (300, S3's, by default).
   */
  s3express?: { sessionSeconds?: number };
}

/** A running local S3 server. */
export interface LocalS3 {
  /** `http://host:port`, or `https://` when serving TLS. */
  endpoint: string;
  /** `host:port`, the Host header for path-style requests. */
  host: string;
  port: number;
  /** The first accepted credentials. */
  credentials: LocalCredentials;
  faults: FaultPlan;
  /** Every request so far, oldest first. */
  requests: RecordedRequest[];
  /** Most requests in progress at the same time since the last reset. */
  readonly maxConcurrent: number;
  /** Empties the request log and the concurrency high-water mark. */
  resetRequests(): void;
  close(): Promise<void>;
}

const DEFAULT_LOG_BYTES = 32 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_CONNECTIONS = 4096;
/** Descriptors the server keeps for its own use below the open-file limit: node's own, listeners, log files. */
const FD_HEADROOM = 64;

/** The soft open-file limit of this process, from /proc/self/limits; null where that cannot be read (not Linux). */
function openFileLimit(): number | null {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return line && line[1] !== 'unlimited' ? Number(line[1]) : null;
  } catch {
    return null;
  }
}

function defaultMaxConnections(): number {
  const limit = openFileLimit();
  if (limit === null) return DEFAULT_MAX_CONNECTIONS;
  return Math.max(1, Math.min(DEFAULT_MAX_CONNECTIONS, Math.floor((limit - FD_HEADROOM) / 2)));
}

/** `value`, checked to be a whole number above 0; `fallback` when undefined (a function is called only then). */
function positiveOption(name: string, value: number | undefined, fallback: number | (() => number)): number {
  if (value === undefined) return typeof fallback === 'function' ? fallback() : fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`startLocalS3: ${name} must be a whole number above 0`);
  return value;
}

function generatedCredentials(): LocalCredentials {
  return { accessKeyId: `S3TX${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64url') };
}

/** Starts a local S3-compatible server. */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const credentials = options.credentials === undefined ? [generatedCredentials()] : [options.credentials].flat();
  if (credentials.length === 0 || credentials.some((pair) => !pair.accessKeyId || !pair.secretAccessKey)) {
    throw new TypeError('startLocalS3: credentials need a non-empty accessKeyId and secretAccessKey');
  }
  let storage: Storage;
  if (options.sink) {
    storage = new SinkStorage();
  } else if (options.root) {
    const disk = new DiskStorage(options.root);
    await disk.init();
    storage = disk;
  } else {
    storage = new MemoryStorage();
  }
  const secrets = new Map(credentials.map((pair) => [pair.accessKeyId, pair.secretAccessKey]));
  const sessions = new SessionRegistry(options.s3express?.sessionSeconds ?? DEFAULT_SESSION_SECONDS);
  const faults = new FaultPlan(options.faults);
  const region = options.region ?? DEFAULT_REGION;
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(region))
    throw new TypeError(`startLocalS3: region must be a region name such as us-east-1, got ${JSON.stringify(region)}`);
  const logSize = options.requestLogSize ?? 10_000;
  if (!Number.isSafeInteger(logSize) || logSize < 0) throw new TypeError('startLocalS3: requestLogSize must be a whole number, 0 or more');
  const verifyOptions: VerifyOptions = { region };
  const log = new RequestLog(logSize, positiveOption('requestLogBytes', options.requestLogBytes, DEFAULT_LOG_BYTES));
  const timeouts: ConnectionTimeouts = {
    // An idle connection is closed after a minute; a request in progress has no time limit as long as its body keeps
    // coming, since uploads of 5 GiB parts may take long and the client's own timeouts decide.
    idleMs: 60_000,
    headerMs: positiveOption('headerTimeoutMs', options.headerTimeoutMs, DEFAULT_TIMEOUT_MS),
    bodyMs: positiveOption('bodyTimeoutMs', options.bodyTimeoutMs, DEFAULT_TIMEOUT_MS),
  };
  // The default reads /proc/self/limits: not when a cap is given.
  const maxConnections = positiveOption('maxConnections', options.maxConnections, defaultMaxConnections);
  /** Every connection open, as accepted (for TLS, the TCP socket under it, from before its handshake). */
  const sockets = new Set<Socket>();
  let connections = 0;
  let active = 0;
  let maxConcurrent = 0;
  // Request ids as S3 gives them (16 upper-case hex digits): this server's random half, then a count.
  const idPrefix = randomBytes(4).toString('hex').toUpperCase();
  let requestCount = 0;
  const nextRequestId = () => idPrefix + (++requestCount >>> 0).toString(16).toUpperCase().padStart(8, '0');

  const handler = (exchange: ServerExchange) => {
    active++;
    maxConcurrent = Math.max(maxConcurrent, active);
    // A request stops counting once its response has been handed over, or its connection dropped.
    exchange.once('close', () => active--);
    void serve(exchange);
  };
  /**
   * Counts an accepted connection against the cap, before any TLS handshake, and keeps it for
   * close() to drop, a handshake in progress too; false past the cap, when a plain connection is
   * answered 503 and a TLS one, which cannot be told, is dropped.
   */
  const admit = (socket: Socket): boolean => {
    if (sockets.size >= maxConnections) {
      socket.on('error', () => {});
      if (options.tls) socket.destroy();
      else socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n', 'latin1', () => socket.destroy());
      return false;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    return true;
  };
  const connect = (socket: Socket) => {
    if (!options.tls && !admit(socket)) return;
    new H1ServerConnection(socket, ++connections, timeouts, handler);
  };
  // For TLS, requests arrive on the TLS socket the server hands over once the handshake is done, which has the header timeout.
  const server: Server = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key, handshakeTimeout: timeouts.headerMs }, connect)
    : createServer(connect);
  if (options.tls) server.on('connection', admit);

  async function serve(exchange: ServerExchange): Promise<void> {
    const { url, method, headers } = exchange;
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const query = new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1));
    const isForm = /^multipart\/form-data\b/i.test(String(headers['content-type'] ?? ''));
    const where = route(method, String(headers.host ?? ''), path, query, headers['x-amz-copy-source'] !== undefined, isForm);
    const partNumber = query.has('partNumber') ? Number(query.get('partNumber')) : null;
    // Logged before the signature is checked: the log bounds what it keeps of a request.
    const record = log.add({ method, path, query, route: where, partNumber, headers, headLength: exchange.headLength, connection: exchange.connection });
    const requestId = nextRequestId();
    exchange.setHeader('x-amz-request-id', requestId);
    exchange.setHeader('server', 's3tx-local');
    exchange.once('finish', () => (record.status = exchange.statusCode));
    try {
      // A POST policy is in the form, which is not read: the answer closes the connection instead.
      if (where.operation === 'PostObject') throw new S3Error('InvalidRequest', UNSUPPORTED_AUTHENTICATION);
      const directory = where.bucket !== null && isDirectoryBucketName(where.bucket);
      const expected = directory ? { ...verifyOptions, service: 's3express' } : verifyOptions;
      const auth = verifySignature({ method, url, headers, query }, (id) => secrets.get(id) ?? sessions.secretFor(id), expected);
      if (!auth && !options.anonymous) throw new S3Error('AccessDenied', 'Access Denied');
      if (auth) record.signer = { accessKeyId: auth.accessKeyId, service: auth.scope.split('/')[2]!, session: !secrets.has(auth.accessKeyId) };
      if (directory) {
        if (!auth) throw new S3Error('AccessDenied', 'Requests to a directory bucket must be signed.');
        sessions.check(where, method, headers, auth, secrets.has(auth.accessKeyId));
        checkDirectoryBucketRequest(where, headers, query);
      } else if (auth && !secrets.has(auth.accessKeyId)) {
        // A session's key is good for its directory bucket only.
        throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: auth.accessKeyId });
      }
      const fault = faults.take({ operation: where.operation, key: where.key, partNumber, range: (headers.range as string | undefined) ?? null });
      record.fault = fault?.type ?? null;
      if (fault && (await applyRequestFault(fault, exchange))) return;
      const trailers: Record<string, string> = {};
      const context: OperationContext = {
        route: where,
        region,
        scheme: options.tls ? 'https' : 'http',
        method,
        query,
        headers,
        storage,
        sessions,
        sink: options.sink ?? false,
        fault,
        trailers,
        body: () => readBody(exchange, bodyDecoder(headers, auth, trailers), record),
        pipeBody: (writable, hashes) => pipeBody(exchange, bodyDecoder(headers, auth, trailers), record, writable, hashes),
        respond: (status, responseHeaders, body) => respond(exchange, record, status, responseHeaders, body, fault),
      };
      await handle(context);
    } catch (error) {
      answerError(exchange, record, error, path, requestId);
    }
  }

  function answerError(exchange: ServerExchange, record: RecordedRequest, error: unknown, resource: string, requestId: string): void {
    // A client that went away is no server error.
    if (exchange.destroyed) return;
    const s3Error = error instanceof S3Error ? error : new S3Error('InternalError', 'We encountered an internal error. Please try again.');
    if (!(error instanceof S3Error)) process.emitWarning(`s3tx local server: ${(error as Error)?.stack ?? String(error)}`);
    if (exchange.headersSent) {
      exchange.destroy();
      return;
    }
    record.status = s3Error.status;
    const body = record.method === 'HEAD' ? '' : errorXml(s3Error.code, s3Error.message, resource, requestId, s3Error.detail);
    // A request body the server stopped reading must not be taken for the next request.
    exchange.writeHead(s3Error.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), connection: 'close' });
    exchange.end(body);
  }

  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
  // An accept that fails (EMFILE: out of descriptors all the same) costs that one connection, not the server.
  const warned = new Set<string>();
  server.on('error', (error: NodeJS.ErrnoException) => {
    const code = error.code ?? error.message;
    if (warned.has(code)) return;
    warned.add(code);
    process.emitWarning(`s3tx local server: ${error.message}`);
  });
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    endpoint: `${options.tls ? 'https' : 'http'}://${hostPart}:${address.port}`,
    host: `${hostPart}:${address.port}`,
    port: address.port,
    credentials: credentials[0]!,
    faults,
    requests: log.records,
    get maxConcurrent() {
      return maxConcurrent;
    },
    resetRequests() {
      log.clear();
      maxConcurrent = active;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Waits `ms`, or less when the client gives up on the connection first: no timer outlives its socket. */
function stall(exchange: ServerExchange, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      exchange.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    exchange.once('close', done);
  });
}

/** Faults that act before the operation runs. Returns true when the request has been dealt with. */
async function applyRequestFault(fault: FaultAction, exchange: ServerExchange): Promise<boolean> {
  if (fault.type === 'error') {
    await exchange.discardBody();
    throw new S3Error(fault.code, fault.message ?? 'injected by a fault rule', {}, fault.status);
  }
  if (fault.type === 'respond') {
    await exchange.discardBody();
    const body = Buffer.from(fault.body ?? '');
    exchange.writeHead(fault.status, { 'content-length': String(body.length), ...fault.headers });
    exchange.end(body);
    return true;
  }
  if (fault.type === 'reset-request') {
    let seen = 0;
    await new Promise<void>((resolve) => {
      const reset = () => {
        exchange.destroy();
        resolve();
      };
      if (fault.afterBytes <= 0) return reset();
      exchange.readBody({
        piece: (data) => {
          seen += data.length;
          if (seen >= fault.afterBytes) reset();
        },
        end: reset,
        abort: () => resolve(),
      });
    });
    return true;
  }
  if (fault.type === 'stall' && !fault.afterBytes) {
    await stall(exchange, fault.ms);
    exchange.destroy();
    return true;
  }
  return false;
}

/** Waits until a response can take more, or has closed. */
function drained(exchange: ServerExchange): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      exchange.off('drain', done);
      exchange.off('close', done);
      resolve();
    };
    exchange.on('drain', done);
    exchange.on('close', done);
  });
}

/** Sends a response, applying response-phase faults to its body. */
async function respond(
  exchange: ServerExchange,
  record: RecordedRequest,
  status: number,
  headers: Record<string, string | number>,
  body: string | Buffer | Readable | AsyncIterable<Buffer> | null,
  fault: FaultAction | null,
): Promise<void> {
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    exchange.writeHead(status, { ...headers, 'content-length': data.length });
    record.bytesOut = data.length;
    exchange.end(data);
    return;
  }
  exchange.writeHead(status, headers);
  if (!body) {
    exchange.end();
    return;
  }
  const length = Number(headers['content-length'] ?? NaN);
  const flipAt = fault?.type === 'flip-byte' ? (fault.offset ?? Math.floor(length / 2)) : -1;
  const stopAt = fault?.type === 'reset-response' ? fault.afterBytes : fault?.type === 'stall' ? (fault.afterBytes ?? 0) : Infinity;
  let sent = 0;
  for await (let chunk of body as AsyncIterable<Buffer>) {
    if (flipAt >= sent && flipAt < sent + chunk.length) {
      chunk = Buffer.from(chunk);
      chunk[flipAt - sent] = chunk[flipAt - sent]! ^ 0xff;
    }
    if (sent + chunk.length >= stopAt) {
      // The bytes before the reset must reach the socket first: destroying it at once drops what is still queued.
      await new Promise<void>((resolve) => exchange.write(chunk.subarray(0, stopAt - sent), resolve));
      record.bytesOut = stopAt;
      if (fault?.type === 'stall') await stall(exchange, fault.ms);
      exchange.destroy();
      return;
    }
    sent += chunk.length;
    if (!exchange.write(chunk)) await drained(exchange);
    if (exchange.destroyed) return;
  }
  record.bytesOut = sent;
  exchange.end();
  // Past the end of the response, straight onto the connection.
  if (fault?.type === 'extra-bytes') exchange.socket.write(Buffer.alloc(fault.count, 0x41));
}
