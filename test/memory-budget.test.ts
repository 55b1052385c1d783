import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3RequestType, type S3Client } from '../src/index.js';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { httpRequest, newClient, run } from './helpers/client.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, sha256 } from './helpers/servers.js';

let server: LocalS3;
let client: S3Client;

beforeAll(async () => {
  server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  // Room for four 8 MiB parts: sixty transfers must take turns for it.
  client = newClient({ memoryLimit: 32 * MiB });
  await run(client, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', '/load') });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
});

describe('many transfers on one client with a small memory limit', () => {
  it('sixty concurrent uploads, then sixty concurrent downloads, mixing 64 KiB and 12 MiB objects, all complete byte-exact', async () => {
    const objects = Array.from({ length: 60 }, (_, i) => makeBuffer(i % 6 === 0 ? 12 * MiB + i : 64 * 1024 + i));
    const puts = await Promise.all(
      objects.map((data, i) => run(client, { type: S3RequestType.PUT_OBJECT, request: httpRequest(server.host, 'PUT', `/load/o${i}`, {}, data) })),
    );
    expect(puts.filter((result) => result.error !== null)).toEqual([]);
    server.resetRequests();
    const gets = await Promise.all(
      objects.map((_, i) => run(client, { type: S3RequestType.GET_OBJECT, request: httpRequest(server.host, 'GET', `/load/o${i}`) })),
    );
    gets.forEach((result, i) => {
      expect(result.error, `object ${i}`).toBeNull();
      expect(sha256(result.body), `object ${i}`).toBe(sha256(objects[i]!));
    });
    // 32 MiB of part buffers, and no GET reserves less than 4 MiB (the tails of the 12 MiB objects; a small
    // object's first GET reserves a whole 8 MiB part): never more than eight at once.
    expect(server.maxConcurrent).toBeLessThanOrEqual(8);
  }, 120_000);
});
