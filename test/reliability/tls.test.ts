import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3RequestTlsMode, S3RequestType, TlsError } from '../../src/index.js';
import { startLocalS3, type LocalS3 } from '../../src/local/index.js';
import { httpRequest, newClient, run } from '../helpers/client.js';
import { ACCESS_KEY, SECRET_KEY, makeBuffer, sha256 } from '../helpers/servers.js';

const cert = readFileSync(new URL('../fixtures/tls/server.crt', import.meta.url));
const key = readFileSync(new URL('../fixtures/tls/server.key', import.meta.url));
const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
let https: LocalS3;
let plain: LocalS3;

beforeAll(async () => {
  https = await startLocalS3({ credentials, tls: { cert, key } });
  plain = await startLocalS3({ credentials });
});

afterAll(async () => {
  await https?.close();
  await plain?.close();
});

const createBucket = (host: string) => ({ type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(host, 'PUT', '/tls') });

describe('TLS', () => {
  it('verifies certificates by default: a self-signed server is refused with a TlsError, at once, without retries', async () => {
    const client = newClient({ tlsMode: S3RequestTlsMode.ENABLED });
    try {
      const started = Date.now();
      const result = await run(client, createBucket(https.host));
      expect(result.error).toBeInstanceOf(TlsError);
      expect(result.error).toMatchObject({ code: 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE' });
      expect(String((result.error as Error).message)).toMatch(/certificate/i);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(https.requests).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('trusts a server whose CA is given, and moves bytes over TLS', async () => {
    const client = newClient({ tlsMode: S3RequestTlsMode.ENABLED, tlsConnectionOptions: { ca: cert } });
    try {
      expect((await run(client, createBucket(https.host))).error).toBeNull();
      const data = makeBuffer(9 * 1024 * 1024 + 1);
      expect((await run(client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(https.host, 'PUT', '/tls/object', {}, data) })).error).toBeNull();
      const got = await run(client, { type: S3RequestType.GET_OBJECT, request: httpRequest(https.host, 'GET', '/tls/object') });
      expect(sha256(got.body)).toBe(sha256(data));
    } finally {
      await client.close();
    }
  });

  it('skips verification only when verifyPeer is false, said explicitly', async () => {
    const client = newClient({ tlsMode: S3RequestTlsMode.ENABLED, tlsConnectionOptions: { verifyPeer: false } });
    try {
      expect(
        (await run(client, { type: S3RequestType.DEFAULT, operationName: 'HeadBucket', request: httpRequest(https.host, 'HEAD', '/tls') })).error,
      ).toBeNull();
    } finally {
      await client.close();
    }
    const defaults = newClient({ tlsMode: S3RequestTlsMode.ENABLED, tlsConnectionOptions: {} });
    try {
      expect(
        (await run(defaults, { type: S3RequestType.DEFAULT, operationName: 'HeadBucket', request: httpRequest(https.host, 'HEAD', '/tls') })).error,
      ).toBeInstanceOf(TlsError);
    } finally {
      await defaults.close();
    }
  });

  it('never falls back to plain HTTP: TLS to a plain server fails and the server sees no request', async () => {
    const client = newClient({ tlsMode: S3RequestTlsMode.ENABLED, tlsConnectionOptions: { verifyPeer: false } });
    try {
      const result = await run(client, createBucket(plain.host));
      expect(result.error).toBeInstanceOf(TlsError);
      expect(plain.requests).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
