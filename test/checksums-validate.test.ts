/**
 * Validation of downloads against S3's stored checksums: objects uploaded by s3tx and
 * by the AWS SDK, to onBody and to files, and a flipped byte that must fail the download.
 */
import { PutObjectCommand, type ChecksumAlgorithm } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ChecksumMismatchError, S3ChecksumAlgorithm, S3ChecksumLocation, S3RequestType } from '../src/index.js';
import { httpRequest, run } from './helpers/client.js';
import { useLocalFixture } from './helpers/fixture.js';
import { MiB, makeBuffer, sha256 } from './helpers/servers.js';

const fixture = useLocalFixture('validate');
const bucket = 'validate';

beforeEach(() => fixture.server.faults.clear());

const validate = { validateResponse: true };

function get(key: string, recvFilepath?: string) {
  return run(fixture.client, {
    type: S3RequestType.GET_OBJECT,
    request: httpRequest(fixture.server.host, 'GET', `/${bucket}/${key}`),
    checksumConfig: validate,
    ...(recvFilepath ? { recvFilepath } : {}),
  });
}

describe('validateResponse', () => {
  for (const algorithm of [
    S3ChecksumAlgorithm.CRC32C,
    S3ChecksumAlgorithm.CRC32,
    S3ChecksumAlgorithm.CRC64NVME,
    S3ChecksumAlgorithm.SHA1,
    S3ChecksumAlgorithm.SHA256,
  ]) {
    it(`${S3ChecksumAlgorithm[algorithm]}: a single-PUT object of several parts is validated, to onBody and to a file`, async () => {
      const data = makeBuffer(19 * MiB + 3);
      const key = `single-${algorithm}`;
      const put = await run(fixture.client, {
        type: S3RequestType.PUT_OBJECT,
        request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/${key}`, {}, data),
        multipartUploadThreshold: 64 * MiB,
        checksumConfig: { algorithm, location: S3ChecksumLocation.TRAILER },
      });
      expect(put.error).toBeNull();
      const inMemory = await get(key);
      expect(inMemory.error).toBeNull();
      expect(sha256(inMemory.body)).toBe(sha256(data));
      expect(inMemory.done[0]).toMatchObject({ didValidateChecksum: true, checksumValidationAlgorithm: algorithm });
      expect(inMemory.headers[0]?.headers.some(([name]) => name.startsWith('x-amz-checksum'))).toBe(false);
      const target = join(fixture.folder.path, key);
      const toFile = await get(key, target);
      expect(toFile.done[0]).toMatchObject({ didValidateChecksum: true, checksumValidationAlgorithm: algorithm });
      expect(sha256(await readFile(target))).toBe(sha256(data));
    });
  }

  it('a multipart object is validated: a full-object CRC over the whole, a composite SHA part by part', async () => {
    const data = makeBuffer(20 * MiB);
    for (const algorithm of [S3ChecksumAlgorithm.CRC32C, S3ChecksumAlgorithm.SHA256]) {
      const key = `multi-${algorithm}`;
      await run(fixture.client, {
        type: S3RequestType.PUT_OBJECT,
        request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/${key}`, {}, data),
        checksumConfig: { algorithm, location: S3ChecksumLocation.HEADER },
      });
      fixture.server.resetRequests();
      const result = await get(key);
      expect(result.error).toBeNull();
      expect(sha256(result.body)).toBe(sha256(data));
      expect(result.done[0]).toMatchObject({ didValidateChecksum: true, checksumValidationAlgorithm: algorithm });
      const parts = fixture.server.requests.filter((r) => r.operation === 'GetObject').map((r) => r.partNumber);
      expect(parts.sort()).toEqual(algorithm === S3ChecksumAlgorithm.SHA256 ? [1, 2, 3] : [null, null, null]);
    }
  });

  it('a part of a composite object whose byte flipped once is fetched again; one that stays wrong fails with ChecksumMismatch', async () => {
    const key = `multi-${S3ChecksumAlgorithm.SHA256}`;
    fixture.server.resetRequests();
    fixture.server.faults.add({ operation: 'GetObject', partNumber: 2, action: { type: 'flip-byte', offset: 7 } });
    const once = await get(key);
    expect(once.done[0]).toMatchObject({ error: null, didValidateChecksum: true });
    expect(fixture.server.requests.filter((r) => r.operation === 'GetObject' && r.partNumber === 2)).toHaveLength(2);
    fixture.server.faults.add({ operation: 'GetObject', partNumber: 2, times: Infinity, action: { type: 'flip-byte', offset: 7 } });
    const always = await get(key);
    expect(always.error).toMatchObject({ code: 'AWS_ERROR_S3_RESPONSE_CHECKSUM_MISMATCH', algorithm: 'SHA256' });
  });

  it('objects uploaded by the AWS SDK and lib-storage are validated', async () => {
    const data = makeBuffer(11 * MiB);
    await fixture.sdk.send(new PutObjectCommand({ Bucket: bucket, Key: 'sdk-sha1', Body: data, ChecksumAlgorithm: 'SHA1' as ChecksumAlgorithm }));
    await new Upload({
      client: fixture.sdk,
      params: { Bucket: bucket, Key: 'lib-crc64', Body: data, ChecksumAlgorithm: 'CRC64NVME' },
      partSize: 5 * MiB,
    }).done();
    for (const [key, algorithm] of [
      ['sdk-sha1', S3ChecksumAlgorithm.SHA1],
      ['lib-crc64', S3ChecksumAlgorithm.CRC64NVME],
    ] as const) {
      const result = await get(key);
      expect(sha256(result.body)).toBe(sha256(data));
      expect(result.done[0]).toMatchObject({ didValidateChecksum: true, checksumValidationAlgorithm: algorithm });
    }
  });

  it('an object without a checksum downloads with didValidateChecksum false', async () => {
    await run(fixture.client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/plain`, {}, 'plain') });
    const result = await get('plain');
    expect(result.body.toString()).toBe('plain');
    expect(result.done[0]).toMatchObject({ didValidateChecksum: false, checksumValidationAlgorithm: null });
  });

  it('a flipped byte in one part fails the download with ChecksumMismatch and leaves no file', async () => {
    const data = makeBuffer(30 * MiB);
    await run(fixture.client, {
      type: S3RequestType.PUT_OBJECT,
      request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/flipped`, {}, data),
      checksumConfig: { algorithm: S3ChecksumAlgorithm.CRC32C, location: S3ChecksumLocation.TRAILER },
    });
    for (const mode of ['memory', 'file'] as const) {
      fixture.server.faults.add({ operation: 'GetObject', range: `bytes=${16 * MiB}-`, action: { type: 'flip-byte', offset: 12345 } });
      const dir = join(fixture.folder.path, `flipped-${mode}`);
      await mkdir(dir);
      const result = await get('flipped', mode === 'file' ? join(dir, 'target') : undefined);
      expect(result.error).toBeInstanceOf(ChecksumMismatchError);
      expect(result.error).toMatchObject({ code: 'AWS_ERROR_S3_RESPONSE_CHECKSUM_MISMATCH', algorithm: 'CRC32C' });
      expect((result.error as ChecksumMismatchError).expected).not.toBe((result.error as ChecksumMismatchError).actual);
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it('DEFAULT GetObject requests are validated too, and a flipped byte fails them', async () => {
    const data = makeBuffer(2 * MiB);
    await fixture.sdk.send(new PutObjectCommand({ Bucket: bucket, Key: 'default-get', Body: data, ChecksumAlgorithm: 'CRC32' as ChecksumAlgorithm }));
    const request = () =>
      run(fixture.client, {
        type: S3RequestType.DEFAULT,
        operationName: 'GetObject',
        request: httpRequest(fixture.server.host, 'GET', `/${bucket}/default-get`),
        checksumConfig: validate,
      });
    const ok = await request();
    expect(ok.done[0]).toMatchObject({ didValidateChecksum: true, checksumValidationAlgorithm: S3ChecksumAlgorithm.CRC32 });
    expect(sha256(ok.body)).toBe(sha256(data));
    fixture.server.faults.add({ operation: 'GetObject', action: { type: 'flip-byte' } });
    expect((await request()).error).toMatchObject({ code: 'AWS_ERROR_S3_RESPONSE_CHECKSUM_MISMATCH' });
  });
});
