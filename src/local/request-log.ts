/**
 * The local server's request log: what a test reads back of each request (operation, key, part,
 * headers, status, bytes), kept within a count and a byte budget. It is filled before the
 * signature is checked, so what a record holds is bounded whatever the request carried: 10,000
 * unsigned requests with 60 KiB heads took the server from 49 to 732 MiB resident when records
 * kept every header (617 MiB of heap); with the caps below, to 171 MiB, 41 of it heap.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FaultAction } from './faults.js';
import type { Route } from './router.js';

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path as received (encoded), without the query. */
  path: string;
  /** The query's parameters; a presigned URL's signature and security token are left out. */
  query: Record<string, string>;
  operation: string;
  bucket: string | null;
  key: string | null;
  partNumber: number | null;
  /** Request headers, lower-case; authorization and security tokens are left out. */
  headers: Record<string, string>;
  /** Which connection carried it, numbered from 1. */
  connection: number;
  status: number;
  bytesIn: number;
  bytesOut: number;
  /** The fault applied to it, if any. */
  fault: FaultAction['type'] | null;
  /**
   * Who signed it, once the signature checked out: the access key id (never its secret), the
   * service of the credential scope, and whether it was an S3 Express session's key.
   */
  signer: { accessKeyId: string; service: string; session: boolean } | null;
}

/** What a request is, as the server parsed it. */
export interface RequestFacts {
  method: string;
  path: string;
  query: URLSearchParams;
  route: Route;
  partNumber: number | null;
  headers: IncomingHttpHeaders;
  /** Bytes of the request head, which every string parsed out of it (the path, a header value) keeps alive. */
  headLength: number;
  connection: number;
}

/** Headers a record leaves out: credentials, and SSE-C keys (an object's and a copy source's), which decrypt what they encrypted. */
const HIDDEN_HEADERS = new Set([
  'authorization',
  'x-amz-security-token',
  'x-amz-s3session-token',
  'x-amz-server-side-encryption-customer-key',
  'x-amz-copy-source-server-side-encryption-customer-key',
]);
/**
 * Query parameters a record leaves out, a presigned URL's secrets (X-Amz-Credential names only a key
 * id), a SigV2 URL's Signature too, refused here but good at S3 until it expires; lower-case, matched in any case.
 */
const HIDDEN_PARAMETERS = new Set(['X-Amz-Security-Token', 'X-Amz-Signature', 'Signature'].map((name) => name.toLowerCase()));
/** Most bytes of headers a record keeps, the first that fit, whatever was sent. */
const MAX_HEADERS = 8 * 1024;
/** Most bytes of a path, of a query, of a key a record keeps; S3 keys are at most 1 KiB, 3 encoded. */
const MAX_PATH = 4 * 1024;
/**
 * Heads up to this size are kept as parsed. The path and a header value parsed out of a head are
 * slices of it in V8, hidden headers' too, so a record holds its whole head, and is charged for
 * it. Past this size a record's strings are copied (one JSON round trip), so that it holds only
 * what it keeps: copying every record cost about 11 us of the server's 0.3 ms per small request.
 */
const COPIED_HEAD = 16 * 1024;
/**
 * What a record is counted for past its text, for the objects that hold it: an estimate, a little
 * low (3,466 records counted at about 9.2 KiB each held 37 MiB of heap, 10.9 KiB each).
 */
const RECORD_OVERHEAD = 512;
const ENTRY_OVERHEAD = 64;

/** `text` cut to `limit` UTF-16 units. */
function cut(text: string, limit: number): string {
  return text.length > limit ? text.slice(0, limit) : text;
}

/** The first entries offered that fit in `limit` bytes, and their bytes; the rest are left out. */
class FirstThatFit {
  readonly kept: Record<string, string> = {};
  bytes = 0;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  offer(name: string, text: string): void {
    const bytes = name.length + text.length + ENTRY_OVERHEAD;
    if (this.bytes + bytes > this.#limit) return;
    this.bytes += bytes;
    this.kept[name] = text;
  }
}

/** Replaces a record's strings with copies (one JSON round trip), which hold nothing of the head they were parsed from. */
function copyStrings(record: RecordedRequest): void {
  const { method, path, query, operation, bucket, key, headers } = record;
  Object.assign(record, JSON.parse(JSON.stringify({ method, path, query, operation, bucket, key, headers })));
}

export class RequestLog {
  /** Every request kept, oldest first; a test may empty it from outside (`requests.length = 0`). */
  readonly records: RecordedRequest[] = [];
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  /** What each record counts for against the byte budget, in the order of the records. */
  readonly #charges: number[] = [];
  #bytes = 0;

  /** `maxRecords` 0 keeps nothing. */
  constructor(maxRecords: number, maxBytes: number) {
    this.#maxRecords = maxRecords;
    this.#maxBytes = maxBytes;
  }

  /** A record of the request, kept in the log unless it keeps nothing; the caller fills in status, bytes and fault. */
  add(facts: RequestFacts): RecordedRequest {
    const { method, path, route, partNumber, connection } = facts;
    // Kept nowhere (s3tx serve): the request's own strings, held no longer than the request, and no headers or query to sort.
    if (this.#maxRecords === 0) {
      return { method, path, query: {}, ...route, partNumber, headers: {}, connection, status: 0, bytesIn: 0, bytesOut: 0, fault: null, signer: null };
    }
    // Plain loops, not entries: this runs for every request, and most carry a dozen headers and no query.
    const headers = new FirstThatFit(MAX_HEADERS);
    for (const name in facts.headers) {
      const value = facts.headers[name];
      if (value !== undefined && !HIDDEN_HEADERS.has(name)) headers.offer(name, typeof value === 'string' ? value : String(value));
    }
    const query = new FirstThatFit(MAX_PATH);
    if (facts.query.size > 0) {
      for (const [name, value] of facts.query) if (!HIDDEN_PARAMETERS.has(name.toLowerCase())) query.offer(name, value);
    }
    const record: RecordedRequest = {
      method: cut(method, 64),
      path: cut(path, MAX_PATH),
      query: query.kept,
      operation: cut(route.operation, 64),
      bucket: route.bucket === null ? null : cut(route.bucket, MAX_PATH),
      key: route.key === null ? null : cut(route.key, MAX_PATH),
      partNumber,
      headers: headers.kept,
      connection,
      status: 0,
      bytesIn: 0,
      bytesOut: 0,
      fault: null,
      signer: null,
    };
    const large = facts.headLength > COPIED_HEAD;
    if (large) copyStrings(record);
    // Copied, a record holds what it keeps; not, its whole head, and the bucket and key as decoded, cut or not.
    const held = large
      ? 2 * (record.path.length + (record.bucket?.length ?? 0) + (record.key?.length ?? 0))
      : facts.headLength + 2 * ((route.bucket?.length ?? 0) + (route.key?.length ?? 0));
    this.#keep(record, RECORD_OVERHEAD + held + headers.bytes + query.bytes);
    return record;
  }

  clear(): void {
    this.records.length = 0;
    this.#charges.length = 0;
    this.#bytes = 0;
  }

  /** Adds a record of `bytes`; a full log drops its oldest tenth, by count or by bytes. */
  #keep(record: RecordedRequest, bytes: number): void {
    const records = this.records;
    const charges = this.#charges;
    // Emptied from outside: the charges go too.
    if (records.length === 0) this.clear();
    records.push(record);
    charges.push(bytes);
    this.#bytes += bytes;
    if (records.length <= this.#maxRecords && this.#bytes <= this.#maxBytes) return;
    let drop = records.length > this.#maxRecords ? Math.ceil(this.#maxRecords / 10) : 0;
    let freed = 0;
    for (let i = 0; i < drop; i++) freed += charges[i]!;
    while (drop < records.length - 1 && this.#bytes - freed > this.#maxBytes * 0.9) freed += charges[drop++]!;
    records.splice(0, drop);
    charges.splice(0, drop);
    this.#bytes -= freed;
  }
}
