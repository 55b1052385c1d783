/**
 * The local server answering as S3 does where clients look at more than bytes: storage classes,
 * object tags, versioning state, server-side encryption (SSE-S3, SSE-KMS, SSE-C), refused
 * signature versions, a request signed for another region, ListParts' members and
 * CompleteMultipartUpload's Location. Driven by the AWS SDK for JavaScript, whose parsing of
 * every answer is part of the check, and by raw requests for what the SDK never sends.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client as SdkClient,
  UploadPartCommand,
  UploadPartCopyCommand,
  type ServerSideEncryption,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../src/local/index.js';
import { raw } from './helpers/raw.js';
import { ACCESS_KEY, MiB, SECRET_KEY, makeBuffer, sha256 } from './helpers/servers.js';

const BUCKET = 'behaviours';
const DIRECTORY_BUCKET = 'express--use1-az4--x-s3';

let server: LocalS3;
let sdk: SdkClient;

beforeAll(async () => {
  server = await startLocalS3({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  sdk = client(server);
  await sdk.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  sdk?.destroy();
  await server?.close();
});

function client(target: LocalS3, region = 'us-east-1'): SdkClient {
  return new SdkClient({ region, endpoint: target.endpoint, forcePathStyle: true, credentials: target.credentials, maxAttempts: 1 });
}

/** What an SDK call that was refused was refused with: S3's code, message and status, and the error's other members. */
async function refusal(call: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined } & Record<string, unknown>> {
  try {
    await call;
  } catch (error) {
    const failure = error as Error & { $metadata?: { httpStatusCode?: number } } & Record<string, unknown>;
    return { ...failure, name: failure.name, message: failure.message, status: failure.$metadata?.httpStatusCode };
  }
  throw new Error('the call was not refused');
}

async function text(body: { transformToString(): Promise<string> } | undefined): Promise<string> {
  return body!.transformToString();
}

describe('storage classes', () => {
  it('keeps the class a PUT names and answers it on HEAD and GET, and leaves STANDARD unsaid', async () => {
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'class/ia', Body: 'infrequent', StorageClass: 'STANDARD_IA' }));
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'class/plain', Body: 'standard' }));
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'class/standard', Body: 'standard', StorageClass: 'STANDARD' }));
    expect((await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'class/ia' }))).StorageClass).toBe('STANDARD_IA');
    expect((await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'class/ia' }))).StorageClass).toBe('STANDARD_IA');
    for (const key of ['class/plain', 'class/standard']) {
      const head = await raw(server.host, 'HEAD', `/${BUCKET}/${key}`);
      expect(head.status).toBe(200);
      expect(head.headers['x-amz-storage-class']).toBeUndefined();
    }
  });

  it('names each object its own class in ListObjectsV2 and ListObjects', async () => {
    const classes: StorageClass[] = ['REDUCED_REDUNDANCY', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'DEEP_ARCHIVE'];
    for (const storageClass of classes) {
      await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: `listed/${storageClass}`, Body: storageClass, StorageClass: storageClass }));
    }
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'listed/zz-default', Body: 'default' }));
    const expected = [...classes.map((name) => [`listed/${name}`, name]), ['listed/zz-default', 'STANDARD']].sort();
    const v2 = await sdk.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'listed/' }));
    expect(v2.Contents?.map((entry) => [entry.Key, entry.StorageClass])).toEqual(expected);
    const v1 = await sdk.send(new ListObjectsCommand({ Bucket: BUCKET, Prefix: 'listed/' }));
    expect(v1.Contents?.map((entry) => [entry.Key, entry.StorageClass])).toEqual(expected);
  });

  it('refuses a class S3 does not have, on PUT, CreateMultipartUpload and CopyObject, before storing anything', async () => {
    const invalid = { name: 'InvalidStorageClass', message: 'The storage class you specified is not valid', status: 400 };
    const storageClass = 'FANCY' as StorageClass;
    expect(await refusal(sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'class/fancy', Body: 'x', StorageClass: storageClass })))).toMatchObject(invalid);
    expect(await refusal(sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'class/fancy', StorageClass: storageClass })))).toMatchObject(
      invalid,
    );
    expect(
      await refusal(sdk.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'class/fancy', CopySource: `${BUCKET}/class/ia`, StorageClass: storageClass }))),
    ).toMatchObject(invalid);
    // Lower case is not the name either.
    expect((await raw(server.host, 'PUT', `/${BUCKET}/class/fancy`, { body: 'x', headers: { 'x-amz-storage-class': 'standard' } })).code).toBe(
      'InvalidStorageClass',
    );
    expect((await refusal(sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'class/fancy' })))).status).toBe(404);
    expect((await sdk.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'class/' }))).Uploads ?? []).toEqual([]);
  });

  it("gives a multipart upload's class to ListParts, ListMultipartUploads and the completed object", async () => {
    const { UploadId } = await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'class/multipart', StorageClass: 'ONEZONE_IA' }));
    const part = await sdk.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'class/multipart', UploadId, PartNumber: 1, Body: 'one part' }));
    expect((await sdk.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'class/multipart', UploadId }))).StorageClass).toBe('ONEZONE_IA');
    const uploads = await sdk.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'class/multipart' }));
    expect(uploads.Uploads?.map((upload) => [upload.Key, upload.StorageClass])).toEqual([['class/multipart', 'ONEZONE_IA']]);
    await sdk.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'class/multipart',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect((await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'class/multipart' }))).StorageClass).toBe('ONEZONE_IA');
  });

  it("gives a copy the class its request names, else STANDARD, never the source's", async () => {
    await sdk.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'class/copy-tiered', CopySource: `${BUCKET}/class/ia`, StorageClass: 'INTELLIGENT_TIERING' }));
    await sdk.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'class/copy-default', CopySource: `${BUCKET}/class/ia` }));
    expect((await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'class/copy-tiered' }))).StorageClass).toBe('INTELLIGENT_TIERING');
    expect((await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'class/copy-default' }))).StorageClass).toBeUndefined();
  });

  it('heads an archived object but will not read or copy its bytes until restored', async () => {
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'class/archived', Body: 'cold', StorageClass: 'GLACIER' }));
    expect((await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'class/archived' }))).StorageClass).toBe('GLACIER');
    const invalidState = {
      name: 'InvalidObjectState',
      message: "The operation is not valid for the object's storage class",
      status: 403,
      StorageClass: 'GLACIER',
    };
    expect(await refusal(sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'class/archived' })))).toMatchObject(invalidState);
    expect(await refusal(sdk.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'class/thawed', CopySource: `${BUCKET}/class/archived` })))).toMatchObject(
      invalidState,
    );
    // Glacier Instant Retrieval is read at once.
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'class/instant', Body: 'warm', StorageClass: 'GLACIER_IR' }));
    expect(await text((await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'class/instant' }))).Body)).toBe('warm');
  });

  it('answers EXPRESS_ONEZONE for every object of a directory bucket, and refuses any other class there', async () => {
    expect((await raw(server.host, 'PUT', `/${DIRECTORY_BUCKET}`, { service: 's3express' })).status).toBe(200);
    // A client of its own, which drives CreateSession for the bucket.
    const express = client(server);
    try {
      await express.send(new PutObjectCommand({ Bucket: DIRECTORY_BUCKET, Key: 'express/one', Body: 'fast' }));
      await express.send(new PutObjectCommand({ Bucket: DIRECTORY_BUCKET, Key: 'express/two', Body: 'fast', StorageClass: 'EXPRESS_ONEZONE' }));
      expect((await express.send(new HeadObjectCommand({ Bucket: DIRECTORY_BUCKET, Key: 'express/one' }))).StorageClass).toBe('EXPRESS_ONEZONE');
      const listed = await express.send(new ListObjectsV2Command({ Bucket: DIRECTORY_BUCKET, Prefix: 'express/' }));
      expect(listed.Contents?.map((entry) => entry.StorageClass)).toEqual(['EXPRESS_ONEZONE', 'EXPRESS_ONEZONE']);
      const refused = refusal(express.send(new PutObjectCommand({ Bucket: DIRECTORY_BUCKET, Key: 'express/ia', Body: 'x', StorageClass: 'STANDARD_IA' })));
      expect(await refused).toMatchObject({ name: 'InvalidStorageClass', status: 400 });
    } finally {
      express.destroy();
    }
  });
});

describe('object tags', () => {
  const tagsOf = async (key: string) => (await sdk.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet?.map((tag) => [tag.Key, tag.Value]);

  it('keeps the tags x-amz-tagging names on a PUT, counts them on GET and HEAD, and replaces and deletes them', async () => {
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tags/object', Body: 'tagged', Tagging: 'project=s3tx&note=two%20words%2Bmore&empty=' }));
    expect(await tagsOf('tags/object')).toEqual([
      ['project', 's3tx'],
      ['note', 'two words+more'],
      ['empty', ''],
    ]);
    expect((await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'tags/object' }))).TagCount).toBe(3);
    expect((await raw(server.host, 'HEAD', `/${BUCKET}/tags/object`)).headers['x-amz-tagging-count']).toBe('3');

    await sdk.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'tags/object', Tagging: { TagSet: [{ Key: 'only', Value: 'one' }] } }));
    expect(await tagsOf('tags/object')).toEqual([['only', 'one']]);
    expect((await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'tags/object' }))).TagCount).toBe(1);

    server.resetRequests();
    await sdk.send(new DeleteObjectTaggingCommand({ Bucket: BUCKET, Key: 'tags/object' }));
    expect(server.requests.map((record) => [record.operation, record.status])).toEqual([['DeleteObjectTagging', 204]]);
    expect(await tagsOf('tags/object')).toEqual([]);
    const head = await raw(server.host, 'HEAD', `/${BUCKET}/tags/object`);
    expect(head.headers['x-amz-tagging-count']).toBeUndefined();
    // The bytes are the object's still.
    expect(await text((await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'tags/object' }))).Body)).toBe('tagged');
  });

  it("holds to S3's limits: 10 tags, 128-character keys, 256-character values, no key twice, no aws: key", async () => {
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tags/limits', Body: 'x' }));
    const put = (TagSet: Array<{ Key: string; Value: string }>) =>
      sdk.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'tags/limits', Tagging: { TagSet } }));
    const ten = Array.from({ length: 10 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
    await put(ten);
    await put([{ Key: 'ключ'.repeat(32), Value: 'é'.repeat(256) }]);
    expect(await tagsOf('tags/limits')).toEqual([['ключ'.repeat(32), 'é'.repeat(256)]]);
    expect(await refusal(put([...ten, { Key: 'k10', Value: 'v10' }]))).toMatchObject({
      name: 'BadRequest',
      message: 'Object tags cannot be greater than 10',
      status: 400,
    });
    expect(await refusal(put([{ Key: 'k'.repeat(129), Value: '' }]))).toMatchObject({
      name: 'InvalidTag',
      message: 'The TagKey you have provided is too long, max 128',
    });
    expect(await refusal(put([{ Key: 'k', Value: 'v'.repeat(257) }]))).toMatchObject({
      name: 'InvalidTag',
      message: 'The TagValue you have provided is too long, max 256',
    });
    expect(
      await refusal(
        put([
          { Key: 'same', Value: '1' },
          { Key: 'same', Value: '2' },
        ]),
      ),
    ).toMatchObject({ name: 'InvalidTag', message: 'Cannot provide multiple Tags with the same key', status: 400 });
    expect(await refusal(put([{ Key: 'aws:owner', Value: 'me' }]))).toMatchObject({ name: 'InvalidTag', message: 'Your TagKey cannot be prefixed with aws:' });
    expect(await refusal(put([{ Key: 'semi;colon', Value: 'x' }]))).toMatchObject({ name: 'InvalidTag', message: 'The TagKey you have provided is invalid' });
    // A refused set leaves the tags as they were.
    expect(await tagsOf('tags/limits')).toEqual([['ключ'.repeat(32), 'é'.repeat(256)]]);

    const header = (Tagging: string) => sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tags/by-header', Body: 'x', Tagging }));
    expect(await refusal(header('a=1&a=2'))).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect(await refusal(header(Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&')))).toMatchObject({ name: 'BadRequest' });
    expect(await refusal(header(`k=${'v'.repeat(257)}`))).toMatchObject({ name: 'InvalidTag' });
    expect((await refusal(sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'tags/by-header' })))).status).toBe(404);
  });

  it('refuses a Tagging document that is not one, or too large to be one, without reading past its limit', async () => {
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tags/xml', Body: 'x' }));
    for (const body of ['<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>', '<Tagging><TagSet>', 'not xml', '<Other/>']) {
      const answer = await raw(server.host, 'PUT', `/${BUCKET}/tags/xml?tagging`, { body });
      expect([answer.status, answer.code], body).toEqual([400, 'MalformedXML']);
    }
    server.resetRequests();
    const huge = `<Tagging><TagSet>${'<!-- padding -->'.repeat(512 * 1024)}</TagSet></Tagging>`;
    const answer = await raw(server.host, 'PUT', `/${BUCKET}/tags/xml?tagging`, { body: huge }).catch((error: Error) => error);
    // The server answers and closes the connection as soon as the document passes its limit; the client may still be sending.
    if (!(answer instanceof Error)) expect(answer.code).toBe('MalformedXML');
    expect(server.requests[0]!.status).toBe(400);
    expect(server.requests[0]!.bytesIn).toBeLessThan(huge.length / 4);
    expect(await tagsOf('tags/xml')).toEqual([]);
  });

  it('answers NoSuchKey for the tags of an object that is not there', async () => {
    expect(await refusal(sdk.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'tags/missing' })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    const put = sdk.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'tags/missing', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }));
    expect(await refusal(put)).toMatchObject({ name: 'NoSuchKey' });
    expect(await refusal(sdk.send(new DeleteObjectTaggingCommand({ Bucket: BUCKET, Key: 'tags/missing' })))).toMatchObject({ name: 'NoSuchKey' });
  });

  it('gives a multipart object the tags of its CreateMultipartUpload once completed', async () => {
    const { UploadId } = await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'tags/multipart', Tagging: 'stage=final' }));
    const part = await sdk.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'tags/multipart', UploadId, PartNumber: 1, Body: 'part' }));
    expect(await refusal(sdk.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'tags/multipart' })))).toMatchObject({ name: 'NoSuchKey' });
    await sdk.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'tags/multipart', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );
    expect(await tagsOf('tags/multipart')).toEqual([['stage', 'final']]);
    expect(await refusal(sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'tags/multipart-bad', Tagging: 'a=1&a=1' })))).toMatchObject({
      name: 'InvalidArgument',
    });
  });

  it("copies the source's tags by default, and the request's with x-amz-tagging-directive REPLACE", async () => {
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tags/source', Body: 'source', Tagging: 'from=source' }));
    await sdk.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'tags/copied', CopySource: `${BUCKET}/tags/source`, Tagging: 'ignored=yes' }));
    expect(await tagsOf('tags/copied')).toEqual([['from', 'source']]);
    await sdk.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'tags/replaced', CopySource: `${BUCKET}/tags/source`, TaggingDirective: 'REPLACE', Tagging: 'from=copy' }),
    );
    expect(await tagsOf('tags/replaced')).toEqual([['from', 'copy']]);
    await sdk.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'tags/cleared', CopySource: `${BUCKET}/tags/source`, TaggingDirective: 'REPLACE' }));
    expect(await tagsOf('tags/cleared')).toEqual([]);
    const odd = await raw(server.host, 'PUT', `/${BUCKET}/tags/odd`, {
      headers: { 'x-amz-copy-source': `/${BUCKET}/tags/source`, 'x-amz-tagging-directive': 'MERGE' },
    });
    expect([odd.status, odd.code]).toEqual([400, 'InvalidArgument']);
  });
});

describe('bucket versioning', () => {
  it('answers GetBucketVersioning for a bucket that never had versioning with no Status, as S3 does', async () => {
    const answer = await sdk.send(new GetBucketVersioningCommand({ Bucket: BUCKET }));
    expect(answer.Status).toBeUndefined();
    expect(answer.MFADelete).toBeUndefined();
    const document = await raw(server.host, 'GET', `/${BUCKET}?versioning`);
    expect(document.body.toString()).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>');
    expect((await raw(server.host, 'GET', '/no-such-bucket?versioning')).code).toBe('NoSuchBucket');
    // Turning it on is not served: NotImplemented, not a pretence.
    expect(
      (await raw(server.host, 'PUT', `/${BUCKET}?versioning`, { body: '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>' })).code,
    ).toBe('NotImplemented');
  });
});

describe('server-side encryption', () => {
  let kmsServer: LocalS3;
  let kms: SdkClient;
  beforeAll(async () => {
    kmsServer = await startLocalS3({ region: 'eu-west-3' });
    kms = client(kmsServer, 'eu-west-3');
    await kms.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  afterAll(async () => {
    kms?.destroy();
    await kmsServer?.close();
  });

  it('reports SSE-S3 for an object stored without asking, as S3 encrypts every object since 2023', async () => {
    const put = await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sse/default', Body: 'x' }));
    expect(put.ServerSideEncryption).toBe('AES256');
    expect((await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sse/default' }))).ServerSideEncryption).toBe('AES256');
  });

  it('keeps and echoes AES256, aws:kms and aws:kms:dsse on PUT, HEAD and GET, naming a default key in the server region', async () => {
    const cases: Array<[string, ServerSideEncryption, string | undefined, string | undefined]> = [
      ['sse/s3', 'AES256', undefined, undefined],
      ['sse/kms-default', 'aws:kms', undefined, /^arn:aws:kms:eu-west-3:\d{12}:key\/[0-9a-f-]{36}$/.source],
      ['sse/kms-own', 'aws:kms', 'arn:aws:kms:eu-west-3:111122223333:key/my-key', 'arn:aws:kms:eu-west-3:111122223333:key/my-key'],
      ['sse/dsse', 'aws:kms:dsse', 'alias/dual', 'alias/dual'],
    ];
    for (const [key, algorithm, keyId, expected] of cases) {
      const put = await kms.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key, ServerSideEncryption: algorithm, SSEKMSKeyId: keyId }));
      const head = await kms.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      const got = await kms.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(await text(got.Body)).toBe(key);
      for (const answer of [put, head, got]) {
        expect(answer.ServerSideEncryption, key).toBe(algorithm);
        if (expected === undefined) expect(answer.SSEKMSKeyId, key).toBeUndefined();
        else expect(answer.SSEKMSKeyId, key).toMatch(new RegExp(`^${expected}$`));
      }
    }
    const defaultKey = (await kms.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sse/kms-default' }))).SSEKMSKeyId;
    // One default key, the same for every object.
    const again = await kms.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sse/kms-again', Body: 'x', ServerSideEncryption: 'aws:kms' }));
    expect(again.SSEKMSKeyId).toBe(defaultKey);
  });

  it('carries aws:kms through CreateMultipartUpload, UploadPart and CompleteMultipartUpload', async () => {
    const created = await kms.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'sse/multipart', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'key-1' }),
    );
    const part = await kms.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'sse/multipart', UploadId: created.UploadId, PartNumber: 1, Body: 'part' }));
    const completed = await kms.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'sse/multipart',
        UploadId: created.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const head = await kms.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sse/multipart' }));
    for (const answer of [created, part, completed, head]) expect([answer.ServerSideEncryption, answer.SSEKMSKeyId]).toEqual(['aws:kms', 'key-1']);
  });

  it('refuses an encryption S3 does not have, and a KMS key without aws:kms', async () => {
    const unknown = await raw(server.host, 'PUT', `/${BUCKET}/sse/bad`, { body: 'x', headers: { 'x-amz-server-side-encryption': 'AES128' } });
    expect([unknown.status, unknown.code]).toEqual([400, 'InvalidArgument']);
    expect(unknown.body.toString()).toContain('<Message>The encryption method specified is not supported</Message>');
    const keyWithoutKms = sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sse/bad', Body: 'x', ServerSideEncryption: 'AES256', SSEKMSKeyId: 'key-1' }));
    expect(await refusal(keyWithoutKms)).toMatchObject({ name: 'InvalidArgument', status: 400 });
    const multipart = await raw(server.host, 'POST', `/${BUCKET}/sse/bad?uploads`, { headers: { 'x-amz-server-side-encryption': 'rot13' } });
    expect(multipart.code).toBe('InvalidArgument');
    expect((await refusal(sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sse/bad' })))).status).toBe(404);
  });
});

describe('SSE-C: server-side encryption with a key the customer sends', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  const md5 = (key: Buffer) => createHash('md5').update(key).digest('base64');
  const withKey = (key: Buffer) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64') });
  const withSourceKey = (key: Buffer) => ({ CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key.toString('base64') });
  const keyHeaders = (key: Buffer, digest = md5(key), prefix = 'x-amz-server-side-encryption-customer-') => ({
    [`${prefix}algorithm`]: 'AES256',
    [`${prefix}key`]: key.toString('base64'),
    [`${prefix}key-MD5`]: digest,
  });
  const secrets = [keyA, keyB].flatMap((key) => [key.toString('base64'), key.toString('hex')]);

  /** Whether any request record kept a customer key, in any spelling. */
  const logged = () => secrets.some((secret) => JSON.stringify(server.requests).includes(secret));

  it('stores an object under a customer key and serves it only to that key: none is InvalidRequest, another AccessDenied', async () => {
    const data = makeBuffer(100_000);
    const put = await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ssec/object', Body: data, ...withKey(keyA) }));
    expect([put.SSECustomerAlgorithm, put.SSECustomerKeyMD5, put.ServerSideEncryption]).toEqual(['AES256', md5(keyA), undefined]);
    const head = await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'ssec/object', ...withKey(keyA) }));
    expect([head.SSECustomerAlgorithm, head.SSECustomerKeyMD5, head.ContentLength]).toEqual(['AES256', md5(keyA), data.length]);
    const got = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ssec/object', ...withKey(keyA) }));
    expect(got.SSECustomerKeyMD5).toBe(md5(keyA));
    expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha256(data));

    expect(await refusal(sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ssec/object' })))).toMatchObject({
      name: 'InvalidRequest',
      status: 400,
      message: 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
    });
    expect(await refusal(sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ssec/object', ...withKey(keyB) })))).toMatchObject({
      name: 'AccessDenied',
      status: 403,
    });
    expect((await refusal(sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'ssec/object' })))).status).toBe(400);
    expect((await refusal(sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'ssec/object', ...withKey(keyB) })))).status).toBe(403);
    // A range or a part of it is the same object.
    const ranged = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ssec/object', Range: 'bytes=10-19', ...withKey(keyA) }));
    expect(Buffer.from(await ranged.Body!.transformToByteArray())).toEqual(data.subarray(10, 20));

    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ssec/plain', Body: 'plain' }));
    expect(await refusal(sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ssec/plain', ...withKey(keyA) })))).toMatchObject({
      name: 'InvalidRequest',
      message: 'The encryption parameters are not applicable to this object.',
    });
    expect(logged()).toBe(false);
  });

  it("checks the three headers as S3 does, in S3's words, and never repeats the key", async () => {
    const short = randomBytes(24);
    const cases: Array<[Record<string, string>, string, string]> = [
      [keyHeaders(short), 'InvalidArgument', 'The secret key was invalid for the specified algorithm.'],
      [keyHeaders(keyA, md5(keyB)), 'InvalidArgument', 'The calculated MD5 hash of the key did not match the hash that was provided.'],
      [
        { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key': keyA.toString('base64') },
        'InvalidArgument',
        'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.',
      ],
      [
        { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' },
        'InvalidArgument',
        'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.',
      ],
      [
        { ...keyHeaders(keyA), 'x-amz-server-side-encryption-customer-algorithm': 'AES128' },
        'InvalidEncryptionAlgorithmError',
        'The encryption request that you specified is not valid. The valid value is AES256.',
      ],
      [
        { ...keyHeaders(keyA), 'x-amz-server-side-encryption': 'AES256' },
        'InvalidArgument',
        'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
      ],
    ];
    for (const [headers, code, message] of cases) {
      const answer = await raw(server.host, 'PUT', `/${BUCKET}/ssec/refused`, { body: 'x', headers });
      const body = answer.body.toString();
      expect([answer.status, answer.code, /<Message>([^<]*)<\/Message>/.exec(body)?.[1]], message).toEqual([400, code, message]);
      for (const secret of [...secrets, short.toString('base64')]) expect(body).not.toContain(secret);
    }
    expect((await raw(server.host, 'HEAD', `/${BUCKET}/ssec/refused`)).status).toBe(404);
    expect(logged()).toBe(false);
  });

  it('takes every part of an SSE-C upload only with the key it began with', async () => {
    const key = 'ssec/multipart';
    const part1 = makeBuffer(5 * MiB);
    const created = await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ...withKey(keyA) }));
    expect([created.SSECustomerAlgorithm, created.SSECustomerKeyMD5]).toEqual(['AES256', md5(keyA)]);
    const UploadId = created.UploadId;
    expect(await refusal(sdk.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: part1 })))).toMatchObject({
      name: 'InvalidRequest',
      message: 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.',
    });
    expect(await refusal(sdk.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: part1, ...withKey(keyB) })))).toMatchObject({
      name: 'InvalidRequest',
      message: 'The provided encryption parameters did not match the ones used originally.',
    });
    const first = await sdk.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: part1, ...withKey(keyA) }));
    expect(first.SSECustomerKeyMD5).toBe(md5(keyA));
    const second = await sdk.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 2, Body: 'the rest', ...withKey(keyA) }));
    await sdk.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.ETag },
            { PartNumber: 2, ETag: second.ETag },
          ],
        },
      }),
    );
    expect((await refusal(sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })))).status).toBe(400);
    const got = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ...withKey(keyA) }));
    expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha256(Buffer.concat([part1, Buffer.from('the rest')])));

    // A key on a part of an upload that began without one is refused too.
    const plain = await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'ssec/plain-upload' }));
    const keyed = sdk.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'ssec/plain-upload', UploadId: plain.UploadId, PartNumber: 1, Body: 'x', ...withKey(keyA) }),
    );
    expect(await refusal(keyed)).toMatchObject({ name: 'InvalidRequest' });
    expect(logged()).toBe(false);
  });

  it('copies from an SSE-C source only with x-amz-copy-source-server-side-encryption-customer-*, to a destination under its own key', async () => {
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ssec/source', Body: 'secret source', ...withKey(keyA) }));
    const copy = (Key: string, extra: object) => sdk.send(new CopyObjectCommand({ Bucket: BUCKET, Key, CopySource: `${BUCKET}/ssec/source`, ...extra }));
    expect(await refusal(copy('ssec/copy', {}))).toMatchObject({ name: 'InvalidRequest', status: 400 });
    expect(await refusal(copy('ssec/copy', withSourceKey(keyB)))).toMatchObject({ name: 'AccessDenied', status: 403 });

    const rekeyed = await copy('ssec/copy-b', { ...withSourceKey(keyA), ...withKey(keyB) });
    expect(rekeyed.SSECustomerKeyMD5).toBe(md5(keyB));
    expect(await text((await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ssec/copy-b', ...withKey(keyB) }))).Body)).toBe('secret source');
    expect(await refusal(sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ssec/copy-b', ...withKey(keyA) })))).toMatchObject({ name: 'AccessDenied' });

    // Without a key of its own, the copy is stored as S3 stores any object: SSE-S3.
    const decrypted = await copy('ssec/copy-plain', withSourceKey(keyA));
    expect([decrypted.ServerSideEncryption, decrypted.SSECustomerKeyMD5]).toEqual(['AES256', undefined]);
    expect(await text((await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ssec/copy-plain' }))).Body)).toBe('secret source');

    // UploadPartCopy reads the source with its key and writes the part under the upload's.
    const { UploadId } = await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'ssec/part-copy', ...withKey(keyB) }));
    const partCopy = (extra: object) =>
      sdk.send(new UploadPartCopyCommand({ Bucket: BUCKET, Key: 'ssec/part-copy', UploadId, PartNumber: 1, CopySource: `${BUCKET}/ssec/source`, ...extra }));
    expect(await refusal(partCopy(withKey(keyB)))).toMatchObject({ name: 'InvalidRequest' });
    const copied = await partCopy({ ...withKey(keyB), ...withSourceKey(keyA) });
    await sdk.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'ssec/part-copy',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: copied.CopyPartResult!.ETag }] },
      }),
    );
    expect(await text((await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ssec/part-copy', ...withKey(keyB) }))).Body)).toBe('secret source');
    expect(logged()).toBe(false);
  });
});

describe('authentication S3 no longer takes', () => {
  const UNSUPPORTED = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

  async function answerTo(path: string, headers: Record<string, string>, method = 'GET') {
    const response = await request(`${server.endpoint}${path}`, { method: method as 'GET', headers });
    const body = await response.body.text();
    return { status: response.statusCode, code: /<Code>([^<]*)<\/Code>/.exec(body)?.[1], message: /<Message>([^<]*)<\/Message>/.exec(body)?.[1] };
  }

  it('refuses Signature Version 2, in a header or a presigned URL, as InvalidRequest rather than AccessDenied', async () => {
    await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'auth/object', Body: 'x' }));
    const date = new Date().toUTCString();
    const refused = { status: 400, code: 'InvalidRequest', message: UNSUPPORTED };
    expect(await answerTo(`/${BUCKET}/auth/object`, { date, authorization: `AWS ${ACCESS_KEY}:c2lnbmF0dXJlLXYyLXNpZ25hdHVyZQ==` })).toEqual(refused);
    expect(await answerTo(`/${BUCKET}/auth/object`, { date, authorization: `AWS ${ACCESS_KEY}:c2ln` }, 'PUT')).toEqual(refused);
    server.resetRequests();
    const expires = Math.floor(Date.now() / 1000) + 600;
    const presigned = `/${BUCKET}/auth/object?AWSAccessKeyId=${ACCESS_KEY}&Expires=${expires}&Signature=djJzaWduYXR1cmVzZWNyZXQ%3D`;
    expect(await answerTo(presigned, {})).toEqual(refused);
    // Refused here, the signature could still be good at S3 until it expires: the log keeps it out.
    expect(server.requests[0]!.query).toEqual({ AWSAccessKeyId: ACCESS_KEY, Expires: String(expires) });
  });

  it('refuses a browser POST policy upload before reading its form, and closes the connection', async () => {
    server.resetRequests();
    const declared = 50 * MiB;
    const answer = await new Promise<string>((resolve, reject) => {
      let received = '';
      const socket = connect(server.port, '127.0.0.1', () => {
        const boundary = 'policyboundary';
        socket.write(
          `POST /${BUCKET} HTTP/1.1\r\nhost: ${server.host}\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${declared}\r\n\r\n` +
            `--${boundary}\r\ncontent-disposition: form-data; name="key"\r\n\r\nauth/posted\r\n`,
        );
        // Some of the file, never all 50 MiB: the answer must come without them.
        socket.write(Buffer.alloc(64 * 1024, 0x61));
      });
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('<Code>InvalidRequest</Code>');
    expect(answer).toContain(`<Message>${UNSUPPORTED}</Message>`);
    expect(server.requests.map((record) => [record.operation, record.status, record.bytesIn])).toEqual([['PostObject', 400, 0]]);
    expect((await refusal(sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'auth/posted' })))).status).toBe(404);
  });

  it("answers a request signed for another region with AuthorizationHeaderMalformed naming the server's region", async () => {
    const elsewhere = client(server, 'ap-south-1');
    try {
      const refused = await refusal(elsewhere.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'auth/object' })));
      expect(refused.status).toBe(400);
      const get = await refusal(elsewhere.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'auth/object' })));
      expect(get).toMatchObject({
        name: 'AuthorizationHeaderMalformed',
        message: "The authorization header is malformed; the region 'ap-south-1' is wrong; expecting 'us-east-1'",
        status: 400,
        Region: 'us-east-1',
      });
    } finally {
      elsewhere.destroy();
    }
  });
});

describe('ListParts and CompleteMultipartUpload', () => {
  it('lists the checksum algorithm and type, class, initiator and owner of an upload, and each part its checksum', async () => {
    const key = 'listparts/with checksum';
    const { UploadId } = await sdk.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: 'CRC32C', StorageClass: 'STANDARD_IA' }),
    );
    const bodies = [makeBuffer(5 * MiB), Buffer.from('second')];
    const uploaded = [];
    for (const [index, Body] of bodies.entries()) {
      uploaded.push(await sdk.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: index + 1, Body, ChecksumAlgorithm: 'CRC32C' })));
    }
    const listed = await sdk.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId }));
    expect(listed).toMatchObject({ ChecksumAlgorithm: 'CRC32C', ChecksumType: 'COMPOSITE', StorageClass: 'STANDARD_IA' });
    expect(listed.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    expect(listed.Owner?.DisplayName).toBeTruthy();
    expect(listed.Initiator).toEqual({ ID: listed.Owner!.ID, DisplayName: listed.Owner!.DisplayName });
    expect(listed.Parts?.map((part) => [part.PartNumber, part.ChecksumCRC32C])).toEqual(uploaded.map((part, index) => [index + 1, part.ChecksumCRC32C]));
    expect(uploaded.every((part) => part.ChecksumCRC32C)).toBe(true);

    const completed = await sdk.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: uploaded.map((part, index) => ({ PartNumber: index + 1, ETag: part.ETag, ChecksumCRC32C: part.ChecksumCRC32C })) },
      }),
    );
    // An absolute URL, as S3 gives: the request's scheme and Host, then the bucket and the encoded key.
    expect(completed.Location).toBe(`${server.endpoint}/${BUCKET}/${encodeURIComponent(key)}`);

    const plain = await sdk.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'listparts/plain' }));
    const plainParts = await sdk.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'listparts/plain', UploadId: plain.UploadId }));
    expect([plainParts.ChecksumAlgorithm, plainParts.StorageClass, plainParts.Parts ?? []]).toEqual([undefined, 'STANDARD', []]);
  });

  it('names a virtual-hosted bucket in the Host of the Location, not in its path', async () => {
    const host = `${BUCKET}.localhost:${server.port}`;
    const created = await raw(server.host, 'POST', '/listparts/virtual?uploads', { hostHeader: host });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())![1]!;
    const part = await raw(server.host, 'PUT', `/listparts/virtual?partNumber=1&uploadId=${encodeURIComponent(uploadId)}`, {
      hostHeader: host,
      body: 'only part',
    });
    const body = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.headers.etag}</ETag></Part></CompleteMultipartUpload>`;
    const completed = await raw(server.host, 'POST', `/listparts/virtual?uploadId=${encodeURIComponent(uploadId)}`, { hostHeader: host, body });
    expect(/<Location>([^<]+)<\/Location>/.exec(completed.body.toString())?.[1]).toBe(`http://${host}/listparts%2Fvirtual`);
  });
});
