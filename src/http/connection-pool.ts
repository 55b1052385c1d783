/**
 * s3tx's own HTTP/1.1 connections to one origin: at most `connections` of them,
 * reused while the server keeps them alive, with requests beyond that waiting
 * their turn in order.
 */
import { isIP } from 'node:net';
import type tls from 'node:tls';
import type { AddressBook } from './addresses.js';
import { bareHostname } from './hosts.js';
import type { ProxyEndpoint } from './proxy.js';
import { H1Connection, type H1Request, type ConnectOptions, type ExchangeController, type ExchangeHandler } from './h1-connection.js';

export interface ConnectionPoolOptions {
  origin: string;
  connections: number;
  stallTimeoutMs: number;
  /** Bound on connect plus TLS handshake. */
  connectTimeoutMs: number;
  /** For https: options passed on to `tls.connect`. */
  tls: tls.ConnectionOptions | null;
  /** Local addresses to bind, round-robin; empty for the OS's choice. */
  localAddresses: readonly string[];
  /** The client's address cache, which spreads connections over the host's addresses. */
  addresses: AddressBook;
  /** The proxy this origin's requests go through, or null to go direct. */
  proxy: ProxyEndpoint | null;
}

interface Waiting {
  request: H1Request;
  handler: ExchangeHandler;
}

export class ConnectionPool {
  readonly #options: ConnectionPoolOptions;
  readonly #connect: Omit<ConnectOptions, 'localAddress'>;
  readonly #all = new Set<H1Connection>();
  /** Connections ready for a request, the most recently used last: it is the likeliest still open. */
  readonly #idle: H1Connection[] = [];
  readonly #waiting: Waiting[] = [];
  #nextAddress = 0;
  #closing: (() => void) | null = null;

  constructor(options: ConnectionPoolOptions) {
    this.#options = options;
    const url = new URL(options.origin);
    const hostname = bareHostname(url.hostname);
    const https = url.protocol === 'https:';
    this.#connect = {
      protocol: https ? 'https:' : 'http:',
      hostname,
      port: Number(url.port) || (https ? 443 : 80),
      tls: https ? { servername: isIP(hostname) ? undefined : hostname, ...options.tls } : null,
      connectTimeoutMs: options.connectTimeoutMs,
      stallTimeoutMs: options.stallTimeoutMs,
      addresses: options.addresses,
      proxy: options.proxy,
    };
  }

  dispatch(request: H1Request, handler: ExchangeHandler): void {
    const connection = this.#idle.pop() ?? (this.#all.size < this.#options.connections ? this.#open() : null);
    if (connection) return connection.start(request, handler);
    const waiting = { request, handler };
    this.#waiting.push(waiting);
    const controller: ExchangeController = {
      abort: (reason) => {
        const index = this.#waiting.indexOf(waiting);
        if (index < 0) return;
        this.#waiting.splice(index, 1);
        handler.onResponseError(null, reason);
      },
    };
    handler.onRequestStart(controller);
  }

  /** Closes idle connections now and the others when their exchanges end. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#closing = resolve;
      for (const connection of this.#idle.splice(0)) connection.close();
      this.#settleClose();
    });
  }

  #open(): H1Connection {
    const addresses = this.#options.localAddresses;
    const localAddress = addresses.length > 0 ? addresses[this.#nextAddress++ % addresses.length] : undefined;
    const connection = new H1Connection(
      { ...this.#connect, localAddress },
      { idle: (done) => this.#onIdle(done), closed: (gone) => this.#onClosed(gone), replay: (request, handler) => this.#replay(request, handler) },
    );
    this.#all.add(connection);
    return connection;
  }

  #onIdle(connection: H1Connection): void {
    const next = this.#waiting.shift();
    if (next) return connection.start(next.request, next.handler);
    if (this.#closing) return connection.close();
    this.#idle.push(connection);
  }

  #onClosed(connection: H1Connection): void {
    this.#all.delete(connection);
    const index = this.#idle.indexOf(connection);
    if (index >= 0) this.#idle.splice(index, 1);
    const next = this.#waiting[0] && this.#all.size < this.#options.connections ? this.#waiting.shift() : undefined;
    if (next) this.#open().start(next.request, next.handler);
    this.#settleClose();
  }

  /** A request to send again: on a new connection where the cap allows, since idle ones may be as stale as the last. */
  #replay(request: H1Request, handler: ExchangeHandler): void {
    if (this.#all.size < this.#options.connections) this.#open().start(request, handler);
    else this.dispatch(request, handler);
  }

  #settleClose(): void {
    if (this.#closing && this.#all.size === 0 && this.#waiting.length === 0) this.#closing();
  }
}
