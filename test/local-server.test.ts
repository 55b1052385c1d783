import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { HttpRequest } from '@smithy/protocol-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3RequestType, type S3Client } from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { syntheticByte } from '../src/local/sink-storage.js';
import { Crc32c } from '../src/checksums/index.js';
import { httpRequest, newClient, run } from './helpers/client.js';
import { raw, signer } from './helpers/raw.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, sha256, tempFolder } from './helpers/servers.js';

let server: LocalS3;
let client: S3Client;
let folder: { path: string; remove: () => Promise<void> };
const bucket = 'local';

beforeAll(async () => {
  folder = await tempFolder();
  server = await startLocalS3({ root: join(folder.path, 'store'), credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  client = newClient();
  expect((await raw(server.host, 'PUT', `/${bucket}`)).status).toBe(200);
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await folder?.remove();
});

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest();

/** A copy with one byte inverted: always a change, whatever the byte was. */
function flipByte(body: Buffer, offset: number): Buffer {
  const copy = Buffer.from(body);
  copy[offset] = copy[offset]! ^ 0xff;
  return copy;
}

describe('authentication', () => {
  it('accepts a correct SigV4 signature and refuses a wrong secret with SignatureDoesNotMatch', async () => {
    expect((await raw(server.host, 'PUT', `/${bucket}/auth`, { body: 'x' })).status).toBe(200);
    const wrong = await raw(server.host, 'GET', `/${bucket}/auth`, { secret: 'not-the-secret' });
    expect([wrong.status, wrong.code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('checks each server against its own secret, though two share an access key id', async () => {
    const other = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: 'another-secret' } });
    try {
      expect((await raw(server.host, 'GET', '/')).status).toBe(200);
      expect((await raw(other.host, 'GET', '/')).code).toBe('SignatureDoesNotMatch');
      expect((await raw(other.host, 'GET', '/', { secret: 'another-secret' })).status).toBe(200);
      expect((await raw(server.host, 'GET', '/', { secret: 'another-secret' })).code).toBe('SignatureDoesNotMatch');
    } finally {
      await other.close();
    }
  });

  it('refuses an unknown access key, an unsigned request and a request dated an hour ago', async () => {
    expect((await raw(server.host, 'GET', `/${bucket}/auth`, { accessKeyId: 'AKIDNOBODY' })).code).toBe('InvalidAccessKeyId');
    const anonymous = await raw(server.host, 'GET', `/${bucket}/auth`, { anonymous: true });
    expect([anonymous.status, anonymous.code]).toEqual([403, 'AccessDenied']);
    const old = await raw(server.host, 'GET', `/${bucket}/auth`, { signingDate: new Date(Date.now() - 3600_000) });
    expect([old.status, old.code]).toEqual([403, 'RequestTimeTooSkewed']);
  });

  it('serves unsigned requests when anonymous access is on', async () => {
    const open = await startLocalS3({ anonymous: true });
    try {
      expect((await raw(open.host, 'PUT', '/public', { anonymous: true })).status).toBe(200);
      expect((await raw(open.host, 'PUT', '/public/k', { anonymous: true, body: 'hi' })).status).toBe(200);
      expect((await raw(open.host, 'GET', '/public/k', { anonymous: true })).body.toString()).toBe('hi');
    } finally {
      await open.close();
    }
  });

  it('verifies presigned URLs, and refuses tampered or expired ones', async () => {
    await raw(server.host, 'PUT', `/${bucket}/presigned`, { body: 'presigned body' });
    const presign = async (expiresIn: number, signingDate?: Date) => {
      const headers = { host: server.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
      const url = await signer().presign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: `/${bucket}/presigned`, headers }), {
        expiresIn,
        signingDate,
      });
      return `http://${server.host}${url.path}?${new URLSearchParams(url.query as Record<string, string>).toString()}`;
    };
    const good = await request(await presign(300));
    expect([good.statusCode, await good.body.text()]).toEqual([200, 'presigned body']);
    const tampered = await request((await presign(300)).replace('presigned?', 'presigned2?'));
    expect((await tampered.body.text()).includes('SignatureDoesNotMatch')).toBe(true);
    const expired = await request(await presign(60, new Date(Date.now() - 600_000)));
    expect([expired.statusCode, (await expired.body.text()).includes('Request has expired')]).toEqual([403, true]);
  });

  it('checks Content-MD5 against the body', async () => {
    const good = await raw(server.host, 'PUT', `/${bucket}/md5`, { body: 'md5 body', headers: { 'content-md5': md5('md5 body').toString('base64') } });
    expect(good.status).toBe(200);
    const bad = await raw(server.host, 'PUT', `/${bucket}/md5-bad`, { body: 'md5 body', headers: { 'content-md5': md5('other').toString('base64') } });
    expect([bad.status, bad.code]).toEqual([400, 'BadDigest']);
    expect((await raw(server.host, 'GET', `/${bucket}/md5-bad`)).code).toBe('NoSuchKey');
  });

  it('checks a hex payload hash against the body', async () => {
    const body = 'hashed body';
    const good = await raw(server.host, 'PUT', `/${bucket}/hashed`, { body, payloadHash: createHash('sha256').update(body).digest('hex') });
    expect(good.status).toBe(200);
    const bad = await raw(server.host, 'PUT', `/${bucket}/hashed-bad`, { body, payloadHash: createHash('sha256').update('other').digest('hex') });
    expect([bad.status, bad.code]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    expect((await raw(server.host, 'GET', `/${bucket}/hashed-bad`)).code).toBe('NoSuchKey');
  });

  it('decodes a signed aws-chunked body, checking every chunk signature', async () => {
    const data = makeBuffer(200_000);
    const ok = await raw(server.host, 'PUT', `/${bucket}/chunked`, { chunked: { data, chunkSize: 65_536 } });
    expect(ok.status).toBe(200);
    expect(sha256((await raw(server.host, 'GET', `/${bucket}/chunked`)).body)).toBe(sha256(data));
    expect(ok.headers.etag).toBe(`"${md5(data).toString('hex')}"`);

    const flipped = await raw(server.host, 'PUT', `/${bucket}/chunked-bad`, {
      chunked: { data, chunkSize: 65_536, tamper: (body) => flipByte(body, 500) },
    });
    expect([flipped.status, flipped.code]).toEqual([403, 'SignatureDoesNotMatch']);
    const badSize = await raw(server.host, 'PUT', `/${bucket}/chunked-bad`, {
      chunked: { data, chunkSize: 65_536, tamper: (body) => Buffer.from(body.toString('latin1').replace(/^10000;/, '1000g;'), 'latin1') },
    });
    expect([badSize.status, badSize.code]).toEqual([400, 'IncompleteBody']);
    expect((await raw(server.host, 'GET', `/${bucket}/chunked-bad`)).code).toBe('NoSuchKey');
  });
});

describe('signed aws-chunked bodies with a trailer', () => {
  it('checks the trailer signature and the checksum it carries', async () => {
    const data = makeBuffer(150_000);
    const crc32c = new Crc32c().update(data).digestBase64();
    const ok = await raw(server.host, 'PUT', `/${bucket}/signed-trailer`, {
      chunked: { data, chunkSize: 65_536, trailer: { name: 'x-amz-checksum-crc32c', value: crc32c } },
    });
    expect(ok.status).toBe(200);
    const head = await raw(server.host, 'HEAD', `/${bucket}/signed-trailer`, { headers: { 'x-amz-checksum-mode': 'ENABLED' } });
    expect(head.headers['x-amz-checksum-crc32c']).toBe(crc32c);

    const wrongValue = await raw(server.host, 'PUT', `/${bucket}/signed-trailer-bad`, {
      chunked: { data, chunkSize: 65_536, trailer: { name: 'x-amz-checksum-crc32c', value: new Crc32c().update(Buffer.from('other')).digestBase64() } },
    });
    expect([wrongValue.status, wrongValue.code]).toEqual([400, 'BadDigest']);
    const forged = await raw(server.host, 'PUT', `/${bucket}/signed-trailer-bad`, {
      chunked: {
        data,
        chunkSize: 65_536,
        trailer: { name: 'x-amz-checksum-crc32c', value: crc32c },
        tamper: (body) => Buffer.from(body.toString('latin1').replace(/trailer-signature:[0-9a-f]/, 'trailer-signature:g'), 'latin1'),
      },
    });
    expect([forged.status, forged.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect((await raw(server.host, 'GET', `/${bucket}/signed-trailer-bad`)).code).toBe('NoSuchKey');
  });
});

describe('keys are opaque', () => {
  const keys = ['../../escape', 'a//b///c', 'dir/', 'üñí©ødé/🚀.txt', ' spaces and +plus ', 'k'.repeat(1024)];

  it('stores and returns any key exactly, inside the storage folder', async () => {
    for (const key of keys) {
      const path = `/${bucket}/${encodeURIComponent(key)}`;
      expect((await raw(server.host, 'PUT', path, { body: `body of ${key}` })).status, key).toBe(200);
      expect((await raw(server.host, 'GET', path)).body.toString()).toBe(`body of ${key}`);
    }
    const listed = await raw(server.host, 'GET', `/${bucket}?list-type=2&encoding-type=url`);
    const returned = [...listed.body.toString().matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => decodeURIComponent(match[1]!));
    for (const key of keys) expect(returned).toContain(key);
    expect((await readdir(join(folder.path))).sort()).toEqual(['store']);
    expect((await readdir(join(folder.path, 'store'))).sort()).toEqual(['.tmp', bucket]);
  });

  it('refuses a key over 1,024 bytes', async () => {
    expect((await raw(server.host, 'PUT', `/${bucket}/${'k'.repeat(1025)}`, { body: 'x' })).code).toBe('KeyTooLongError');
  });

  it('keeps objects on disk across a restart', async () => {
    const again = await startLocalS3({ root: join(folder.path, 'store'), credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    try {
      expect((await raw(again.host, 'GET', `/${bucket}/${encodeURIComponent('a//b///c')}`)).body.toString()).toBe('body of a//b///c');
    } finally {
      await again.close();
    }
  });
});

describe('multipart uploads', () => {
  async function create(key: string): Promise<string> {
    const created = await raw(server.host, 'POST', `/${bucket}/${key}?uploads`);
    return /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())![1]!;
  }
  async function uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
    const answer = await raw(server.host, 'PUT', `/${bucket}/${key}?partNumber=${partNumber}&uploadId=${encodeURIComponent(uploadId)}`, { body });
    expect(answer.status).toBe(200);
    return String(answer.headers.etag);
  }
  function complete(key: string, uploadId: string, parts: Array<[number, string]>) {
    const xml = `<CompleteMultipartUpload>${parts.map(([n, etag]) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    return raw(server.host, 'POST', `/${bucket}/${key}?uploadId=${encodeURIComponent(uploadId)}`, { body: xml });
  }

  it("gives the object S3's multipart ETag, serves parts by number and lists parts and uploads", async () => {
    const parts = [makeBuffer(5 * MiB), makeBuffer(5 * MiB), makeBuffer(1000)];
    const uploadId = await create('mp');
    const etags = await Promise.all(parts.map((part, i) => uploadPart('mp', uploadId, i + 1, part)));
    expect(etags[0]).toBe(`"${md5(parts[0]!).toString('hex')}"`);
    const listedParts = await raw(server.host, 'GET', `/${bucket}/mp?uploadId=${encodeURIComponent(uploadId)}`);
    expect([...listedParts.body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => m[1])).toEqual(['1', '2', '3']);
    expect((await raw(server.host, 'GET', `/${bucket}?uploads`)).body.toString()).toContain(`<UploadId>${uploadId}</UploadId>`);

    const done = await complete(
      'mp',
      uploadId,
      etags.map((etag, i) => [i + 1, etag] as [number, string]),
    );
    expect(done.status).toBe(200);
    const expected = `"${md5(Buffer.concat(parts.map((part) => md5(part)))).toString('hex')}-3"`;
    expect(done.body.toString()).toContain(`<ETag>${expected.replace(/"/g, '&quot;')}</ETag>`);
    const second = await raw(server.host, 'GET', `/${bucket}/mp?partNumber=2`);
    expect(second.status).toBe(206);
    expect(second.headers['x-amz-mp-parts-count']).toBe('3');
    expect(sha256(second.body)).toBe(sha256(parts[1]!));
    expect((await raw(server.host, 'GET', `/${bucket}?uploads`)).body.toString()).not.toContain(uploadId);
  });

  it('refuses parts out of order, a part under 5 MiB before the last, a wrong ETag and bad part numbers', async () => {
    const uploadId = await create('mp-bad');
    const small = await uploadPart('mp-bad', uploadId, 1, Buffer.from('small'));
    const last = await uploadPart('mp-bad', uploadId, 2, Buffer.from('last'));
    expect(
      (
        await complete('mp-bad', uploadId, [
          [2, last],
          [1, small],
        ])
      ).code,
    ).toBe('InvalidPartOrder');
    expect(
      (
        await complete('mp-bad', uploadId, [
          [1, small],
          [2, last],
        ])
      ).code,
    ).toBe('EntityTooSmall');
    expect((await complete('mp-bad', uploadId, [[1, '"00000000000000000000000000000000"']])).code).toBe('InvalidPart');
    expect((await raw(server.host, 'PUT', `/${bucket}/mp-bad?partNumber=0&uploadId=${encodeURIComponent(uploadId)}`, { body: 'x' })).code).toBe(
      'InvalidArgument',
    );
    expect((await raw(server.host, 'PUT', `/${bucket}/mp-bad?partNumber=10001&uploadId=${encodeURIComponent(uploadId)}`, { body: 'x' })).code).toBe(
      'InvalidArgument',
    );
    expect((await raw(server.host, 'POST', `/${bucket}/mp-bad?uploadId=${encodeURIComponent(uploadId)}`, { body: '<not xml' })).code).toBe('MalformedXML');
    expect((await raw(server.host, 'DELETE', `/${bucket}/mp-bad?uploadId=${encodeURIComponent(uploadId)}`)).status).toBe(204);
    expect((await complete('mp-bad', uploadId, [[1, small]])).code).toBe('NoSuchUpload');
    expect((await raw(server.host, 'GET', `/${bucket}/mp-bad`)).code).toBe('NoSuchKey');
  });

  it('copies ranges of an object into parts with UploadPartCopy', async () => {
    const source = makeBuffer(6 * MiB);
    await raw(server.host, 'PUT', `/${bucket}/copy-source`, { body: source });
    const uploadId = await create('copied');
    const copy = (n: number, range: string) =>
      raw(server.host, 'PUT', `/${bucket}/copied?partNumber=${n}&uploadId=${encodeURIComponent(uploadId)}`, {
        headers: { 'x-amz-copy-source': `/${bucket}/copy-source`, 'x-amz-copy-source-range': range },
      });
    const first = await copy(1, `bytes=0-${5 * MiB - 1}`);
    const second = await copy(2, `bytes=${5 * MiB}-${6 * MiB - 1}`);
    const etags = [first, second].map((answer) => /<ETag>([^<]+)<\/ETag>/.exec(answer.body.toString())![1]!.replace(/&quot;/g, '"'));
    expect(
      (
        await complete('copied', uploadId, [
          [1, etags[0]!],
          [2, etags[1]!],
        ])
      ).status,
    ).toBe(200);
    expect(sha256((await raw(server.host, 'GET', `/${bucket}/copied`)).body)).toBe(sha256(source));
  });
});

describe('objects', () => {
  it('answers conditional GETs as S3 does', async () => {
    const put = await raw(server.host, 'PUT', `/${bucket}/conditional`, { body: 'v1' });
    const etag = String(put.headers.etag);
    expect((await raw(server.host, 'GET', `/${bucket}/conditional`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await raw(server.host, 'GET', `/${bucket}/conditional`, { headers: { 'if-match': etag } })).status).toBe(200);
    const mismatch = await raw(server.host, 'GET', `/${bucket}/conditional`, { headers: { 'if-match': '"other"' } });
    expect([mismatch.status, mismatch.code]).toEqual([412, 'PreconditionFailed']);
  });

  it('answers ranges, suffix ranges and ranges past the end', async () => {
    await raw(server.host, 'PUT', `/${bucket}/ranged`, { body: '0123456789' });
    const part = await raw(server.host, 'GET', `/${bucket}/ranged`, { headers: { range: 'bytes=2-4' } });
    expect([part.status, part.body.toString(), part.headers['content-range']]).toEqual([206, '234', 'bytes 2-4/10']);
    expect((await raw(server.host, 'GET', `/${bucket}/ranged`, { headers: { range: 'bytes=-3' } })).body.toString()).toBe('789');
    const past = await raw(server.host, 'GET', `/${bucket}/ranged`, { headers: { range: 'bytes=10-' } });
    expect([past.status, past.code]).toEqual([416, 'InvalidRange']);
    await raw(server.host, 'PUT', `/${bucket}/empty`, { body: '' });
    expect((await raw(server.host, 'GET', `/${bucket}/empty`, { headers: { range: 'bytes=0-99' } })).status).toBe(416);
  });

  it('lists with prefix, delimiter and continuation tokens', async () => {
    for (const key of ['list/a', 'list/b', 'list/sub/c', 'list/sub/d', 'list/z']) await raw(server.host, 'PUT', `/${bucket}/${key}`, { body: key });
    const first = (await raw(server.host, 'GET', `/${bucket}?list-type=2&prefix=list%2F&delimiter=%2F&max-keys=2`)).body.toString();
    expect([...first.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1])).toEqual(['list/a', 'list/b']);
    expect(first).toContain('<IsTruncated>true</IsTruncated>');
    const token = /<NextContinuationToken>([^<]+)</.exec(first)![1]!;
    const second = (
      await raw(server.host, 'GET', `/${bucket}?list-type=2&prefix=list%2F&delimiter=%2F&max-keys=2&continuation-token=${token}`)
    ).body.toString();
    expect(second).toContain('<CommonPrefixes><Prefix>list/sub/</Prefix></CommonPrefixes>');
    expect([...second.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1])).toEqual(['list/z']);
    expect(second).toContain('<IsTruncated>false</IsTruncated>');
  });

  it('copies objects and deletes several at once', async () => {
    await raw(server.host, 'PUT', `/${bucket}/original`, { body: 'original', headers: { 'x-amz-meta-colour': 'blue', 'content-type': 'text/plain' } });
    const copied = await raw(server.host, 'PUT', `/${bucket}/duplicate`, { headers: { 'x-amz-copy-source': `/${bucket}/original` } });
    expect(copied.body.toString()).toContain('<CopyObjectResult');
    const got = await raw(server.host, 'GET', `/${bucket}/duplicate`);
    expect([got.body.toString(), got.headers['x-amz-meta-colour'], got.headers['content-type']]).toEqual(['original', 'blue', 'text/plain']);
    const deleted = await raw(server.host, 'POST', `/${bucket}?delete`, {
      body: '<Delete><Object><Key>original</Key></Object><Object><Key>duplicate</Key></Object></Delete>',
    });
    expect(deleted.body.toString()).toContain('<Deleted><Key>duplicate</Key></Deleted>');
    expect((await raw(server.host, 'GET', `/${bucket}/original`)).code).toBe('NoSuchKey');
  });

  it('stores nothing from a body cut short, and answers unknown sub-resources NotImplemented', async () => {
    const short = await raw(server.host, 'PUT', `/${bucket}/short`, { body: 'abc', headers: { 'content-length': '3' } });
    expect(short.status).toBe(200);
    expect((await raw(server.host, 'GET', `/${bucket}/short?acl`)).code).toBe('NotImplemented');
    expect((await raw(server.host, 'PUT', `/${bucket}/missing-length`, { omitLength: true, body: 'abc' })).code).toBe('MissingContentLength');
    expect((await raw(server.host, 'PUT', '/Bad_Bucket')).code).toBe('InvalidBucketName');
    expect((await raw(server.host, 'GET', '/no-such-bucket/k')).code).toBe('NoSuchBucket');
  });

  it('virtual-host style addressing reaches the same bucket', async () => {
    await raw(server.host, 'PUT', `/${bucket}/vhost`, { body: 'by host' });
    const got = await raw(server.host, 'GET', '/vhost', { hostHeader: `${bucket}.localhost:${server.port}` });
    expect(got.body.toString()).toBe('by host');
  });
});

describe('through the s3tx client', () => {
  it('a multipart round trip leaves no upload behind and the request log shows it all', async () => {
    const data = makeBuffer(20 * MiB);
    server.resetRequests();
    const put = await run(client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', `/${bucket}/client`, {}, data) });
    expect(put.error).toBeNull();
    expect(server.requests.map((r) => r.operation).filter((op) => op !== 'UploadPart')).toEqual(['CreateMultipartUpload', 'CompleteMultipartUpload']);
    expect(server.requests.filter((r) => r.operation === 'UploadPart').map((r) => r.bytesIn)).toEqual([8 * MiB, 8 * MiB, 4 * MiB]);
    expect(server.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    const get = await run(client, { type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', `/${bucket}/client`) });
    expect(sha256(get.body)).toBe(sha256(data));
  });
});

describe('sink mode', () => {
  it('discards what is PUT and serves synthetic bytes of the stored size', async () => {
    const sink = await startLocalS3({ sink: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    try {
      await raw(sink.host, 'PUT', '/bench');
      const put = await run(client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(sink.host, 'PUT', '/bench/big', {}, makeBuffer(30 * MiB)) });
      expect(put.error).toBeNull();
      const head = await raw(sink.host, 'HEAD', '/bench/big');
      expect(head.headers['content-length']).toBe(String(30 * MiB));
      // Each body gets an ETag of its own, though none is hashed, and each answer a request id of its own.
      const small = await Promise.all(['a', 'b'].map((key) => raw(sink.host, 'PUT', `/bench/${key}`, { body: 'same bytes' })));
      expect(small[0]!.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(small[0]!.headers.etag).not.toBe(small[1]!.headers.etag);
      const ids = [head, ...small].map((response) => response.headers['x-amz-request-id']);
      for (const id of ids) expect(id).toMatch(/^[0-9A-F]{16}$/);
      expect(new Set(ids).size).toBe(3);
      const got = await run(client, { type: S3RequestType.GET_OBJECT, request: httpRequest(sink.host, 'GET', '/bench/synthetic/10000000') });
      expect(got.body.length).toBe(10_000_000);
      for (const offset of [0, 1, 8 * MiB + 3, 9_999_999]) expect(got.body[offset]).toBe(syntheticByte(offset));
    } finally {
      await sink.close();
    }
  });

  it('computes no checksum over what it drops: it keeps the values sent, right or wrong', async () => {
    const sink = await startLocalS3({ sink: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    try {
      await raw(sink.host, 'PUT', '/bench');
      const wrong = 'AAAAAA==';
      const put = await raw(sink.host, 'PUT', '/bench/claimed', { body: 'not what that checksum says', headers: { 'x-amz-checksum-crc32c': wrong } });
      expect(put.status).toBe(200);
      const head = await raw(sink.host, 'HEAD', '/bench/claimed', { headers: { 'x-amz-checksum-mode': 'ENABLED' } });
      expect(head.headers['x-amz-checksum-crc32c']).toBe(wrong);
    } finally {
      await sink.close();
    }
  });
});
