/**
 * `s3tx demo`: the main job end to end on this machine. Starts the local
 * S3-compatible server on 127.0.0.1 (signatures checked, objects on disk),
 * uploads a generated file through a multipart PUT_OBJECT, downloads it with
 * GET_OBJECT to a file, compares the bytes and prints sizes, times and
 * throughput. Uses only the public API of `s3tx` and `s3tx/local`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AwsCredentialsProvider,
  HttpRequest,
  S3ChecksumAlgorithm,
  S3ChecksumLocation,
  S3Client,
  S3RequestTlsMode,
  S3RequestType,
  createDefaultS3SigningConfig,
} from '../index.js';
import { startLocalS3 } from '../local/index.js';

const MiB = 1024 * 1024;

async function writeTestFile(path: string, size: number): Promise<void> {
  const block = randomBytes(MiB);
  const file = await open(path, 'w');
  try {
    for (let offset = 0; offset < size; offset += MiB) {
      // Each block differs, so a part written at the wrong offset is caught.
      block.writeUInt32BE(offset / MiB, 0);
      await file.write(block, 0, Math.min(MiB, size - offset), offset);
    }
  } finally {
    await file.close();
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function rate(bytes: number, ms: number): string {
  return `${((bytes / MiB / ms) * 1000).toFixed(0)} MiB/s`;
}

export async function runDemo(sizeMiB = 256, log: (line: string) => void = console.log): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 's3tx-demo-'));
  const server = await startLocalS3({ root: join(folder, 'server') });
  const { accessKeyId, secretAccessKey } = server.credentials;
  const client = new S3Client({
    region: 'us-east-1',
    tlsMode: S3RequestTlsMode.DISABLED,
    signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(accessKeyId, secretAccessKey) }),
  });
  const host = server.host;
  try {
    const size = sizeMiB * MiB;
    const source = join(folder, 'source.bin');
    const target = join(folder, 'downloaded.bin');
    log(`s3tx demo: S3-compatible server at http://${host}, ${client.config.connections} connections, ${client.config.partSize / MiB} MiB parts`);
    await writeTestFile(source, size);

    await client.makeRequest({
      type: S3RequestType.DEFAULT,
      operationName: 'CreateBucket',
      request: new HttpRequest({ method: 'PUT', path: '/demo', headers: { host } }),
    }).finishedFuture;

    let started = performance.now();
    await client.makeRequest({
      type: S3RequestType.PUT_OBJECT,
      request: new HttpRequest({ method: 'PUT', path: '/demo/object.bin', headers: { host } }),
      sendFilepath: source,
      checksumConfig: { algorithm: S3ChecksumAlgorithm.CRC32C, location: S3ChecksumLocation.TRAILER },
    }).finishedFuture;
    const putMs = performance.now() - started;
    log(`PUT ${sizeMiB} MiB (multipart, CRC32C in trailers): ${(putMs / 1000).toFixed(2)} s, ${rate(size, putMs)}`);

    started = performance.now();
    let validated = false;
    const download = client.makeRequest({
      type: S3RequestType.GET_OBJECT,
      request: new HttpRequest({ method: 'GET', path: '/demo/object.bin', headers: { host } }),
      recvFilepath: target,
      checksumConfig: { validateResponse: true },
      onDone: ({ didValidateChecksum }) => (validated = didValidateChecksum),
    });
    await download.finishedFuture;
    // onDone runs after finishedFuture settles; shutdownEvent comes after both.
    await download.shutdownEvent;
    const getMs = performance.now() - started;
    log(
      `GET ${sizeMiB} MiB (ranged parts) to a file: ${(getMs / 1000).toFixed(2)} s, ${rate(size, getMs)}, CRC32C ${validated ? 'validated' : 'not validated'}`,
    );
    if (!validated) throw new Error('the download was not validated against the object checksum');

    const [expected, actual] = await Promise.all([sha256Of(source), sha256Of(target)]);
    if (expected !== actual) throw new Error(`the downloaded file differs from the source (sha256 ${actual} != ${expected})`);
    log(`bytes compared: identical (sha256 ${expected.slice(0, 16)}...)`);
  } finally {
    await client.close();
    await server.close();
    await rm(folder, { recursive: true, force: true });
  }
}
