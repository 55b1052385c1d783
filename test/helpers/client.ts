import { Readable } from 'node:stream';
import {
  AwsCredentialsProvider,
  HttpRequest,
  S3Client,
  S3RequestTlsMode,
  S3RequestType,
  createDefaultS3SigningConfig,
  type S3ClientOptions,
  type S3RequestDoneResult,
  type S3RequestOptions,
} from '../../src/index.js';
import { ACCESS_KEY, SECRET_KEY } from './servers.js';

export function newClient(options: Partial<S3ClientOptions> = {}): S3Client {
  return new S3Client({
    region: 'us-east-1',
    tlsMode: S3RequestTlsMode.DISABLED,
    signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS_KEY, SECRET_KEY) }),
    ...options,
  });
}

/** Creates `bucket` on a test server (`endpoint`, `host`) with a client of its own; `options` for TLS and the like. */
export async function createBucket(server: { endpoint: string; host: string }, bucket: string, options: Partial<S3ClientOptions> = {}): Promise<void> {
  const c = newClient({ endpoint: server.endpoint, ...options });
  try {
    const { error } = await run(c, { type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: httpRequest(server.host, 'PUT', `/${bucket}`) });
    if (error) throw error;
  } finally {
    await c.close();
  }
}

export function httpRequest(host: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): HttpRequest {
  return new HttpRequest({ method, path, headers: { host, ...headers }, body });
}

/** What the callbacks of one request saw. */
export interface Observed {
  headers: Array<{ statusCode: number; headers: Array<[string, string]> }>;
  body: Buffer;
  offsets: number[];
  progress: number;
  done: S3RequestDoneResult[];
  /** Whether finishedFuture had settled when onDone ran. */
  settledBeforeDone: boolean | null;
}

/** Runs makeRequest, collecting what every callback received. */
export async function run(
  client: S3Client,
  options: Omit<S3RequestOptions, 'onHeaders' | 'onBody' | 'onDone' | 'onProgress'>,
): Promise<Observed & { error: unknown }> {
  const chunks: Buffer[] = [];
  const observed: Observed = { headers: [], body: Buffer.alloc(0), offsets: [], progress: 0, done: [], settledBeforeDone: null };
  let settled = false;
  let nextOffset = 0;
  const request = client.makeRequest({
    ...options,
    onHeaders: (statusCode, headers) => observed.headers.push({ statusCode, headers }),
    onBody: (chunk, offset) => {
      if (offset !== nextOffset) throw new Error(`onBody offset ${offset}, expected ${nextOffset}`);
      nextOffset += chunk.length;
      observed.offsets.push(offset);
      chunks.push(Buffer.from(chunk));
    },
    onProgress: (bytes) => (observed.progress += bytes),
    onDone: (result) => {
      observed.settledBeforeDone = settled;
      observed.done.push(result);
    },
  });
  const finished = request.finishedFuture.then(
    () => null,
    (error: unknown) => error,
  );
  // Mark settlement synchronously in the same tick the promise settles.
  request.finishedFuture.then(
    () => (settled = true),
    () => (settled = true),
  );
  const error = await finished;
  await request.shutdownEvent;
  observed.body = Buffer.concat(chunks);
  return { ...observed, error };
}

export function streamOf(data: Buffer, chunkSize = 100_000): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < data.length; offset += chunkSize) yield data.subarray(offset, offset + chunkSize);
    })(),
  );
}

export { S3RequestType };

/** The environment an AWS tool finds its endpoint, region and credentials in, pointed at a test server; no profile files. */
export function awsEnvironment(
  endpoint: string,
  folder: string,
  credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_CONFIG_FILE: `${folder}/no-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${folder}/no-credentials`,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
