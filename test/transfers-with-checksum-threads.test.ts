/**
 * Transfers that checksum hand their parts to checksum threads: the parts live in shared
 * memory, the threads compute their CRCs or hashes in place, and the results are the
 * same as the server's.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { S3ChecksumAlgorithm, S3ChecksumLocation, S3RequestType } from '../src/index.js';
import { createChecksum } from '../src/checksums/index.js';
import { checksumThreadCount } from '../src/checksums/checksum-threads.js';
import { httpRequest, run } from './helpers/client.js';
import { useLocalFixture } from './helpers/fixture.js';
import { MiB, makeBuffer, sha256 } from './helpers/servers.js';

const fixture = useLocalFixture('threaded');

/** Uploads `data` from a file with the given checksum; the upload must succeed. */
async function putFile(key: string, data: Buffer, algorithm: S3ChecksumAlgorithm, location: S3ChecksumLocation): Promise<void> {
  const path = join(fixture.folder.path, key);
  await writeFile(path, data);
  const put = await run(fixture.client, {
    type: S3RequestType.PUT_OBJECT,
    request: httpRequest(fixture.server.host, 'PUT', `/threaded/${key}`),
    sendFilepath: path,
    checksumConfig: { algorithm, location },
  });
  expect(put.error).toBeNull();
}

/** Downloads an object with validateResponse; the download must succeed. */
async function getValidated(key: string) {
  const get = await run(fixture.client, {
    type: S3RequestType.GET_OBJECT,
    request: httpRequest(fixture.server.host, 'GET', `/threaded/${key}`),
    checksumConfig: { validateResponse: true },
  });
  expect(get.error).toBeNull();
  return get;
}

describe('checksums on checksum threads', () => {
  it('a multipart upload from a file sends part CRCs computed on a thread, and a validated download checks them there', async () => {
    expect(checksumThreadCount()).toBe(0);
    const data = makeBuffer(21 * MiB + 7);
    await putFile('object', data, S3ChecksumAlgorithm.CRC32C, S3ChecksumLocation.TRAILER);
    expect(checksumThreadCount()).toBeGreaterThan(0);
    const head = await fixture.sdk.send(new HeadObjectCommand({ Bucket: 'threaded', Key: 'object', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32C).toBe(createChecksum(S3ChecksumAlgorithm.CRC32C).update(data).digestBase64());

    const get = await getValidated('object');
    expect(get.done[0]!.didValidateChecksum).toBe(true);
    expect(sha256(get.body)).toBe(sha256(data));
  });

  it('a composite SHA-256 upload in HEADER form and its download by parts', async () => {
    const data = makeBuffer(17 * MiB + 3);
    await putFile('composite', data, S3ChecksumAlgorithm.SHA256, S3ChecksumLocation.HEADER);
    const get = await getValidated('composite');
    expect(get.done[0]!.checksumValidationAlgorithm).toBe(S3ChecksumAlgorithm.SHA256);
    expect(sha256(get.body)).toBe(sha256(data));
  });
});
