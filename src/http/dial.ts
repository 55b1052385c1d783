/**
 * Opening a connection's socket: to one of the host's addresses in turn (or the proxy's), bound
 * to a local address of the same family when interfaces are named, then TLS to the endpoint,
 * through a CONNECT tunnel when a proxy carries an https endpoint. A TCP connect that fails or
 * times out sets that address aside and tries the next one; what fails after it (TLS, the
 * proxy's answer) is final. The whole of one attempt is bounded by the connect timeout.
 */
import net from 'node:net';
import tls from 'node:tls';
import { NetworkError } from '../core/errors.js';
import type { AddressBook } from './addresses.js';
import { openTunnel, type ProxyEndpoint } from './proxy.js';

/** Addresses tried for one connection before its failure is reported (each within the connect timeout). */
const MAX_ADDRESS_ATTEMPTS = 3;

export interface DialOptions {
  protocol: 'http:' | 'https:';
  /** The endpoint's host, without brackets. */
  hostname: string;
  port: number;
  /** For https: options passed on to `tls.connect`, the server name among them. */
  tls: tls.ConnectionOptions | null;
  connectTimeoutMs: number;
  /** The address to bind, or undefined for the OS's choice; its family picks the endpoint's. */
  localAddress: string | undefined;
  addresses: AddressBook;
  /** The proxy to go through: CONNECT for https, absolute-form requests (the caller's part) for http. */
  proxy: ProxyEndpoint | null;
}

/** How a connection's socket reads: with the `onread` it was made with, or through 'data' events (TLS inside a tunnel cannot take `onread`). */
export interface Dialed {
  socket: net.Socket;
  onread: boolean;
}

type OnRead = net.OnReadOpts;

/** A TCP connect that did not complete: worth another address. */
class ConnectFailure extends Error {
  constructor(readonly reason: Error) {
    super(reason.message);
  }
}

/** Opens the connection `options` describe; `signal` abandons it, destroying what was made. */
export async function dial(options: DialOptions, onread: OnRead, signal: AbortSignal): Promise<Dialed> {
  const proxy = options.proxy;
  const host = proxy ? proxy.hostname : options.hostname;
  const family = options.localAddress ? (net.isIP(options.localAddress) as 4 | 6) : null;
  const tried = new Set<string>();
  let failure: Error | null = null;
  while (tried.size < MAX_ADDRESS_ATTEMPTS) {
    // The lookup is bounded by the connect timeout too: a resolver that never answers must not hang the request.
    const { address } = await within(options.addresses.next(host, family), options.connectTimeoutMs, signal, `resolving ${host}`);
    if (tried.has(address)) break;
    tried.add(address);
    try {
      return await attempt(options, address, onread, signal);
    } catch (error) {
      if (!(error instanceof ConnectFailure)) throw error;
      // An abandoned dial says nothing of the address.
      if (signal.aborted) throw error.reason;
      options.addresses.failed(host, address);
      failure = error.reason;
    }
  }
  if (proxy) throw new NetworkError(`could not connect to the proxy ${proxy.display}: ${failure?.message}`, failure);
  throw failure!;
}

/** `promise`, or a rejection once `ms` have passed (naming `what`) or `signal` aborts. */
function within<T>(promise: Promise<T>, ms: number, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = (error: unknown) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      reject(error);
    };
    const onAbort = () => stop(signal.reason);
    const timer = setTimeout(() => stop(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    promise.then((value) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    }, stop);
  });
}

/** One connection to `address`, within the connect timeout. */
function attempt(options: DialOptions, address: string, onread: OnRead, signal: AbortSignal): Promise<Dialed> {
  return new Promise<Dialed>((resolve, reject) => {
    const sockets: net.Socket[] = [];
    let connected = false;
    let settled = false;
    const finish = (error: Error | null, dialed?: Dialed) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // The listeners stay on a socket handed over: an error before its new owner listens is seen here, and then as its 'close'.
      if (error) {
        for (const socket of sockets) socket.destroy();
        reject(connected ? error : new ConnectFailure(error));
      } else resolve(dialed!);
    };
    const onError = (error: Error) => finish(error);
    const onAbort = () => finish(signal.reason instanceof Error ? signal.reason : new Error('abandoned'));
    const timer = setTimeout(() => finish(new Error(`connect timed out after ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
    timer.unref();
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) return onAbort();
    const watch = <T extends net.Socket>(socket: T): T => {
      sockets.push(socket);
      socket.on('error', onError);
      return socket;
    };

    const { proxy, localAddress } = options;
    const base = { host: address, port: proxy ? proxy.port : options.port, localAddress, noDelay: true };
    // tls.connect reads with `onread` too, though its types leave the option out.
    const reading = { ...base, onread };
    if (options.protocol === 'https:' && !proxy) {
      const socket = watch(tls.connect({ ...options.tls, ...reading, ALPNProtocols: ['http/1.1'] }));
      socket.once('connect', () => (connected = true));
      socket.once('secureConnect', () => finish(null, { socket, onread: true }));
      return;
    }
    if (!proxy || options.protocol === 'http:') {
      const socket = watch(net.connect(reading));
      socket.once('connect', () => {
        connected = true;
        finish(null, { socket, onread: true });
      });
      return;
    }
    const raw = watch(net.connect(base));
    raw.once('connect', () => {
      connected = true;
      openTunnel(raw, proxy, options.hostname, options.port).then(() => {
        if (settled) return;
        // Verified against the endpoint's name, as if the proxy were not there.
        const secure = watch(tls.connect({ ...options.tls, socket: raw, host: options.hostname, ALPNProtocols: ['http/1.1'] }));
        secure.once('secureConnect', () => finish(null, { socket: secure, onread: false }));
      }, onError);
    });
  });
}
