/**
 * HTTP exchanges over s3tx's own HTTP/1.1 connections, one pool per origin, for
 * every request: without a body (GETs of parts, HEADs), with one in memory (parts
 * and objects uploaded from buffers, with their aws-chunked framing when a
 * checksum trails them) and with one that streams (a file, a caller's stream).
 * One stack, so that what a network asks of a connection (TLS options, bound
 * addresses, timeouts, proxies, the spread over a host's addresses) is written once. Each response
 * is read straight into the memory its sink names and each body chunk goes to its
 * sink without streams or async iteration in between. Knows nothing about S3.
 */
import type { ConnectionOptions } from 'node:tls';
import { AddressBook, type LookupFunction } from './addresses.js';
import { ConnectionPool } from './connection-pool.js';
import { NetworkError, S3txError, TlsError } from '../core/errors.js';
import type { ExchangeController, ExchangeHandler, RequestBody } from './h1-connection.js';
import type { ProxyEndpoint } from './proxy.js';
import { proxyFor, type ProxyChoice } from './proxy-rules.js';
import { nodeTlsOptions, type TlsConnectionOptions } from './tls-options.js';

/** Where a response goes. Either method may throw to abort the exchange with that error. */
export interface ResponseSink {
  onResponseStart(statusCode: number, headers: Record<string, string | string[] | undefined>): void;
  onResponseData(chunk: Buffer): void;
  /**
   * Memory the body may be read straight into, asked for after onResponseStart: onResponseData
   * then receives views of it at the body's offsets (and copies of any bytes that came otherwise).
   */
  destination?(): Buffer | null;
}

export interface ExchangeRequest {
  /** `http://host:port` or `https://host:port`. */
  origin: string;
  method: string;
  /** Path and query string, already encoded. */
  path: string;
  headers: Record<string, string>;
  body?: RequestBody | null;
}

export interface TransportOptions {
  /** Connections per origin in total, spread over the local addresses. */
  connections: number;
  /** Drop a connection that waits this long for headers or between body chunks. */
  stallTimeoutMs: number;
  /** Give up on a connection whose connect and TLS handshake take longer; `min(stallTimeoutMs, 10 s)` when unset. */
  connectTimeoutMs?: number;
  tlsConnectionOptions: TlsConnectionOptions | null;
  /** Local addresses to bind, round-robin; empty for the OS's choice. */
  localAddresses: readonly string[];
  /** Resolves host names to all their addresses; `dns.lookup` by default. */
  lookup?: LookupFunction;
  /** The proxies requests go through, by the endpoint's scheme; none when unset. */
  proxy?: ProxyChoice<ProxyEndpoint> | null;
}

/** One request and its response in flight; `abort()` ends it with the given reason. */
export class Exchange implements ExchangeHandler {
  readonly done: Promise<void>;
  #sink: ResponseSink;
  #controller: ExchangeController | null = null;
  #abortReason: Error | null = null;
  #resolve!: () => void;
  #reject!: (error: unknown) => void;

  constructor(sink: ResponseSink) {
    this.#sink = sink;
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  abort(reason: Error): void {
    this.#abortReason ??= reason;
    this.#controller?.abort(reason);
  }

  onRequestStart(controller: ExchangeController): void {
    this.#controller = controller;
    if (this.#abortReason) controller.abort(this.#abortReason);
  }

  onResponseStart(controller: ExchangeController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    try {
      this.#sink.onResponseStart(statusCode, headers);
    } catch (error) {
      this.#stop(controller, error);
    }
  }

  destination(): Buffer | null {
    return this.#sink.destination?.() ?? null;
  }

  onResponseData(controller: ExchangeController, chunk: Buffer): void {
    try {
      this.#sink.onResponseData(chunk);
    } catch (error) {
      this.#stop(controller, error);
    }
  }

  /** The sink refused the response: end the exchange with the sink's own error, unwrapped. */
  #stop(controller: ExchangeController, error: unknown): void {
    this.#abortReason ??= error instanceof Error ? error : new Error(String(error));
    controller.abort(this.#abortReason);
  }

  onResponseEnd(): void {
    this.#resolve();
  }

  onResponseError(_controller: ExchangeController | null, error: Error): void {
    if (this.#abortReason) this.#reject(this.#abortReason);
    else this.#reject(error instanceof S3txError ? error : connectionError(error));
  }
}

// OpenSSL's verification codes (DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED, ...) and Node's TLS and SSL errors.
const TLS_FAILURE = /CERT|^ERR_TLS_|^ERR_SSL_|^UNABLE_TO_VERIFY/;

function connectionError(error: Error): S3txError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (TLS_FAILURE.test(code)) return new TlsError(`TLS negotiation failed: ${error.message || code}`, error);
  return new NetworkError(`connection failed: ${error.message || error.name}`, error);
}

/** Owns the connection pools of one client. */
export class Transport {
  #options: TransportOptions;
  /** The TLS options as tls.connect takes them, for every connection. */
  readonly #tls: ConnectionOptions;
  /** The connection pool of each origin. */
  #pools = new Map<string, ConnectionPool>();
  readonly #addresses: AddressBook;
  #closed = false;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#tls = nodeTlsOptions(options.tlsConnectionOptions);
    this.#addresses = new AddressBook(options.lookup);
  }

  /** Sends a request; the returned exchange settles when the response has ended or failed. */
  send(request: ExchangeRequest, sink: ResponseSink): Exchange {
    const exchange = new Exchange(sink);
    if (this.#closed) {
      exchange.onResponseError(null, new NetworkError('the client is closed', null));
      return exchange;
    }
    this.#poolFor(request.origin).dispatch(request, exchange);
    return exchange;
  }

  #poolFor(origin: string): ConnectionPool {
    let pool = this.#pools.get(origin);
    if (!pool) {
      const { connections, stallTimeoutMs, localAddresses } = this.#options;
      // Connect plus TLS handshake: the caller's bound, else the stall timeout capped at 10 s.
      const connectTimeoutMs = this.#options.connectTimeoutMs ?? Math.min(stallTimeoutMs, 10_000);
      const proxy = this.#options.proxy ? proxyFor(this.#options.proxy, new URL(origin)) : null;
      pool = new ConnectionPool({ origin, connections, stallTimeoutMs, connectTimeoutMs, tls: this.#tls, localAddresses, addresses: this.#addresses, proxy });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  /** Closes every pool once its requests have finished. */
  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }
}
