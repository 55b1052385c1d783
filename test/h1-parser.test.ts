import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChunkedDecoder, ProtocolError, bodyFraming, parseByteCount, parseResponseHead } from '../src/http/h1-parser.js';
import { idleTimeout } from '../src/http/h1-connection.js';

const head = (text: string) => parseResponseHead(Buffer.from(text, 'latin1'));

describe('parseResponseHead', () => {
  it('waits for the blank line, then reads status, headers (lower case, repeats as arrays) and the head length', () => {
    expect(head('HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\n')).toBeNull();
    const parsed = head('HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nX-Amz-Meta-A:  one \r\nx-amz-meta-a: two\r\nx-amz-meta-a: three\r\n\r\nhello');
    expect(parsed).toEqual({
      statusCode: 206,
      headers: { 'content-length': '5', 'x-amz-meta-a': ['one', 'two', 'three'] },
      length: 'HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nX-Amz-Meta-A:  one \r\nx-amz-meta-a: two\r\nx-amz-meta-a: three\r\n\r\n'.length,
      keepAlive: true,
    });
  });

  it('keeps HTTP/1.1 connections alive unless told to close, and HTTP/1.0 ones only when told to keep them', () => {
    expect(head('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n')!.keepAlive).toBe(false);
    expect(head('HTTP/1.0 200 OK\r\n\r\n')!.keepAlive).toBe(false);
    expect(head('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n')!.keepAlive).toBe(true);
  });

  it('refuses what is not HTTP/1.x', () => {
    expect(() => head('SSH-2.0-OpenSSH\r\n\r\n')).toThrow(ProtocolError);
    expect(() => head('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n')).toThrow(/malformed header line/);
    expect(() => head('HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n')).toThrow(ProtocolError);
  });
});

describe('bodyFraming', () => {
  const framing = (method: string, statusCode: number, headers: Record<string, string>) => bodyFraming(method, { statusCode, headers });

  it('gives HEAD, 204 and 304 answers no body whatever their headers say', () => {
    expect(framing('HEAD', 200, { 'content-length': '100' })).toEqual({ kind: 'none' });
    expect(framing('GET', 204, {})).toEqual({ kind: 'none' });
    expect(framing('GET', 304, { 'content-length': '7' })).toEqual({ kind: 'none' });
  });

  it('prefers chunked coding to a length, and reads to the close without either', () => {
    expect(framing('GET', 200, { 'transfer-encoding': 'chunked', 'content-length': '3' })).toEqual({ kind: 'chunked' });
    expect(framing('GET', 200, { 'transfer-encoding': 'gzip' })).toEqual({ kind: 'close' });
    expect(framing('GET', 200, {})).toEqual({ kind: 'close' });
    expect(framing('GET', 206, { 'content-length': '8388608' })).toEqual({ kind: 'length', length: 8388608 });
    expect(framing('GET', 200, { 'content-length': '4, 4' })).toEqual({ kind: 'length', length: 4 });
  });

  it('refuses a length that is not one non-negative integer', () => {
    expect(() => framing('GET', 200, { 'content-length': '-1' })).toThrow(/invalid Content-Length/);
    expect(() => framing('GET', 200, { 'content-length': '4, 5' })).toThrow(ProtocolError);
    expect(() => framing('GET', 200, { 'content-length': '1e3' })).toThrow(ProtocolError);
  });
});

describe('ChunkedDecoder', () => {
  function encode(body: Buffer, sizes: number[]): Buffer {
    const pieces: Buffer[] = [];
    let at = 0;
    for (const size of sizes) {
      pieces.push(Buffer.from(`${size.toString(16)};ext=1\r\n`), body.subarray(at, at + size), Buffer.from('\r\n'));
      at += size;
    }
    pieces.push(Buffer.from('0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n'));
    return Buffer.concat(pieces);
  }

  it('decodes a body split at every kind of point, trailers included, and says where the body ended', () => {
    const body = randomBytes(50_000);
    const wire = Buffer.concat([encode(body, [1, 20_000, 9_999, 20_000]), Buffer.from('NEXT')]);
    for (let trial = 0; trial < 50; trial++) {
      const decoder = new ChunkedDecoder();
      const out: Buffer[] = [];
      let at = 0;
      let used = 0;
      while (!decoder.done) {
        const step = 1 + Math.floor(Math.random() * (trial < 10 ? 3 : 7000));
        const piece = wire.subarray(at, at + step);
        used = decoder.feed(piece, (chunk) => out.push(Buffer.from(chunk)));
        at += used;
      }
      expect(Buffer.concat(out).equals(body)).toBe(true);
      expect(wire.subarray(at).toString()).toBe('NEXT');
    }
  });

  it('refuses a bad size line and a chunk longer than its size', () => {
    expect(() => new ChunkedDecoder().feed(Buffer.from('zz\r\n'), () => {})).toThrow(/invalid chunk size/);
    expect(() => new ChunkedDecoder().feed(Buffer.from('2\r\nabc\r\n'), () => {})).toThrow(/longer than its size/);
    expect(() => new ChunkedDecoder().feed(Buffer.alloc(9000, 0x31), () => {})).toThrow(/longer than 8192 bytes/);
  });
});

describe('idleTimeout', () => {
  it('keeps an idle connection a second less than the server says, at most 30 s', () => {
    expect(idleTimeout('timeout=5')).toBe(4000);
    expect(idleTimeout('timeout=1, max=100')).toBe(1000);
    expect(idleTimeout('timeout=600')).toBe(30_000);
    expect(idleTimeout(undefined)).toBe(30_000);
  });
});

describe('parseByteCount', () => {
  it('parses a Content-Length only when it is digits and exactly representable', () => {
    expect(parseByteCount('0')).toBe(0);
    expect(parseByteCount('5368709120')).toBe(5 * 1024 ** 3);
    expect(parseByteCount('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const text of ['9007199254740992', '9007199254740993', '99999999999999999', '1e3', '0x10', '12.0', '-1', '', ' 1', undefined]) {
      expect(parseByteCount(text), String(text)).toBeNull();
    }
  });
});
