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

describe('checksums on checksum threads', () => {
  it('a multipart upload from a file sends part CRCs computed on a thread, and a validated download checks them there', async () => {
    expect(checksumThreadCount()).toBe(0);
    const data = makeBuffer(21 * MiB + 7);
    const path = join(fixture.folder.path, 'source');
    await writeFile(path, data);
    const put = await run(fixture.client, {
      type: S3RequestType.PUT_OBJECT,
      request: httpRequest(fixture.server.host, 'PUT', '/threaded/object'),
      sendFilepath: path,
      checksumConfig: { algorithm: S3ChecksumAlgorithm.CRC32C, location: S3ChecksumLocation.TRAILER },
    });
    expect(put.error).toBeNull();
    expect(checksumThreadCount()).toBeGreaterThan(0);
    const head = await fixture.sdk.send(new HeadObjectCommand({ Bucket: 'threaded', Key: 'object', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32C).toBe(createChecksum(S3ChecksumAlgorithm.CRC32C).update(data).digestBase64());

    const get = await run(fixture.client, {
      type: S3RequestType.GET_OBJECT,
      request: httpRequest(fixture.server.host, 'GET', '/threaded/object'),
      checksumConfig: { validateResponse: true },
    });
    expect(get.error).toBeNull();
    expect(get.done[0]!.didValidateChecksum).toBe(true);
    expect(sha256(get.body)).toBe(sha256(data));
  });

  it('a composite SHA-256 upload in HEADER form and its download by parts', async () => {
    const data = makeBuffer(17 * MiB + 3);
    const path = join(fixture.folder.path, 'composite');
    await writeFile(path, data);
    const put = await run(fixture.client, {
      type: S3RequestType.PUT_OBJECT,
      request: httpRequest(fixture.server.host, 'PUT', '/threaded/composite'),
      sendFilepath: path,
      checksumConfig: { algorithm: S3ChecksumAlgorithm.SHA256, location: S3ChecksumLocation.HEADER },
    });
    expect(put.error).toBeNull();
    const get = await run(fixture.client, {
      type: S3RequestType.GET_OBJECT,
      request: httpRequest(fixture.server.host, 'GET', '/threaded/composite'),
      checksumConfig: { validateResponse: true },
    });
    expect(get.error).toBeNull();
    expect(get.done[0]!.checksumValidationAlgorithm).toBe(S3ChecksumAlgorithm.SHA256);
    expect(sha256(get.body)).toBe(sha256(data));
  });
});
