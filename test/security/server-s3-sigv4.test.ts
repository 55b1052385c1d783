/**
 * SigV4 rules as S3 enforces them, against the local server: the presign lifetime, a presign
 * dated in the future, and the credential scope (its date, region and service). Requests are
 * signed here from AWS's specification (checked against the AWS SDK's signer first), because
 * the SDK refuses to sign most of what these tests must send.
 */
import { createHash, createHmac } from 'node:crypto';
import { request } from 'undici';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../src/local/index.js';
import { handle, type OperationContext } from '../../src/local/operations/index.js';
import { SessionRegistry } from '../../src/local/s3express.js';
import { S3Error } from '../../src/local/s3-error.js';
import { DEFAULT_REGION, verifySignature } from '../../src/local/sigv4.js';
import { MemoryStorage } from '../../src/local/storage.js';
import { NodeSha256, raw, signer } from '../helpers/raw.js';
import { ACCESS_KEY, SECRET_KEY } from '../helpers/servers.js';

let server: LocalS3;
const bucket = 'sigv4-rules';
const key = 'object';

beforeAll(async () => {
  server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  expect((await raw(server.host, 'PUT', `/${bucket}`)).status).toBe(200);
  expect((await raw(server.host, 'PUT', `/${bucket}/${key}`, { body: 'secret body' })).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
});

const DAY = 24 * 3600 * 1000;

/** `YYYYMMDDTHHMMSSZ`. */
function amzDate(time: number): string {
  return new Date(time)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** RFC 3986 encoding, as SigV4 canonicalizes query names and values. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface Scope {
  /** The request's X-Amz-Date. */
  date: string;
  /** The credential scope's date; the request's day by default. */
  scopeDate?: string;
  region?: string;
  service?: string;
}

function signature(scope: Required<Scope>, canonical: string): string {
  let signing: Buffer = createHmac('sha256', `AWS4${SECRET_KEY}`).update(scope.scopeDate).digest();
  for (const part of [scope.region, scope.service, 'aws4_request']) signing = createHmac('sha256', signing).update(part).digest();
  const toSign = ['AWS4-HMAC-SHA256', scope.date, `${scope.scopeDate}/${scope.region}/${scope.service}/aws4_request`, sha256(canonical)].join('\n');
  return createHmac('sha256', signing).update(toSign).digest('hex');
}

function fill(scope: Scope): Required<Scope> {
  return { scopeDate: scope.date.slice(0, 8), region: 'us-east-1', service: 's3', ...scope };
}

/** A presigned GET of the test object, signed over whatever scope and X-Amz-Expires it is given (and any `extra` parameters). */
function presigned(scope: Scope, expires: string, extra: Record<string, string> = {}): string {
  const full = fill(scope);
  const path = `/${bucket}/${key}`;
  const params: Record<string, string> = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${ACCESS_KEY}/${full.scopeDate}/${full.region}/${full.service}/aws4_request`,
    'X-Amz-Date': full.date,
    'X-Amz-Expires': expires,
    'X-Amz-SignedHeaders': 'host',
    ...extra,
  };
  const query = Object.entries(params)
    .map(([name, value]) => `${encode(name)}=${encode(value)}`)
    .sort()
    .join('&');
  const canonical = ['GET', path, query, `host:${server.host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  return `http://${server.host}${path}?${query}&X-Amz-Signature=${signature(full, canonical)}`;
}

/** Authorization-header signing of a GET of the test object over whatever scope it is given. */
function signedHeaders(scope: Scope): Record<string, string> {
  const full = fill(scope);
  const headers = { host: server.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-date': full.date };
  const names = Object.keys(headers).sort().join(';');
  const lines = Object.entries(headers)
    .sort()
    .map(([name, value]) => `${name}:${value}\n`)
    .join('');
  const canonical = ['GET', `/${bucket}/${key}`, '', lines, names, 'UNSIGNED-PAYLOAD'].join('\n');
  const credential = `${ACCESS_KEY}/${full.scopeDate}/${full.region}/${full.service}/aws4_request`;
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${names}, Signature=${signature(full, canonical)}` };
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await request(url, { headers });
  const body = await response.body.text();
  return {
    status: response.statusCode,
    code: /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? null,
    message: /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? null,
    body,
  };
}

const unescape = (text: string | null) => text?.replace(/&quot;/g, '"').replace(/&apos;/g, "'");

describe('the test signer', () => {
  it('signs as the AWS SDK does, presigned and in the header', async () => {
    const when = new Date(Math.floor(Date.now() / 1000) * 1000);
    const sdk = await signer().presign(
      new HttpRequest({
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: `/${bucket}/${key}`,
        headers: { host: server.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      }),
      { expiresIn: 300, signingDate: when },
    );
    // The SDK's signer moves x-amz-content-sha256 into the query.
    const ours = new URL(presigned({ date: amzDate(when.getTime()) }, '300', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }));
    expect(ours.searchParams.get('X-Amz-Signature')).toBe(sdk.query?.['X-Amz-Signature']);

    const headers = { host: server.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    const signed = await signer().sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: `/${bucket}/${key}`, headers }), {
      signingDate: when,
    });
    expect(signedHeaders({ date: amzDate(when.getTime()) }).authorization).toBe(signed.headers.authorization);
  });
});

describe('presigned URL lifetime', () => {
  const now = () => amzDate(Date.now());

  it('serves X-Amz-Expires of 1 to 604800 seconds', async () => {
    for (const expires of ['1', '604800']) {
      const answer = await get(presigned({ date: now() }, expires));
      expect([answer.status, answer.body], expires).toEqual([200, 'secret body']);
    }
  });

  it('refuses a lifetime over a week with AuthorizationQueryParametersError', async () => {
    const answer = await get(presigned({ date: now() }, '604801'));
    expect([answer.status, answer.code, answer.message]).toEqual([
      400,
      'AuthorizationQueryParametersError',
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    ]);
  });

  it('refuses a negative or non-numeric lifetime with AuthorizationQueryParametersError', async () => {
    const negative = await get(presigned({ date: now() }, '-1'));
    expect([negative.status, negative.code, negative.message]).toEqual([400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be non-negative']);
    for (const expires of ['abc', '1.5', '']) {
      const answer = await get(presigned({ date: now() }, expires));
      expect([answer.status, answer.code, answer.message], expires).toEqual([400, 'AuthorizationQueryParametersError', 'X-Amz-Expires should be a number']);
    }
  });

  it('takes a lifetime of zero as already expired, as S3 does', async () => {
    const answer = await get(presigned({ date: amzDate(Date.now() - 2000) }, '0'));
    expect([answer.status, answer.code, answer.message]).toEqual([403, 'AccessDenied', 'Request has expired']);
  });

  it('refuses an X-Amz-Date that is not in the ISO 8601 long format', async () => {
    const answer = await get(presigned({ date: '2026-01-01T00:00:00Z', scopeDate: '20260101' }, '300'));
    expect([answer.status, answer.code, unescape(answer.message)]).toEqual([
      400,
      'AuthorizationQueryParametersError',
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`,
    ]);
  });

  it('refuses a URL dated beyond the skew allowance in the future, and serves one within it', async () => {
    const later = await get(presigned({ date: amzDate(Date.now() + 3600_000) }, '7200'));
    expect([later.status, later.code, later.message]).toEqual([403, 'AccessDenied', 'Request is not yet valid']);
    const soon = await get(presigned({ date: amzDate(Date.now() + 5 * 60_000) }, '600'));
    expect([soon.status, soon.body]).toEqual([200, 'secret body']);
  });
});

describe('credential scope', () => {
  const now = () => amzDate(Date.now());
  const yesterday = () => amzDate(Date.now() - DAY).slice(0, 8);

  it('refuses a header scope whose date is not the day of X-Amz-Date', async () => {
    const answer = await get(`http://${server.host}/${bucket}/${key}`, signedHeaders({ date: now(), scopeDate: yesterday() }));
    expect([answer.status, answer.code, answer.message]).toEqual([
      400,
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.',
    ]);
  });

  it('refuses a presigned scope whose date is not the day of X-Amz-Date', async () => {
    const date = now();
    const answer = await get(presigned({ date, scopeDate: yesterday() }, '300'));
    expect([answer.status, answer.code, unescape(answer.message)]).toEqual([
      400,
      'AuthorizationQueryParametersError',
      `Invalid credential date "${yesterday()}". This date is not the same as X-Amz-Date: "${date.slice(0, 8)}".`,
    ]);
  });

  it("refuses a header scope naming another region, naming the server's", async () => {
    const answer = await get(`http://${server.host}/${bucket}/${key}`, signedHeaders({ date: now(), region: 'eu-west-1' }));
    expect([answer.status, answer.code, unescape(answer.message)]).toEqual([
      400,
      'AuthorizationHeaderMalformed',
      "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'",
    ]);
    expect(answer.body).toContain('<Region>us-east-1</Region>');
  });

  it("refuses a presigned scope naming another region, naming the server's", async () => {
    const answer = await get(presigned({ date: now(), region: 'eu-west-1' }, '300'));
    expect([answer.status, answer.code, unescape(answer.message)]).toEqual([
      400,
      'AuthorizationQueryParametersError',
      "Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; expecting 'us-east-1'",
    ]);
    expect(answer.body).toContain('<Region>us-east-1</Region>');
  });

  it('refuses a scope naming a service other than s3, in the header and presigned', async () => {
    const header = await get(`http://${server.host}/${bucket}/${key}`, signedHeaders({ date: now(), service: 'iam' }));
    expect([header.status, header.code, unescape(header.message)]).toEqual([
      400,
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; incorrect service "iam". This endpoint belongs to "s3".',
    ]);
    const query = await get(presigned({ date: now(), service: 's3express' }, '300'));
    expect([query.status, query.code, unescape(query.message)]).toEqual([
      400,
      'AuthorizationQueryParametersError',
      'Error parsing the X-Amz-Credential parameter; incorrect service "s3express". This endpoint belongs to "s3".',
    ]);
  });

  it('still serves a well-formed scope, in the header and presigned', async () => {
    const header = await get(`http://${server.host}/${bucket}/${key}`, signedHeaders({ date: now() }));
    expect([header.status, header.body]).toEqual([200, 'secret body']);
    const query = await get(presigned({ date: now() }, '300'));
    expect([query.status, query.body]).toEqual([200, 'secret body']);
  });
});

describe("the server's region", () => {
  async function signedFor(region: string) {
    const sdk = new SignatureV4({
      service: 's3',
      region,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      sha256: NodeSha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
    const headers = { host: 'localhost', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    const signed = await sdk.sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: 'localhost', path: '/b/k', headers }));
    return { method: 'GET', url: '/b/k', headers: signed.headers };
  }

  function refusal(run: () => unknown): S3Error {
    try {
      run();
    } catch (error) {
      if (error instanceof S3Error) return error;
      throw error;
    }
    throw new Error('verifySignature accepted the request');
  }

  it('is us-east-1 unless verifySignature is told another', async () => {
    const east = await signedFor('us-east-1');
    const west = await signedFor('eu-west-1');
    expect(verifySignature(east, () => SECRET_KEY)?.scope).toMatch(/\/us-east-1\/s3\/aws4_request$/);
    expect(verifySignature(west, () => SECRET_KEY, { region: 'eu-west-1' })?.scope).toMatch(/\/eu-west-1\/s3\/aws4_request$/);
    const wrong = refusal(() => verifySignature(east, () => SECRET_KEY, { region: 'eu-west-1' }));
    expect([wrong.code, wrong.message, wrong.detail.Region]).toEqual([
      'AuthorizationHeaderMalformed',
      "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
      'eu-west-1',
    ]);
  });

  it('is what HeadBucket and GetBucketLocation answer', async () => {
    const storage = new MemoryStorage();
    await storage.createBucket('located');
    const answers: Array<{ headers: Record<string, string | number>; body: unknown }> = [];
    const context = (operation: string, region = DEFAULT_REGION) =>
      ({
        route: { operation, bucket: 'located', key: null },
        method: operation === 'HeadBucket' ? 'HEAD' : 'GET',
        query: new URLSearchParams(operation === 'HeadBucket' ? '' : 'location'),
        headers: {},
        storage,
        sessions: new SessionRegistry(),
        sink: false,
        fault: null,
        trailers: {},
        region,
        scheme: 'http',
        body: () => (async function* () {})(),
        pipeBody: async () => 0,
        respond: async (_status: number, headers: Record<string, string | number>, body: unknown) => {
          answers.push({ headers, body });
        },
      }) as OperationContext;
    await handle(context('HeadBucket'));
    await handle(context('HeadBucket', 'eu-west-1'));
    await handle(context('GetBucketLocation'));
    await handle(context('GetBucketLocation', 'eu-west-1'));
    expect(answers.slice(0, 2).map((answer) => answer.headers['x-amz-bucket-region'])).toEqual(['us-east-1', 'eu-west-1']);
    // S3 names no location constraint for us-east-1, and the region itself for any other.
    expect(String(answers[2]!.body)).toMatch(/<LocationConstraint xmlns="[^"]+"\/>$/);
    expect(String(answers[3]!.body)).toMatch(/<LocationConstraint xmlns="[^"]+">eu-west-1<\/LocationConstraint>$/);
  });
});

describe('a server started for another region', () => {
  it('answers for that region: the AWS SDK signing for it is served, signing for us-east-1 is AuthorizationHeaderMalformed', async () => {
    const { S3Client: SdkClient, CreateBucketCommand, HeadBucketCommand, ListBucketsCommand } = await import('@aws-sdk/client-s3');
    const regional = await startLocalS3({ region: 'eu-west-1', credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    const sdk = (region: string) =>
      new SdkClient({ region, endpoint: regional.endpoint, forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    const right = sdk('eu-west-1');
    const wrong = sdk('us-east-1');
    try {
      await right.send(new CreateBucketCommand({ Bucket: bucket }));
      expect((await right.send(new HeadBucketCommand({ Bucket: bucket }))).BucketRegion).toBe('eu-west-1');
      const refused = await wrong.send(new ListBucketsCommand({})).catch((error: { name?: string; $metadata?: { httpStatusCode?: number } }) => error);
      expect((refused as { name?: string }).name).toBe('AuthorizationHeaderMalformed');
      expect((refused as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(400);
      await expect(startLocalS3({ region: 'Not A Region' })).rejects.toThrow(/region/);
    } finally {
      right.destroy();
      wrong.destroy();
      await regional.close();
    }
  });
});

describe('the request log of a presigned request', () => {
  it('keeps neither the session token nor the signature of a presigned URL, in any case of their names', async () => {
    const token = `session-token-${'t'.repeat(40)}`;
    const url = presigned({ date: amzDate(Date.now()) }, '300', { 'X-Amz-Security-Token': token });
    const signed = new URL(url).searchParams.get('X-Amz-Signature')!;
    server.resetRequests();
    expect((await get(url)).status).toBe(200);
    // Unsigned, and with its names in another case: refused, and logged as sent, the secrets left out all the same.
    await get(`http://${server.host}/${bucket}/${key}?x-amz-security-token=${token}&X-AMZ-SIGNATURE=${signed}`);
    const log = JSON.stringify(server.requests);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]!.query['X-Amz-Credential']).toMatch(new RegExp(`^${ACCESS_KEY}/`));
    expect(log).not.toContain(token);
    expect(log).not.toContain(signed);
  });
});
