/** The TLS settings of a client's connections, and what Node's tls.connect makes of them. */
import type { ConnectionOptions } from 'node:tls';

/** TLS settings of every connection (ignored, as the reference says, when `tlsMode` is DISABLED). */
export interface TlsConnectionOptions {
  /** Trusted CA certificates, PEM; replaces the default trust store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate chain, PEM, for mutual TLS. */
  cert?: string | Buffer;
  /** Client private key, PEM, for mutual TLS. */
  key?: string | Buffer;
  passphrase?: string;
  /** SNI name and the name the certificate must match; the request's host by default. */
  serverName?: string;
  /** Verify the server's certificate. True by default; turning it off is for tests only. */
  verifyPeer?: boolean;
}

/** The client's TLS options as Node's `tls.connect` names them. */
export function nodeTlsOptions(tls: TlsConnectionOptions | null): ConnectionOptions {
  if (!tls) return {};
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    passphrase: tls.passphrase,
    ...(tls.serverName ? { servername: tls.serverName } : {}),
    rejectUnauthorized: tls.verifyPeer ?? true,
  };
}
