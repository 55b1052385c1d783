/**
 * The local server against a hostile client's framing: requests that two HTTP parsers could
 * split differently (RFC 9112, section 6), chunk-size lines and heads past their limits, and
 * bodies longer than their headers declared, which must be cut off at the first byte past the
 * declaration rather than read to their end. Raw sockets to 127.0.0.1, bounded in bytes and time.
 */
import { createHash, createHmac } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../src/local/index.js';
import { AwsChunkedDecoder } from '../../src/local/aws-chunked.js';
import { bodyDecoder } from '../../src/local/request-body.js';
import { Crc32c } from '../../src/checksums/index.js';
import { ACCESS_KEY, SECRET_KEY } from '../helpers/servers.js';
import { raw, signedChunkedBody, signer } from '../helpers/raw.js';
import { Wire } from '../helpers/wire.js';

const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => Number(match[1]));

describe("the local server's request framing", { timeout: 15_000 }, () => {
  let server: LocalS3;
  const host = () => `Host: ${server.host}\r\n`;
  /** The server's log entries whose path is `path`. */
  const logged = (path: string) => server.requests.filter((request) => request.path === path);

  beforeAll(async () => {
    server = await startLocalS3({ anonymous: true });
    const wire = new Wire(server.port);
    wire.send(`PUT /framing HTTP/1.1\r\n${host()}Content-Length: 0\r\n\r\nPUT /framing/a HTTP/1.1\r\n${host()}Content-Length: 5\r\n\r\nhello`);
    await wire.until((text) => statuses(text).length === 2);
    wire.socket.destroy();
  });
  afterAll(() => server.close());

  /** Sends `request` on a fresh connection; resolves with all it was answered once the server has closed it. */
  async function refused(request: string | Buffer): Promise<string> {
    const wire = new Wire(server.port);
    wire.send(request);
    const text = await wire.until(() => false);
    expect(wire.closed).toBe(true);
    return text;
  }

  it('answers two differing Content-Length values 400 and closes, whether in two lines or one', async () => {
    const smuggled = `GET /framing/smuggled-cl HTTP/1.1\r\n${host()}\r\n`;
    for (const lengths of ['Content-Length: 5\r\nContent-Length: 40', 'Content-Length: 40\r\nContent-Length: 5', 'Content-Length: 5, 40']) {
      const text = await refused(`PUT /framing/cl HTTP/1.1\r\n${host()}${lengths}\r\n\r\nhello${smuggled}`);
      expect(statuses(text)).toEqual([400]);
    }
    expect(logged('/framing/smuggled-cl')).toEqual([]);
    // The same value twice says one thing, which RFC 9112 lets a server accept.
    const same = new Wire(server.port);
    same.send(`PUT /framing/cl-same HTTP/1.1\r\n${host()}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`);
    expect(statuses(await same.until((text) => text.includes('\r\n\r\n')))).toEqual([200]);
    same.socket.destroy();
  });

  it('answers Content-Length together with Transfer-Encoding 400 and closes, the body after it never a request', async () => {
    const smuggled = `GET /framing/smuggled-te HTTP/1.1\r\n${host()}\r\n`;
    // A GET, which reads no body: what frames the one it carries is the server's parser alone.
    const get = await refused(
      `GET /framing/a HTTP/1.1\r\n${host()}Content-Length: ${5 + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    );
    expect(statuses(get)).toEqual([400]);
    const text = await refused(
      `PUT /framing/clte HTTP/1.1\r\n${host()}Content-Length: ${5 + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    );
    expect(statuses(text)).toEqual([400]);
    const reversed = await refused(`PUT /framing/tecl HTTP/1.1\r\n${host()}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n${smuggled}`);
    expect(statuses(reversed)).toEqual([400]);
    expect(logged('/framing/smuggled-te')).toEqual([]);
  });

  it('takes only exactly "chunked" as a Transfer-Encoding: every other value is 400 or 501 and a close', async () => {
    const values = [
      'chunked, chunked',
      'identity, chunked',
      'gzip, chunked',
      'Chunked',
      'CHUNKED',
      'chunked\r\nTransfer-Encoding: chunked',
      'gzip',
      'chunked, gzip',
      'chunked;q=1',
    ];
    for (const value of values) {
      const text = await refused(`GET /framing/a HTTP/1.1\r\n${host()}Transfer-Encoding: ${value}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
      expect([[400], [501]], value).toContainEqual(statuses(text));
    }
    const plain = new Wire(server.port);
    plain.send(`GET /framing/a HTTP/1.1\r\n${host()}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
    expect(statuses(await plain.until((text) => text.includes('\r\n\r\n')))).toEqual([200]);
    plain.socket.destroy();
  });

  it('logs the status it sent for a request whose framing it refused mid-body', async () => {
    const text = await refused(`PUT /framing/broken-chunk HTTP/1.1\r\n${host()}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n`);
    expect(statuses(text)).toEqual([400]);
    expect(logged('/framing/broken-chunk').map((request) => request.status)).toEqual([400]);
  });

  it('answers a NUL or another control byte in a header value 400 and closes', async () => {
    for (const byte of [0x00, 0x01, 0x0b, 0x1f, 0x7f]) {
      const head = Buffer.concat([Buffer.from(`GET /framing/a HTTP/1.1\r\n${host()}x-value: a`), Buffer.from([byte]), Buffer.from('b\r\n\r\n')]);
      expect(statuses(await refused(head)), `byte ${byte}`).toEqual([400]);
    }
  });

  it('holds a head to 64 KiB however it arrives, in one write too', async () => {
    const text = await refused(`GET /framing/a HTTP/1.1\r\n${host()}x-long: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
    expect(statuses(text)).toEqual([431]);
  });

  it('reads a head that arrives in pieces, its blank line split at any byte', async () => {
    const head = `GET /framing/a HTTP/1.1\r\n${host()}x-pieces: yes\r\n\r\n`;
    for (let cut = 1; cut <= 5; cut++) {
      const wire = new Wire(server.port);
      wire.socket.setNoDelay(true);
      wire.send(head.slice(0, head.length - cut));
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const byte of head.slice(head.length - cut)) {
        wire.send(byte);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(await wire.until((text) => text.endsWith('hello')), `cut ${cut}`).toMatch(/^HTTP\/1\.1 200/);
      wire.socket.destroy();
    }
  });

  it('reads a chunk-size line of up to 16 hex digits and answers a longer one, or one past 2^53, 400', async () => {
    const ok = new Wire(server.port);
    ok.send(`GET /framing/a HTTP/1.1\r\n${host()}Transfer-Encoding: chunked\r\n\r\n${'5'.padStart(16, '0')}\r\nhello\r\n0\r\n\r\n`);
    expect(statuses(await ok.until((text) => text.includes('\r\n\r\n')))).toEqual([200]);
    ok.socket.destroy();
    for (const size of ['5'.padStart(17, '0'), 'f'.repeat(16), '1'.repeat(40)]) {
      const text = await refused(`GET /framing/a HTTP/1.1\r\n${host()}Transfer-Encoding: chunked\r\n\r\n${size}\r\nhello\r\n0\r\n\r\n`);
      expect(statuses(text), size).toEqual([400]);
    }
  });

  it('answers an aws-chunked size line of more than 16 hex digits 400, at that line', async () => {
    const body = `${'5'.padStart(21, '0')}\r\nhello\r\n0\r\n\r\n`;
    const text = await refused(
      `PUT /framing/aws-hex HTTP/1.1\r\n${host()}Content-Encoding: aws-chunked\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n` +
        `x-amz-decoded-content-length: 5\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(statuses(text)).toEqual([400]);
    expect(text).toContain('<Code>IncompleteBody</Code>');
    // The decoder refuses the line itself, without waiting for the data it announces.
    expect(() => new AwsChunkedDecoder(null).push(Buffer.from(`${'1'.repeat(17)}\r\n`), () => {})).toThrow(expect.objectContaining({ code: 'IncompleteBody' }));
  });
});

describe('bodies held to the length they declared', { timeout: 20_000 }, () => {
  let server: LocalS3;
  const host = () => `Host: ${server.host}\r\n`;
  const MiB = 1024 * 1024;
  /** What each attack sends past its declared length: far more than a socket's buffers take on loopback. */
  const EXCESS = 64 * MiB;

  beforeAll(async () => {
    server = await startLocalS3({ anonymous: true });
    const wire = new Wire(server.port);
    wire.send(`PUT /declared HTTP/1.1\r\n${host()}Content-Length: 0\r\n\r\n`);
    await wire.until((text) => text.includes('\r\n\r\n'));
    wire.socket.destroy();
  });
  afterAll(() => server.close());

  /** Floods a body after `head`, in chunks of `unit`; returns the answer, the bytes written and the server's count. */
  async function attack(path: string, head: string, unit: Buffer) {
    const wire = new Wire(server.port);
    wire.send(`PUT ${path} HTTP/1.1\r\n${host()}${head}\r\n`);
    const written = await wire.flood(unit, EXCESS);
    const text = await wire.until((answer) => answer.includes('</Error>'));
    const record = server.requests.find((request) => request.path === path)!;
    wire.socket.destroy();
    console.log(
      `${path}: the client wrote ${(written / MiB).toFixed(1)} MiB of ${EXCESS / MiB}, the server read ${(record.bytesIn / 1024).toFixed(0)} KiB of body`,
    );
    return { text, written, bytesIn: record.bytesIn, status: record.status };
  }

  it('stops a chunked body at the first byte past x-amz-decoded-content-length, 400, and stores nothing', async () => {
    const data = Buffer.alloc(64 * 1024, 0x61);
    const unit = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
    const { text, written, bytesIn } = await attack('/declared/http-chunked', 'Transfer-Encoding: chunked\r\nx-amz-decoded-content-length: 5\r\n', unit);
    expect(statuses(text)).toEqual([400]);
    expect(text).toMatch(/<Code>(IncompleteBody|EntityTooLarge)<\/Code>/);
    expect(bytesIn).toBeLessThan(1 * MiB);
    expect(written).toBeLessThan(EXCESS);
    expect((await raw(server.host, 'HEAD', '/declared/http-chunked', { anonymous: true })).status).toBe(404);
  });

  it('stops an aws-chunked body at the first byte past x-amz-decoded-content-length, not at its end', async () => {
    const data = Buffer.alloc(64 * 1024, 0x62);
    const unit = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
    const length = Math.ceil(EXCESS / unit.length) * unit.length + 5;
    const { text, written, bytesIn } = await attack(
      '/declared/aws-chunked',
      `Content-Encoding: aws-chunked\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nx-amz-decoded-content-length: 10\r\nContent-Length: ${length}\r\n`,
      unit,
    );
    expect(statuses(text)).toEqual([400]);
    expect(text).toContain('<Code>IncompleteBody</Code>');
    expect(bytesIn).toBeLessThan(1 * MiB);
    expect(written).toBeLessThan(EXCESS);
  });

  it('gives every body decoder its limit: past it is EntityTooLarge at the first byte, with no length declared', () => {
    const decoder = bodyDecoder({}, null, {}, 1000);
    decoder.push(Buffer.alloc(1000), () => {});
    expect(() => decoder.push(Buffer.alloc(1), () => {})).toThrow(expect.objectContaining({ code: 'EntityTooLarge' }));
    const chunked = bodyDecoder({ 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length': '5000' }, null, {}, 1000);
    expect(() => chunked.push(Buffer.from(`${(1001).toString(16)}\r\n${'x'.repeat(1001)}`), () => {})).toThrow(
      expect.objectContaining({ code: 'EntityTooLarge' }),
    );
  });
});

describe('signed-trailer bodies', { timeout: 15_000 }, () => {
  let server: LocalS3;

  beforeAll(async () => {
    server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    expect((await raw(server.host, 'PUT', '/trailers')).status).toBe(200);
  });
  afterAll(() => server.close());

  it('answers a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER body without its trailer signature 403', async () => {
    const data = Buffer.alloc(1000, 0x63);
    const trailer = { name: 'x-amz-checksum-crc32c', value: new Crc32c().update(data).digestBase64() };
    const ok = await raw(server.host, 'PUT', '/trailers/signed', { chunked: { data, chunkSize: 400, trailer } });
    expect(ok.status).toBe(200);
    // The signature line renamed, the body's length unchanged: a trailer section with no signature in it.
    const unsigned = await raw(server.host, 'PUT', '/trailers/unsigned', {
      chunked: {
        data,
        chunkSize: 400,
        trailer,
        tamper: (body) => Buffer.from(body.toString('latin1').replace('x-amz-trailer-signature', 'x-amz-trailer-signaturz'), 'latin1'),
      },
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.code).toBe('SignatureDoesNotMatch');
  });

  it('answers trailers on a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body 403, which signs none, and stores nothing', async () => {
    const data = Buffer.alloc(1000, 0x64);
    const checksum = new Crc32c().update(data).digestBase64();
    const amzDate = (date: Date) => date.toISOString().replace(/[-:]|\.\d{3}/g, '');
    /** A signed aws-chunked PUT of `data` whose trailer section, after its final chunk, is `trailers(last chunk signature)`. */
    async function put(path: string, trailers: (body: { key: Buffer; previous: string; date: string; scope: string }) => string) {
      const when = new Date();
      const scope = `${amzDate(when).slice(0, 8)}/us-east-1/s3/aws4_request`;
      const length = signedChunkedBody(data, 400, '0'.repeat(64), amzDate(when), scope).length;
      // Signatures have a fixed length: the trailers' length is known before the signature they chain from.
      const sample = trailers({ key: Buffer.alloc(32), previous: '0'.repeat(64), date: amzDate(when), scope });
      const headers: Record<string, string> = {
        host: server.host,
        'content-encoding': 'aws-chunked',
        'content-length': String(length + sample.length),
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-checksum-algorithm': 'CRC32C',
      };
      const signed = await signer().sign(new HttpRequest({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', path, headers }), { signingDate: when });
      const seed = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization!)![1]!;
      const chunks = signedChunkedBody(data, 400, seed, amzDate(when), scope);
      let key: Buffer = createHmac('sha256', `AWS4${SECRET_KEY}`).update(scope.slice(0, 8)).digest();
      for (const part of ['us-east-1', 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
      const previous = /0;chunk-signature=([0-9a-f]{64})\r\n\r\n$/.exec(chunks.toString('latin1'))![1]!;
      const body = Buffer.concat([chunks.subarray(0, -2), Buffer.from(trailers({ key, previous, date: amzDate(when), scope })), Buffer.from('\r\n')]);
      const response = await request(`http://${server.host}${path}`, { method: 'PUT', headers: signed.headers, body });
      const text = await response.body.text();
      return { status: response.statusCode, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? null };
    }
    const unsigned = await put('/trailers/payload-unsigned', () => `x-amz-checksum-crc32c:${checksum}\r\n`);
    expect(unsigned).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    // Even signed as a -TRAILER body's would be: the request declared a body without trailers.
    const signed = await put('/trailers/payload-signed', ({ key, previous, date, scope }) => {
      const line = `x-amz-checksum-crc32c:${checksum}`;
      const toSign = ['AWS4-HMAC-SHA256-TRAILER', date, scope, previous, createHash('sha256').update(`${line}\n`).digest('hex')].join('\n');
      return `${line}\r\nx-amz-trailer-signature:${createHmac('sha256', key).update(toSign).digest('hex')}\r\n`;
    });
    expect(signed).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    for (const path of ['/trailers/payload-unsigned', '/trailers/payload-signed']) expect((await raw(server.host, 'HEAD', path)).status).toBe(404);
    // The same body without trailers is served.
    expect((await raw(server.host, 'PUT', '/trailers/payload', { chunked: { data, chunkSize: 400 } })).status).toBe(200);
  });
});
