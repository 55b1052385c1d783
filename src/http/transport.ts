/**
 * HTTP exchanges, each to the connections that serve it best. Requests without a
 * body or with one in memory (GETs of parts, HEADs, parts and objects uploaded
 * from buffers, with their aws-chunked framing when a checksum trails them) go
 * over s3tx's own HTTP/1.1 connections, which read a response straight into the
 * memory its sink names; requests whose body streams (from a file or a caller's
 * stream) go over undici connection pools (one per origin and bound interface address). Both
 * deliver through one handler object, so that each body chunk goes straight to
 * its sink without streams or async iteration in between. undici loads with the
 * first streaming body: it is a third of the package's import time (about 22 ms),
 * which most clients never need. Knows nothing about S3.
 */
import type { Readable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import type { Dispatcher, Pool } from 'undici';
import { ConnectionPool } from './connection-pool.js';
import { NetworkError, S3txError, TlsError } from '../core/errors.js';
import { isIncremental, type ExchangeController, type ExchangeHandler, type IncrementalBody } from './h1-connection.js';
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
  body?: Buffer | IncrementalBody | Readable | null;
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
}

/** One request and its response in flight; `abort()` ends it with the given reason. */
export class Exchange implements Dispatcher.DispatchHandler, ExchangeHandler {
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

let loadedPool: typeof Pool | null = null;
let loadingPool: Promise<typeof Pool> | null = null;

/** undici's Pool on its own, without the root entry's fetch, WebSocket, cache and mock code. */
function loadPool(): Promise<typeof Pool> {
  loadingPool ??= import('undici/lib/dispatcher/pool.js').then(({ default: PoolClass }) => (loadedPool = PoolClass));
  return loadingPool;
}

/** Owns the connection pools of one client. */
export class Transport {
  #options: TransportOptions;
  /** The TLS options as tls.connect takes them, for every connection. */
  readonly #tls: ConnectionOptions;
  /** undici's Pools by origin, one per local address: bodies that stream. */
  #streamingPools = new Map<string, Pool[]>();
  /** s3tx's own connection pool by origin: everything else. */
  #ownPools = new Map<string, ConnectionPool>();
  #next = 0;
  #closed = false;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#tls = nodeTlsOptions(options.tlsConnectionOptions);
  }

  /** Sends a request; the returned exchange settles when the response has ended or failed. */
  send(request: ExchangeRequest, sink: ResponseSink): Exchange {
    const exchange = new Exchange(sink);
    if (this.#closed) {
      exchange.onResponseError(null, new NetworkError('the client is closed', null));
      return exchange;
    }
    const { origin, method, path, headers, body } = request;
    if (body == null || Buffer.isBuffer(body) || isIncremental(body)) {
      this.#ownPoolFor(origin).dispatch({ method, path, headers, body }, exchange);
      return exchange;
    }
    const dispatch = (PoolClass: typeof Pool) => {
      if (this.#closed) return exchange.onResponseError(null, new NetworkError('the client is closed', null));
      // Called from a promise when undici has just loaded: what it throws belongs to the exchange.
      try {
        const pools = this.#streamingPoolsFor(PoolClass, origin);
        pools[this.#next++ % pools.length]!.dispatch({ path, method, headers, body }, exchange);
      } catch (error) {
        exchange.onResponseError(null, error as Error);
      }
    };
    if (loadedPool) dispatch(loadedPool);
    else
      loadPool().then(dispatch, (error: unknown) =>
        exchange.onResponseError(null, new NetworkError(`cannot load undici: ${(error as Error)?.message ?? error}`, error)),
      );
    return exchange;
  }

  #ownPoolFor(origin: string): ConnectionPool {
    let pool = this.#ownPools.get(origin);
    if (!pool) {
      const { connections, stallTimeoutMs, localAddresses } = this.#options;
      const connectTimeoutMs = this.#connectTimeoutMs();
      pool = new ConnectionPool({ origin, connections, stallTimeoutMs, connectTimeoutMs, tls: this.#tls, localAddresses });
      this.#ownPools.set(origin, pool);
    }
    return pool;
  }

  #streamingPoolsFor(PoolClass: typeof Pool, origin: string): Pool[] {
    let pools = this.#streamingPools.get(origin);
    if (!pools) {
      const { connections, stallTimeoutMs, localAddresses } = this.#options;
      const addresses = localAddresses.length > 0 ? localAddresses : [undefined];
      const perAddress = Math.max(1, Math.ceil(connections / addresses.length));
      pools = addresses.map(
        (localAddress) =>
          new PoolClass(origin, {
            connections: perAddress,
            pipelining: 1,
            headersTimeout: stallTimeoutMs,
            bodyTimeout: stallTimeoutMs,
            keepAliveTimeout: 30_000,
            connect: { timeout: this.#connectTimeoutMs(), ...(localAddress ? { localAddress } : {}), ...this.#tls },
          }),
      );
      this.#streamingPools.set(origin, pools);
    }
    return pools;
  }

  /** Connect plus TLS handshake: the caller's bound, else the stall timeout capped at 10 s. */
  #connectTimeoutMs(): number {
    return this.#options.connectTimeoutMs ?? Math.min(this.#options.stallTimeoutMs, 10_000);
  }

  /** Closes every pool once its requests have finished. */
  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#streamingPools.values()].flat();
    const connections = [...this.#ownPools.values()];
    this.#streamingPools.clear();
    this.#ownPools.clear();
    await Promise.all([...pools.map((pool) => pool.close()), ...connections.map((pool) => pool.close())]);
  }
}
