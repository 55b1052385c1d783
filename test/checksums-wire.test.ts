/**
 * Request checksums on the wire: every algorithm in a header and in a trailer, for
 * single and multipart uploads, checked by the server and read back by the AWS SDK,
 * which validates them itself.
 */
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { S3ChecksumAlgorithm, S3ChecksumLocation, S3RequestType } from '../src/index.js';
import { createChecksum } from '../src/checksums/index.js';
import { httpRequest, run } from './helpers/client.js';
import { useLocalFixture } from './helpers/fixture.js';
import { MiB, makeBuffer, sha256 } from './helpers/servers.js';

const fixture = useLocalFixture('checksums');
const bucket = 'checksums';

const ALGORITHMS = [S3ChecksumAlgorithm.CRC32C, S3ChecksumAlgorithm.CRC32, S3ChecksumAlgorithm.CRC64NVME, S3ChecksumAlgorithm.SHA1, S3ChecksumAlgorithm.SHA256];
const LOCATIONS = [S3ChecksumLocation.HEADER, S3ChecksumLocation.TRAILER];
const isCrc = (algorithm: S3ChecksumAlgorithm) => algorithm <= 2 || algorithm === S3ChecksumAlgorithm.CRC64NVME;

/** The object checksum S3 reports: full-object for a single PUT or a CRC multipart, composite for a SHA multipart. */
function expectedChecksum(algorithm: S3ChecksumAlgorithm, data: Buffer, partSize: number | null): string {
  if (partSize === null || isCrc(algorithm)) return createChecksum(algorithm).update(data).digestBase64();
  const composite = createChecksum(algorithm);
  let parts = 0;
  for (let offset = 0; offset < data.length; offset += partSize, parts++)
    composite.update(
      createChecksum(algorithm)
        .update(data.subarray(offset, offset + partSize))
        .digest(),
    );
  return `${composite.digestBase64()}-${parts}`;
}

describe('request checksums', () => {
  for (const algorithm of ALGORITHMS) {
    for (const location of LOCATIONS) {
      const name = `${S3ChecksumAlgorithm[algorithm]} in a ${S3ChecksumLocation[location]}`;
      it(`${name}: single and multipart uploads carry it, the server checks it, the SDK validates it`, async () => {
        const single = makeBuffer(3 * MiB + 5);
        const multi = makeBuffer(20 * MiB + 11);
        const source = join(fixture.folder.path, `${algorithm}-${location}`);
        await writeFile(source, single);
        const checksumConfig = { algorithm, location };
        fixture.server.resetRequests();
        const fromFile = await run(fixture.client, {
          type: S3RequestType.PUT_OBJECT,
          request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/single-${algorithm}-${location}`),
          sendFilepath: source,
          checksumConfig,
        });
        expect(fromFile.error).toBeNull();
        const fromBuffer = await run(fixture.client, {
          type: S3RequestType.PUT_OBJECT,
          request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/multi-${algorithm}-${location}`, {}, multi),
          checksumConfig,
        });
        expect(fromBuffer.error).toBeNull();

        const header = `x-amz-checksum-${S3ChecksumAlgorithm[algorithm].toLowerCase()}`;
        const dataRequests = fixture.server.requests.filter((r) => r.operation === 'PutObject' || r.operation === 'UploadPart');
        expect(dataRequests).toHaveLength(4);
        for (const r of dataRequests) {
          if (location === S3ChecksumLocation.HEADER) expect(r.headers[header]).toBeDefined();
          else expect([r.headers['x-amz-content-sha256'], r.headers['x-amz-trailer']]).toEqual(['STREAMING-UNSIGNED-PAYLOAD-TRAILER', header]);
        }
        const create = fixture.server.requests.find((r) => r.operation === 'CreateMultipartUpload')!;
        expect(create.headers['x-amz-checksum-algorithm']).toBe(S3ChecksumAlgorithm[algorithm]);
        expect(create.headers['x-amz-checksum-type']).toBe(isCrc(algorithm) ? 'FULL_OBJECT' : 'COMPOSITE');

        const field = `Checksum${S3ChecksumAlgorithm[algorithm]}` as 'ChecksumCRC32C';
        for (const [key, data, partSize] of [
          [`single-${algorithm}-${location}`, single, null],
          [`multi-${algorithm}-${location}`, multi, 8 * MiB],
        ] as const) {
          const head = await fixture.sdk.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
          expect(head[field], key).toBe(expectedChecksum(algorithm, data, partSize));
          const got = await fixture.sdk.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
          expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha256(data));
        }
      });
    }
  }

  it('a part the server refuses with BadDigest fails the upload, which is aborted', async () => {
    fixture.server.resetRequests();
    fixture.server.faults.add({ operation: 'UploadPart', partNumber: 2, action: { type: 'error', status: 400, code: 'BadDigest' } });
    const data = makeBuffer(17 * MiB);
    const result = await run(fixture.client, {
      type: S3RequestType.PUT_OBJECT,
      request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/bad-digest`, {}, data),
      checksumConfig: { algorithm: S3ChecksumAlgorithm.CRC32C, location: S3ChecksumLocation.TRAILER },
    });
    expect(result.error).toMatchObject({ s3Code: 'BadDigest', operationName: 'UploadPart' });
    const uploads = await run(fixture.client, {
      type: S3RequestType.DEFAULT,
      operationName: 'ListMultipartUploads',
      request: httpRequest(fixture.server.host, 'GET', `/${bucket}?uploads`),
    });
    expect(uploads.body.toString()).not.toContain('<Upload>');
  });

  it('DEFAULT requests carry a checksum of a Buffer or file body', async () => {
    fixture.server.resetRequests();
    const result = await run(fixture.client, {
      type: S3RequestType.DEFAULT,
      operationName: 'PutObject',
      request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/default`, {}, Buffer.from('default body')),
      checksumConfig: { algorithm: S3ChecksumAlgorithm.SHA256, location: S3ChecksumLocation.TRAILER },
    });
    expect(result.error).toBeNull();
    expect(fixture.server.requests[0]?.headers['x-amz-trailer']).toBe('x-amz-checksum-sha256');
    const head = await fixture.sdk.send(new HeadObjectCommand({ Bucket: bucket, Key: 'default', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBe(createChecksum(S3ChecksumAlgorithm.SHA256).update(Buffer.from('default body')).digestBase64());
  });

  it('refuses bad checksum options at the call', () => {
    const put = (checksumConfig: object) => () =>
      fixture.client.makeRequest({
        type: S3RequestType.PUT_OBJECT,
        request: httpRequest(fixture.server.host, 'PUT', `/${bucket}/x`, {}, 'x'),
        checksumConfig: checksumConfig as never,
      });
    expect(put({ algorithm: S3ChecksumAlgorithm.CRC32C })).toThrow(/checksumConfig.location/);
    expect(put({ algorithm: 9, location: 1 })).toThrow(/checksumConfig.algorithm/);
    expect(put({ algorithm: 1, location: 3 })).toThrow(/checksumConfig.location/);
    expect(() =>
      fixture.client.makeRequest({
        type: S3RequestType.GET_OBJECT,
        request: httpRequest(fixture.server.host, 'GET', `/${bucket}/x`),
        checksumConfig: { algorithm: 1, location: 2 },
      }),
    ).toThrow(/GET_OBJECT/);
    expect(() =>
      fixture.client.makeRequest({
        type: S3RequestType.DEFAULT,
        operationName: 'HeadObject',
        request: httpRequest(fixture.server.host, 'HEAD', `/${bucket}/x`),
        checksumConfig: { algorithm: 1, location: 2 },
      }),
    ).toThrow(/no body/);
  });
});
