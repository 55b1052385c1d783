// The Node contenders of the transfer bench, one workload per process so that each has its own
// CPU time and peak RSS. Usage:
//   node node.mjs CONTENDER WORKLOAD ENDPOINT BUCKET ACCESS SECRET [ARGS]   -> prints {"seconds": ...}
// CONTENDER: s3tx, s3tx-crc32c, s3tx-s3express, client-s3, client-s3-crc32c, lib-storage, lib-storage-q16, minio
// WORKLOAD:  get-memory KEY | get-file KEY PATH | put-file KEY PATH | small-put PREFIX COUNT SIZE | small-get PREFIX COUNT
// s3tx and client-s3 take an https ENDPOINT too, whose certificate they verify against the CA certificate in the file
// BENCH_CA names (else the system's trust store), never with verification off; minio here is plain http only.
// s3tx goes through the HTTP proxy BENCH_PROXY names (its `proxy` option), if set; the bench strips the environment's
// proxy variables, so that without it every contender connects directly.
// s3tx-s3express is s3tx signing with S3 Express sessions (enableS3Express, AwsSigningAlgorithm.V4_S3EXPRESS, as an
// aws-c-s3 client is set up for a directory bucket): the same calls, each request signed with its bucket's session.
// Beside the seconds, the line printed gives `cpu`: the process's CPU seconds (user + system, every thread) over the
// transfer alone, from process.cpuUsage(), without Node's start and the imports GNU time also counts.
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';

const [contender, workload, endpoint, bucket, accessKeyId, secretAccessKey, ...args] = process.argv.slice(2);
const MiB = 1024 * 1024;
const url = new URL(endpoint);
const crc = contender.endsWith('-crc32c');
const express = contender === 's3tx-s3express';
const ca = process.env.BENCH_CA ? readFileSync(process.env.BENCH_CA) : null;
if (url.protocol === 'https:' && contender === 'minio') throw new Error('the minio contender has no https setup');

async function s3tx() {
  const {
    S3Client,
    S3ChecksumAlgorithm,
    S3ChecksumLocation,
    S3RequestType,
    HttpRequest,
    AwsCredentialsProvider,
    AwsSigningAlgorithm,
    createDefaultS3SigningConfig,
  } = await import('../../dist/index.js');
  // The scaling bench varies these; the other workloads run with the defaults.
  const tuning = {
    ...(process.env.S3TX_CONNECTIONS ? { maxConnections: Number(process.env.S3TX_CONNECTIONS) } : {}),
    ...(process.env.S3TX_PART_MIB ? { partSize: Number(process.env.S3TX_PART_MIB) * MiB } : {}),
  };
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    ...tuning,
    // The scheme comes from the endpoint; the certificate is verified (verifyPeer stays true) against the bench's CA.
    ...(ca ? { tlsConnectionOptions: { ca } } : {}),
    // https: a CONNECT tunnel with TLS to the endpoint inside it; http: absolute-form requests.
    ...(process.env.BENCH_PROXY ? { proxy: { url: process.env.BENCH_PROXY } } : {}),
    signingConfig: {
      ...createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(accessKeyId, secretAccessKey) }),
      ...(express ? { algorithm: AwsSigningAlgorithm.V4_S3EXPRESS } : {}),
    },
    ...(express ? { enableS3Express: true } : {}),
  });
  // Off means off: the high-level upload sends a CRC32 by default, as the SDKs do.
  const checksumAlgorithm = crc ? S3ChecksumAlgorithm.CRC32C : null;
  // A figure with checksums counts only if the download was validated.
  const get = (key) =>
    new Promise((resolve, reject) =>
      client.makeRequest({
        type: S3RequestType.GET_OBJECT,
        request: new HttpRequest({ method: 'GET', path: `/${bucket}/${key}`, headers: { host: url.host } }),
        onBody: () => {},
        onDone: ({ error, didValidateChecksum }) => {
          if (error) reject(error);
          else if (crc && !didValidateChecksum) reject(new Error('the download was not validated'));
          else resolve();
        },
        ...(crc ? { checksumConfig: { validateResponse: true } } : {}),
      }),
    );
  return {
    'get-memory': ([key]) => get(key),
    'get-file': ([key, path]) => client.download({ bucket, key, to: path, validateChecksum: crc }),
    'put-file': ([key, path]) => client.upload({ bucket, key, body: path, checksumAlgorithm }),
    'small-put': ([prefix, count, size]) => {
      const body = Buffer.alloc(Number(size), 1);
      return Promise.all(Array.from({ length: Number(count) }, (_, i) => client.upload({ bucket, key: `${prefix}${i}`, body, checksumAlgorithm })));
    },
    'small-get': ([prefix, count]) => Promise.all(Array.from({ length: Number(count) }, (_, i) => get(`${prefix}${i}`))),
    close: () => client.close(),
  };
}

async function sdk() {
  const { S3Client, GetObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { Upload } = await import('@aws-sdk/lib-storage');
  // The SDK computes CRC32 for uploads and validates downloads by default; "checksums off" turns that off.
  const off = { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' };
  // Over https, the SDK's own handler whose https.Agent (its defaults: keep-alive, 50 sockets) also trusts the CA.
  const tls = ca ? { requestHandler: new (await import('@smithy/node-http-handler')).NodeHttpHandler({ httpsAgent: { ca } }) } : {};
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    ...(crc ? {} : off),
    ...tls,
  });
  const checksum = crc ? { ChecksumAlgorithm: 'CRC32C' } : {};
  const get = async (key) => (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(crc ? { ChecksumMode: 'ENABLED' } : {}) }))).Body;
  const upload = (key, Body) =>
    new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body, ...checksum },
      ...(contender === 'lib-storage-q16' ? { queueSize: 16, partSize: 8 * MiB } : {}),
    }).done();
  return {
    'get-memory': async ([key]) => {
      for await (const _ of await get(key));
    },
    'get-file': async ([key, path]) => pipeline(await get(key), createWriteStream(path)),
    'put-file': ([key, path]) => upload(key, createReadStream(path)),
    'small-put': ([prefix, count, size]) => {
      const Body = Buffer.alloc(Number(size), 1);
      return Promise.all(
        Array.from({ length: Number(count) }, (_, i) => client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${i}`, Body, ...checksum }))),
      );
    },
    'small-get': ([prefix, count]) => Promise.all(Array.from({ length: Number(count) }, async (_, i) => (await get(`${prefix}${i}`)).transformToByteArray())),
    close: () => client.destroy(),
  };
}

async function minio() {
  const { Client } = await import('minio');
  const client = new Client({
    endPoint: url.hostname,
    port: Number(url.port || 80),
    useSSL: false,
    accessKey: accessKeyId,
    secretKey: secretAccessKey,
    pathStyle: true,
    region: 'us-east-1',
  });
  return {
    'get-memory': async ([key]) => {
      for await (const _ of await client.getObject(bucket, key));
    },
    'get-file': ([key, path]) => client.fGetObject(bucket, key, path),
    'put-file': ([key, path]) => client.fPutObject(bucket, key, path, {}),
    'small-put': ([prefix, count, size]) => {
      const body = Buffer.alloc(Number(size), 1);
      return Promise.all(Array.from({ length: Number(count) }, (_, i) => client.putObject(bucket, `${prefix}${i}`, body, body.length)));
    },
    'small-get': ([prefix, count]) =>
      Promise.all(
        Array.from({ length: Number(count) }, async (_, i) => {
          for await (const _ of await client.getObject(bucket, `${prefix}${i}`));
        }),
      ),
    close: () => {},
  };
}

const factories = {
  s3tx,
  's3tx-crc32c': s3tx,
  's3tx-s3express': s3tx,
  'client-s3': sdk,
  'client-s3-crc32c': sdk,
  'lib-storage': sdk,
  'lib-storage-q16': sdk,
  'lib-storage-crc32c': sdk,
  minio,
};
const runner = await factories[contender]();
if (workload === 'put-file') statSync(args[1]);
const cpuBefore = process.cpuUsage();
const started = performance.now();
await runner[workload](args);
const seconds = (performance.now() - started) / 1000;
const cpuUsed = process.cpuUsage(cpuBefore);
await runner.close();
console.log(JSON.stringify({ seconds, cpu: (cpuUsed.user + cpuUsed.system) / 1e6 }));
