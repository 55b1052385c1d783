/**
 * A path whose bucket or key does not decode (malformed percent-encoding, or bytes that are not
 * UTF-8) is S3's 400 InvalidURI, never a request without a key: `DELETE /victim/%E0%A4%A` must
 * not delete the bucket `victim`, nor `PUT /newbkt/%zz` create the bucket `newbkt`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../src/local/index.js';
import { route } from '../../src/local/router.js';
import { raw } from '../helpers/raw.js';
import { ACCESS_KEY, SECRET_KEY } from '../helpers/servers.js';

let server: LocalS3;
const victim = 'victim';
const MALFORMED = ['%E0%A4%A', '%zz', '%', '%FF', '%C0%AF', '%ED%A0%80', 'ok/%E0%A4%A'];

beforeAll(async () => {
  server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  expect((await raw(server.host, 'PUT', `/${victim}`)).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
});

async function expectInvalidUri(method: string, path: string, hostHeader?: string) {
  const answer = await raw(server.host, method, path, { hostHeader });
  // A HEAD answer has no body to name the code in.
  if (method === 'HEAD') return expect(answer.status, `${method} ${path}`).toBe(400);
  expect([answer.status, answer.code], `${method} ${path}`).toEqual([400, 'InvalidURI']);
  expect(answer.body.toString()).toContain('<Message>Couldn&apos;t parse the specified URI.</Message>');
}

describe('a key that does not decode', () => {
  it('is InvalidURI for every method, path style, and the bucket survives', async () => {
    for (const key of MALFORMED) {
      for (const method of ['DELETE', 'PUT', 'GET', 'HEAD', 'POST']) await expectInvalidUri(method, `/${victim}/${key}`);
    }
    expect((await raw(server.host, 'HEAD', `/${victim}`)).status).toBe(200);
  });

  it('creates no bucket', async () => {
    await expectInvalidUri('PUT', '/newbkt/%zz');
    await expectInvalidUri('PUT', '/newbkt/%E0%A4%A');
    expect((await raw(server.host, 'HEAD', '/newbkt')).status).toBe(404);
  });

  it('is InvalidURI virtual-host style too, and the bucket survives', async () => {
    for (const key of MALFORMED) await expectInvalidUri('DELETE', `/${key}`, `${victim}.localhost:${server.port}`);
    expect((await raw(server.host, 'HEAD', `/${victim}`)).status).toBe(200);
  });
});

describe('a bucket that does not decode', () => {
  it('is InvalidURI, not a list of all buckets or another operation', async () => {
    for (const bucket of ['%zz', '%E0%A4%A', '%FF']) {
      await expectInvalidUri('GET', `/${bucket}`);
      await expectInvalidUri('PUT', `/${bucket}`);
      await expectInvalidUri('GET', `/${bucket}/key`);
    }
  });
});

describe('route', () => {
  it('names the failure InvalidURI rather than dropping the key', () => {
    for (const path of ['/victim/%E0%A4%A', '/%zz', '/%zz/k', '/victim/a/%FF']) {
      expect(route('DELETE', '127.0.0.1:1', path, new URLSearchParams(), false).operation, path).toBe('InvalidURI');
    }
    expect(route('DELETE', 'victim.localhost:1', '/%E0%A4%A', new URLSearchParams(), false).operation).toBe('InvalidURI');
    // Sub-resources do not hide it.
    expect(route('GET', '127.0.0.1:1', '/victim/%zz', new URLSearchParams('acl'), false).operation).toBe('InvalidURI');
  });

  it('still decodes well-formed keys, UTF-8 included', async () => {
    expect(route('PUT', '127.0.0.1:1', '/victim/a%20b/%C3%A9', new URLSearchParams(), false)).toEqual({
      operation: 'PutObject',
      bucket: 'victim',
      key: 'a b/é',
    });
    expect((await raw(server.host, 'PUT', `/${victim}/caf%C3%A9%25`, { body: 'ok' })).status).toBe(200);
    const listed = await raw(server.host, 'GET', `/${victim}?list-type=2`);
    expect(listed.body.toString()).toContain('<Key>café%</Key>');
  });
});
