// The same handler on the AWS SDK for JavaScript: lib-storage's Upload, then a ranged GetObject.
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

let client;

export async function handler(event) {
  client ??= new S3Client({
    region: 'us-east-1',
    endpoint: `http://${event.host}`,
    forcePathStyle: true,
    credentials: { accessKeyId: event.accessKeyId, secretAccessKey: event.secretAccessKey },
  });
  await new Upload({ client, params: { Bucket: event.bucket, Key: event.key, Body: event.body }, partSize: 5 * 1024 * 1024 }).done();
  const response = await client.send(new GetObjectCommand({ Bucket: event.bucket, Key: event.key, Range: `bytes=${event.range[0]}-${event.range[1]}` }));
  return Buffer.from(await response.Body.transformToByteArray());
}

export async function close() {
  client?.destroy();
}
