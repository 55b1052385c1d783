import { describe, expect, it } from 'vitest';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { InvalidArgumentError, S3RequestType, S3ResponseError } from '../src/index.js';
import { httpRequest, run } from './helpers/client.js';
import { useLocalFixture } from './helpers/fixture.js';
import { MiB, makeBuffer, sha256 } from './helpers/servers.js';

const bucket = 'copies';

describe('COPY_OBJECT', () => {
  const fixture = useLocalFixture(bucket);
  const data = makeBuffer(21 * MiB + 3);

  async function put(key: string, body: Buffer, headers: Record<string, string> = {}) {
    const result = await run(fixture.client, {
      type: S3RequestType.PUT_OBJECT,
      request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/${key}`, headers, body),
    });
    expect(result.error).toBeNull();
  }

  async function get(path: string): Promise<Buffer> {
    const result = await run(fixture.client, { type: S3RequestType.GET_OBJECT, request: httpRequest(fixture.server.host, 'GET', path) });
    expect(result.error).toBeNull();
    return result.body;
  }

  function copy(from: string, to: string, headers: Record<string, string> = {}, extra: object = {}) {
    return run(fixture.client, {
      type: S3RequestType.COPY_OBJECT,
      request: httpRequest(fixture.server.host, 'PUT', to, { 'x-amz-copy-source': from, ...headers }),
      partSize: 5 * MiB,
      ...extra,
    });
  }

  it('copies an object under the threshold with one CopyObject', async () => {
    await put('small', data.subarray(0, MiB));
    fixture.server.resetRequests();
    const result = await copy(`/${bucket}/small`, `/${bucket}/small-copy`);
    expect(result.error).toBeNull();
    expect(result.headers[0]?.headers.some(([name]) => name === 'etag')).toBe(true);
    expect(fixture.server.requests.map((request) => request.operation)).toEqual(['HeadObject', 'CopyObject']);
    expect(sha256(await get(`/${bucket}/small-copy`))).toBe(sha256(data.subarray(0, MiB)));
  });

  it('splits a larger object into parallel UploadPartCopy ranges and keeps its metadata and content type', async () => {
    await put('large', data, { 'content-type': 'application/x-test', 'x-amz-meta-origin': 'copy-test' });
    fixture.server.resetRequests();
    const result = await copy(`/${bucket}/large`, `/${bucket}/large-copy`);
    expect(result.error).toBeNull();
    expect(result.progress).toBe(data.length);
    const ranges = fixture.server.requests
      .filter((request) => request.operation === 'UploadPartCopy')
      .map((request) => request.headers['x-amz-copy-source-range']);
    expect(ranges.sort()).toEqual(
      [
        `bytes=0-${5 * MiB - 1}`,
        `bytes=${10 * MiB}-${15 * MiB - 1}`,
        `bytes=${15 * MiB}-${20 * MiB - 1}`,
        `bytes=${20 * MiB}-${data.length - 1}`,
        `bytes=${5 * MiB}-${10 * MiB - 1}`,
      ].sort(),
    );
    expect(sha256(await get(`/${bucket}/large-copy`))).toBe(sha256(data));
    const head = await fixture.sdk.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large-copy' }));
    expect(head.ContentType).toBe('application/x-test');
    expect(head.Metadata).toEqual({ origin: 'copy-test' });
  });

  it('replaces metadata when asked, and copies across buckets with a known size and no HEAD', async () => {
    await run(fixture.client, {
      type: S3RequestType.DEFAULT,
      operationName: 'CreateBucket',
      request: httpRequest(fixture.server.host, 'PUT', '/copies-other'),
    });
    fixture.server.resetRequests();
    const result = await copy(
      `${bucket}/large`,
      '/copies-other/renamed',
      { 'x-amz-metadata-directive': 'REPLACE', 'x-amz-meta-origin': 'replaced' },
      { copySourceSize: data.length },
    );
    expect(result.error).toBeNull();
    expect(fixture.server.requests.some((request) => request.operation === 'HeadObject')).toBe(false);
    const head = await fixture.sdk.send(new HeadObjectCommand({ Bucket: 'copies-other', Key: 'renamed' }));
    expect(head.Metadata).toEqual({ origin: 'replaced' });
    expect(sha256(await get('/copies-other/renamed'))).toBe(sha256(data));
  });

  it('fails with the S3 error of a missing source, and a failed part aborts the upload', async () => {
    const missing = await copy(`/${bucket}/no-such-key`, `/${bucket}/never`);
    expect(missing.error).toBeInstanceOf(S3ResponseError);
    expect(missing.error).toMatchObject({ statusCode: 404 });
    fixture.server.faults.add({ operation: 'UploadPartCopy', partNumber: 3, times: Infinity, action: { type: 'error', status: 403, code: 'AccessDenied' } });
    const failed = await copy(`/${bucket}/large`, `/${bucket}/half`);
    fixture.server.faults.clear();
    expect(failed.error).toMatchObject({ s3Code: 'AccessDenied' });
    const uploads = await run(fixture.client, {
      type: S3RequestType.DEFAULT,
      operationName: 'ListMultipartUploads',
      request: httpRequest(fixture.server.host, 'GET', `/${bucket}?uploads`),
    });
    expect(uploads.body.toString()).not.toContain('<Upload>');
  });

  it('refuses what a copy cannot have, before sending anything', () => {
    expect(() => fixture.client.makeRequest({ type: S3RequestType.COPY_OBJECT, request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/x`) })).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      fixture.client.makeRequest({
        type: S3RequestType.COPY_OBJECT,
        request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/x`, { 'x-amz-copy-source': '/b/k' }, Buffer.from('x')),
      }),
    ).toThrow(/COPY_OBJECT moves no bytes/);
  });
});
