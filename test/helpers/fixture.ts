/** A local server with a bucket, an s3tx client, an AWS SDK client and a temporary folder, for one test file. */
import { S3Client as SdkClient } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { S3RequestType, type S3Client, type S3ClientOptions } from '../../src/index.js';
import { startLocalS3, type LocalS3 } from '../../src/local/index.js';
import { httpRequest, newClient, run } from './client.js';
import { ACCESS_KEY, SECRET_KEY, tempFolder } from './servers.js';

export interface Fixture {
  server: LocalS3;
  client: S3Client;
  sdk: SdkClient;
  folder: { path: string; remove: () => Promise<void> };
}

export interface FixtureOptions {
  /** Options of the s3tx client, beside the test defaults. */
  client?: Partial<S3ClientOptions>;
  /** Clear the server's fault rules and request log before each test. */
  resetEachTest?: boolean;
}

/** Registers beforeAll/afterAll hooks; the fixture's fields are filled once beforeAll has run. */
export function useLocalFixture(bucket: string, options: FixtureOptions = {}): Fixture {
  const fixture = {} as Fixture;
  beforeAll(async () => {
    fixture.server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    fixture.client = newClient(options.client);
    fixture.sdk = new SdkClient({ region: 'us-east-1', endpoint: fixture.server.endpoint, forcePathStyle: true, credentials: fixture.server.credentials });
    fixture.folder = await tempFolder();
    const created = await run(fixture.client, {
      type: S3RequestType.DEFAULT,
      operationName: 'CreateBucket',
      request: httpRequest(fixture.server.host, 'PUT', `/${bucket}`),
    });
    expect(created.error).toBeNull();
  });
  if (options.resetEachTest) {
    beforeEach(() => {
      fixture.server.faults.clear();
      fixture.server.resetRequests();
    });
  }
  afterAll(async () => {
    fixture.sdk?.destroy();
    await fixture.client?.close();
    await fixture.server?.close();
    await fixture.folder?.remove();
  });
  return fixture;
}
