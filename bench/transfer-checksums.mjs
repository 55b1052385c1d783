// Cost of turning integrity on for a whole transfer: s3tx PUT and GET through the local
// server, with CRC32C (trailer on PUT, validateResponse on GET) and without, in one run.
// Run: npm run bench:transfer
import { S3Client, S3RequestType, S3RequestTlsMode, S3ChecksumAlgorithm, S3ChecksumLocation, HttpRequest, AwsCredentialsProvider, createDefaultS3SigningConfig } from '../dist/index.js';
import { startLocalS3 } from '../dist/local/index.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const data = Buffer.alloc(SIZE, 0x42);
for (let i = 0; i < SIZE; i += 4096) data.writeUInt32LE(i, i);

async function measure(server, checksum) {
  const client = new S3Client({
    region: 'us-east-1',
    tlsMode: S3RequestTlsMode.DISABLED,
    signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(server.credentials.accessKeyId, server.credentials.secretAccessKey) }),
  });
  const host = server.host;
  const key = `/bench/object-${checksum ? 'crc' : 'plain'}`;
  const puts = [];
  const gets = [];
  let validated = false;
  for (let run = 0; run < RUNS; run++) {
    let started = performance.now();
    await client.makeRequest({
      type: S3RequestType.PUT_OBJECT,
      request: new HttpRequest({ method: 'PUT', path: key, headers: { host }, body: data }),
      ...(checksum ? { checksumConfig: { algorithm: S3ChecksumAlgorithm.CRC32C, location: S3ChecksumLocation.TRAILER } } : {}),
    }).finishedFuture;
    puts.push(performance.now() - started);
    started = performance.now();
    const get = client.makeRequest({
      type: S3RequestType.GET_OBJECT,
      request: new HttpRequest({ method: 'GET', path: key, headers: { host } }),
      onBody: () => {},
      onDone: (result) => (validated = result.didValidateChecksum),
      ...(checksum ? { checksumConfig: { validateResponse: true } } : {}),
    });
    await get.finishedFuture;
    gets.push(performance.now() - started);
    await get.shutdownEvent;
  }
  await client.close();
  const median = (times) => SIZE / MiB / (times.sort((a, b) => a - b)[Math.floor(times.length / 2)] / 1000);
  return { put: median(puts), get: median(gets), validated };
}

const server = await startLocalS3();
await fetch(`${server.endpoint}/bench`, { method: 'PUT' }).catch(() => {});
const signedCreate = new S3Client({ region: 'us-east-1', tlsMode: S3RequestTlsMode.DISABLED, signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(server.credentials.accessKeyId, server.credentials.secretAccessKey) }) });
await signedCreate.makeRequest({ type: S3RequestType.DEFAULT, operationName: 'CreateBucket', request: new HttpRequest({ method: 'PUT', path: '/bench', headers: { host: server.host } }) }).finishedFuture;
await signedCreate.close();
const off = await measure(server, false);
const on = await measure(server, true);
await server.close();
console.log(`s3tx through the local server (memory storage), ${SIZE / MiB} MiB, MiB/s, median of ${RUNS} runs; client and server share the cores`);
console.log('| transfer | checksums off | CRC32C on | on / off |');
console.log('|---|---|---|---|');
console.log(`| PUT from a Buffer (CRC32C trailer) | ${off.put.toFixed(0)} | ${on.put.toFixed(0)} | ${((on.put / off.put) * 100).toFixed(0)}% |`);
console.log(`| GET to onBody (validateResponse${on.validated ? ', validated' : ', NOT validated'}) | ${off.get.toFixed(0)} | ${on.get.toFixed(0)} | ${((on.get / off.get) * 100).toFixed(0)}% |`);
