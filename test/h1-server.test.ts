import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { Wire } from './helpers/wire.js';

// A broken server leaves a wire waiting: fail in seconds, not at the suite's two minutes.
describe("the local server's HTTP/1.1", { timeout: 10_000 }, () => {
  let server: LocalS3;
  const host = () => `Host: ${server.host}\r\n`;

  beforeAll(async () => {
    server = await startLocalS3({ anonymous: true });
    const wire = new Wire(server.port);
    wire.send(`PUT /wire HTTP/1.1\r\n${host()}Content-Length: 0\r\n\r\n`);
    await wire.until((text) => text.includes('\r\n\r\n'));
    wire.socket.destroy();
  });
  afterAll(() => server.close());

  it('answers requests sent back to back on one connection in order, a body between them', async () => {
    const wire = new Wire(server.port);
    wire.send(
      `PUT /wire/a HTTP/1.1\r\n${host()}Content-Length: 5\r\n\r\nhello` +
        `GET /wire/a HTTP/1.1\r\n${host()}\r\n` +
        `HEAD /wire/a HTTP/1.1\r\n${host()}\r\n` +
        `GET /wire/missing HTTP/1.1\r\n${host()}\r\n`,
    );
    const text = await wire.until((answer) => answer.includes('NoSuchKey'));
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => match[1]);
    expect(statuses).toEqual(['200', '200', '200', '404']);
    // The GET's body, and none after the HEAD: the 404 follows the HEAD's head directly.
    expect(text).toMatch(/\r\n\r\nhelloHTTP\/1\.1 200/);
    expect(text).toMatch(/content-length: 5\r\n(?:[^\r]+\r\n)*\r\nHTTP\/1\.1 404/i);
    expect(wire.closed).toBe(false);
    wire.socket.destroy();
    expect(new Set(server.requests.slice(-4).map((request) => request.connection)).size).toBe(1);
  });

  it('sends 100 Continue before the body when asked, and reads a chunked body', async () => {
    const wire = new Wire(server.port);
    wire.send(`POST /wire?delete HTTP/1.1\r\n${host()}Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n`);
    expect(await wire.until((text) => text.includes('\r\n\r\n'))).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const xml = '<Delete><Object><Key>gone</Key></Object></Delete>';
    wire.send(`5;ext=1\r\n${xml.slice(0, 5)}\r\n${(xml.length - 5).toString(16)}\r\n${xml.slice(5)}\r\n0\r\n\r\n`);
    expect(await wire.until((text) => text.includes('</DeleteResult>'))).toContain('<Deleted><Key>gone</Key></Deleted>');
    wire.socket.destroy();
  });

  it('closes the connection after a response that says so, and after a request that asks', async () => {
    const wire = new Wire(server.port);
    wire.send(`GET /wire/a HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
    const text = await wire.until(() => false);
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toMatch(/connection: close/i);
    expect(wire.closed).toBe(true);
  });

  it('refuses bytes that are not HTTP at once, and a head that never ends at 64 KiB', async () => {
    const tls = new Wire(server.port);
    tls.send(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    expect(await tls.until(() => false)).toMatch(/^HTTP\/1\.1 400/);
    const long = new Wire(server.port);
    long.send(`GET /wire/a HTTP/1.1\r\nx-long: ${'a'.repeat(70 * 1024)}`);
    expect(await long.until(() => false)).toMatch(/^HTTP\/1\.1 431/);
  });

  it('drops a connection whose chunked body breaks the coding, and serves the next one', async () => {
    const wire = new Wire(server.port);
    wire.send(`PUT /wire/c HTTP/1.1\r\n${host()}Transfer-Encoding: chunked\r\n\r\nzz\r\n`);
    await wire.until(() => false);
    expect(wire.closed).toBe(true);
    const next = new Wire(server.port);
    next.send(`GET /wire/a HTTP/1.1\r\n${host()}\r\n`);
    expect(await next.until((text) => text.endsWith('hello'))).toMatch(/^HTTP\/1\.1 200/);
    next.socket.destroy();
  });
});
