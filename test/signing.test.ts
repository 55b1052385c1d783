import { describe, expect, it } from 'vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest as SmithyHttpRequest } from '@smithy/protocol-http';
import { RequestSigner } from '../src/auth/signing.js';
import { NodeSha256 } from './helpers/raw.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'token/with+chars==' };
const when = new Date('2026-11-25T12:34:56Z');

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

/** The AWS SDK's signer is the oracle: s3tx must produce the same Authorization header for any request. */
async function oracle(method: string, path: string, query: Record<string, string>, headers: Record<string, string>, withToken: boolean): Promise<string> {
  const signer = new SignatureV4({
    service: 's3',
    region: 'eu-west-3',
    credentials: withToken ? credentials : { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign(new SmithyHttpRequest({ method, protocol: 'https:', hostname: 'h', path, query, headers: { ...headers } }), {
    signingDate: when,
  });
  return signed.headers.authorization!;
}

describe('SigV4 signer', () => {
  it('signs exactly as the AWS SDK does, over random paths, queries and headers', async () => {
    const random = seeded(7);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
    const texts = ['a', 'key with space', 'ünï/cødé', "!'()*", '~._-', 'x=y&z', '+plus', '%41', ''];
    for (let i = 0; i < 60; i++) {
      const withToken = random() < 0.5;
      const path = '/bucket/' + Array.from({ length: 1 + Math.floor(random() * 3) }, () => encodeURIComponent(pick(texts))).join('/');
      const query: Record<string, string> = {};
      for (let q = Math.floor(random() * 4); q > 0; q--) query[pick(['partNumber', 'uploadId', 'versionId', 'list-type', 'prefix', 'a b'])] = pick(texts);
      const headers: Record<string, string> = { host: 'bucket.s3.eu-west-3.amazonaws.com', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
      if (random() < 0.5) headers['content-length'] = String(Math.floor(random() * 1e9));
      if (random() < 0.5) headers['x-amz-meta-note'] = '  folded    spaces  ';
      if (random() < 0.5) headers['user-agent'] = 's3tx/test';
      if (random() < 0.5) headers.range = 'bytes=0-99';
      const s3tx = new RequestSigner({
        region: 'eu-west-3',
        service: 's3',
        credentialProvider: async () => (withToken ? credentials : { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }),
        signedBodyValue: 'UNSIGNED-PAYLOAD',
      });
      const method = pick(['GET', 'PUT', 'POST', 'HEAD', 'DELETE']);
      const signed = await s3tx.sign({ method, path, query, headers }, when);
      expect(signed.authorization, `${method} ${path} ${JSON.stringify(query)}`).toBe(await oracle(method, path, query, headers, withToken));
      expect(signed['x-amz-date']).toBe('20261125T123456Z');
      expect(signed['x-amz-security-token']).toBe(withToken ? credentials.sessionToken : undefined);
    }
  });

  it('shares derived keys between signers, but derives anew for another day, scope or secret', async () => {
    const shared = { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey };
    const rotated = { accessKeyId: credentials.accessKeyId, secretAccessKey: 'another/secret+key' };
    const cases = [
      { creds: shared, region: 'eu-west-3', date: when },
      { creds: shared, region: 'eu-west-3', date: when },
      { creds: shared, region: 'eu-west-3', date: new Date('2026-11-26T00:00:01Z') },
      { creds: shared, region: 'us-east-2', date: when },
      { creds: rotated, region: 'eu-west-3', date: when },
    ];
    const headers = { host: 'h', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    for (const { creds, region, date } of cases) {
      // A signer per request, as the client makes them; the credentials object is the one its provider caches.
      const s3tx = new RequestSigner({ region, service: 's3', credentialProvider: async () => creds, signedBodyValue: 'UNSIGNED-PAYLOAD' });
      const signed = await s3tx.sign({ method: 'GET', path: '/b/k', query: {}, headers }, date);
      const sdk = new SignatureV4({ service: 's3', region, credentials: creds, sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
      const expected = await sdk.sign(new SmithyHttpRequest({ method: 'GET', protocol: 'https:', hostname: 'h', path: '/b/k', headers: { ...headers } }), {
        signingDate: date,
      });
      expect(signed.authorization, `${region} ${date.toISOString()} ${creds.secretAccessKey === rotated.secretAccessKey ? 'rotated' : ''}`).toBe(
        expected.headers.authorization,
      );
    }
  });

  it('keeps the secret out of what it returns and of inspection', async () => {
    const { inspect } = await import('node:util');
    const s3tx = new RequestSigner({ region: 'us-east-1', service: 's3', credentialProvider: async () => credentials, signedBodyValue: 'UNSIGNED-PAYLOAD' });
    const signed = await s3tx.sign({ method: 'GET', path: '/b/k', query: {}, headers: { host: 'h' } }, when);
    expect(JSON.stringify(signed)).not.toContain(credentials.secretAccessKey);
    expect(inspect(s3tx, { depth: 10, showHidden: true })).not.toContain(credentials.secretAccessKey);
  });
});
