/**
 * The request handed to makeRequest. Shaped like `@smithy/protocol-http`'s
 * HttpRequest, whose instances makeRequest accepts as well.
 */

export interface HttpRequestOptions {
  method?: string;
  /** URI-encoded path, `/bucket/key` or `/key` with a virtual-hosted Host; may carry a query string. */
  path?: string;
  /** Host name to connect to when there is no Host header. */
  hostname?: string;
  port?: number;
  /** Decoded query values, merged with those in `path`. */
  query?: Record<string, string | null>;
  headers?: Record<string, string>;
  /** A body for DEFAULT and PUT_OBJECT requests; see S3RequestBody. */
  body?: unknown;
}

/** An HTTP request: method, path, headers and an optional body. */
export class HttpRequest {
  method: string;
  path: string;
  hostname: string | undefined;
  port: number | undefined;
  query: Record<string, string | null>;
  headers: Record<string, string>;
  body: unknown;

  constructor(options: HttpRequestOptions = {}) {
    this.method = options.method ?? 'GET';
    this.path = options.path ?? '/';
    this.hostname = options.hostname;
    this.port = options.port;
    this.query = options.query ?? {};
    this.headers = options.headers ?? {};
    this.body = options.body;
  }
}
