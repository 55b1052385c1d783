/**
 * Raw HTTP requests to a test server, signed (or not) exactly as a test needs:
 * for the wire behaviour that a well-behaved client never produces.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { ACCESS_KEY, SECRET_KEY } from './servers.js';

export interface RawOptions {
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** `x-amz-content-sha256`; UNSIGNED-PAYLOAD by default. */
  payloadHash?: string;
  secret?: string;
  accessKeyId?: string;
  /** The credential scope's service; s3 by default (s3express for a directory bucket). */
  service?: string;
  signingDate?: Date;
  /** Send without an Authorization header. */
  anonymous?: boolean;
  /** Send the body without Content-Length (chunked transfer encoding). */
  omitLength?: boolean;
  /** A Host header other than the address connected to (virtual-host style). */
  hostHeader?: string;
  /** Send `data` as a signed aws-chunked body; `tamper` may change the encoded bytes before they go. */
  chunked?: { data: Buffer; chunkSize: number; tamper?: (body: Buffer) => Buffer; trailer?: { name: string; value: string } };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** S3's error code, when the body is an error document. */
  code: string | null;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** node:crypto behind the hash interface the smithy signer expects (HMAC when given a key). */
export class NodeSha256 {
  #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
}

/** An independent SigV4 signer (the AWS SDK's), so that tests do not check s3tx against itself. */
export function signer(secret = SECRET_KEY, accessKeyId = ACCESS_KEY, service = 's3'): SignatureV4 {
  return new SignatureV4({
    service,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: secret },
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
}

/** Sends one request to `host` (`127.0.0.1:port`), signed with SigV4 unless anonymous. */
export async function raw(host: string, method: string, pathAndQuery: string, options: RawOptions = {}): Promise<RawResponse> {
  const [path, queryText = ''] = pathAndQuery.split('?');
  const query = Object.fromEntries(new URLSearchParams(queryText));
  const headers: Record<string, string> = { host: options.hostHeader ?? host, ...options.headers };
  if (options.body !== undefined && headers['content-length'] === undefined && !options.omitLength)
    headers['content-length'] = String(Buffer.byteLength(options.body));
  const chunked = options.chunked;
  if (chunked) {
    // Signatures have a fixed length, so a placeholder chain gives the encoded length to sign.
    const placeholder = signedChunkedBody(
      chunked.data,
      chunked.chunkSize,
      '0'.repeat(64),
      '20000101T000000Z',
      '20000101/us-east-1/s3/aws4_request',
      SECRET_KEY,
      chunked.trailer,
    );
    Object.assign(headers, {
      'content-encoding': 'aws-chunked',
      'content-length': String(placeholder.length),
      'x-amz-decoded-content-length': String(chunked.data.length),
      'x-amz-content-sha256': chunked.trailer ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      ...(chunked.trailer ? { 'x-amz-trailer': chunked.trailer.name } : {}),
    });
  }
  let sent = headers;
  let body = options.body;
  if (!options.anonymous) {
    headers['x-amz-content-sha256'] ??= options.payloadHash ?? 'UNSIGNED-PAYLOAD';
    const signed = await signer(options.secret, options.accessKeyId, options.service).sign(
      new HttpRequest({ method, protocol: 'http:', hostname: headers.host!.split(':')[0], path: path!, query, headers }),
      {
        signingDate: options.signingDate,
      },
    );
    sent = signed.headers;
    if (chunked) {
      const [, credential, signature] = /Credential=[^/]+\/([^,]+), SignedHeaders=[^,]+, Signature=([0-9a-f]{64})/.exec(sent.authorization!)!;
      const encoded = signedChunkedBody(chunked.data, chunked.chunkSize, signature!, sent['x-amz-date']!, credential!, options.secret, chunked.trailer);
      body = chunked.tamper ? chunked.tamper(encoded) : encoded;
    }
  }
  const payload = options.omitLength && body !== undefined ? Readable.from([Buffer.from(body)]) : body;
  const response = await request(`http://${host}${pathAndQuery}`, { method: method as 'GET', headers: sent, body: payload });
  const answer = Buffer.from(await response.body.arrayBuffer());
  const code = /<Code>([^<]+)<\/Code>/.exec(answer.toString())?.[1] ?? null;
  return { status: response.statusCode, headers: response.headers, body: answer, code };
}

/**
 * An aws-chunked body signed chunk by chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), written
 * from AWS's description of the chain: each chunk's signature covers the previous one.
 * With a trailer, the trailer lines follow the final chunk, signed over the last chunk
 * signature and the SHA-256 of the trailer text (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER).
 */
export function signedChunkedBody(
  data: Buffer,
  chunkSize: number,
  seedSignature: string,
  amzDate: string,
  scope: string,
  secret = SECRET_KEY,
  trailer?: { name: string; value: string },
): Buffer {
  const [date, region, service] = scope.split('/');
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(date!).digest();
  for (const part of [region!, service!, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const sha = (text: Buffer | string) => createHash('sha256').update(text).digest('hex');
  let previous = seedSignature;
  const pieces: Buffer[] = [];
  for (let offset = 0; ; offset += chunkSize) {
    const chunk = data.subarray(offset, Math.min(offset + chunkSize, data.length));
    const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, sha(''), sha(chunk)].join('\n');
    previous = createHmac('sha256', key).update(toSign).digest('hex');
    pieces.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), chunk);
    if (chunk.length === 0) break;
    pieces.push(Buffer.from('\r\n'));
  }
  if (trailer) {
    const text = `${trailer.name}:${trailer.value}\n`;
    const signature = createHmac('sha256', key)
      .update(['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, previous, sha(text)].join('\n'))
      .digest('hex');
    pieces.push(Buffer.from(`${trailer.name}:${trailer.value}\r\nx-amz-trailer-signature:${signature}\r\n`));
  }
  pieces.push(Buffer.from('\r\n'));
  return Buffer.concat(pieces);
}
