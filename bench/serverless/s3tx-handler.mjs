// A minimal function handler on s3tx: a multipart upload of the event's bytes, then a ranged
// download. The bundle bench and test/bundle.test.ts build it with esbuild.
import { AwsCredentialsProvider, HttpRequest, S3Client, S3RequestTlsMode, S3RequestType, createDefaultS3SigningConfig } from 's3tx';

let client;

export async function handler(event) {
  const credentialProvider = AwsCredentialsProvider.newStatic(event.accessKeyId, event.secretAccessKey);
  client ??= new S3Client({
    region: 'us-east-1',
    tlsMode: S3RequestTlsMode.DISABLED,
    partSize: 5 * 1024 * 1024,
    signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider }),
  });
  const headers = { host: event.host };
  const path = `/${event.bucket}/${event.key}`;
  await client.makeRequest({
    type: S3RequestType.PUT_OBJECT,
    request: new HttpRequest({ method: 'PUT', path, headers: { ...headers, 'content-length': String(event.body.length) }, body: event.body }),
  }).finishedFuture;
  const chunks = [];
  await client.makeRequest({
    type: S3RequestType.GET_OBJECT,
    request: new HttpRequest({ method: 'GET', path, headers: { ...headers, range: `bytes=${event.range[0]}-${event.range[1]}` } }),
    onBody: (chunk) => void chunks.push(Buffer.from(chunk)),
  }).finishedFuture;
  return Buffer.concat(chunks);
}

export async function close() {
  await client?.close();
}
