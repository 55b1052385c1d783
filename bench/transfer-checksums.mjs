// Cost of turning integrity on for a whole transfer: s3tx PUT and GET through the local
// server, with CRC32C (trailer on PUT, validateResponse on GET) and without, in one run.
// Run: npm run bench:transfer
import {
  S3Client,
  S3RequestType,
  S3RequestTlsMode,
  S3ChecksumAlgorithm,
  S3ChecksumLocation,
  HttpRequest,
  AwsCredentialsProvider,
  createDefaultS3SigningConfig,
} from '../dist/index.js';
import { startLocalS3 } from '../dist/local/index.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const data = Buffer.alloc(SIZE, 0x42);
for (let i = 0; i < SIZE; i += 4096) data.writeUInt32LE(i, i);

function clientFor(server) {
  return new S3Client({
    region: 'us-east-1',
    tlsMode: S3RequestTlsMode.DISABLED,
    signingConfig: createDefaultS3SigningConfig({
      region: 'us-east-1',
      credentialProvider: AwsCredentialsProvider.newStatic(server.credentials.accessKeyId, server.credentials.secretAccessKey),
    }),
  });
}

/** One PUT and one GET on a fresh server, so that neither mode inherits the other's heap. */
async function once(checksum) {
  const server = await startLocalS3();
  const client = clientFor(server);
  const host = server.host;
  await client.makeRequest({
    type: S3RequestType.DEFAULT,
    operationName: 'CreateBucket',
    request: new HttpRequest({ method: 'PUT', path: '/bench', headers: { host } }),
  }).finishedFuture;
  globalThis.gc?.();
  let started = performance.now();
  await client.makeRequest({
    type: S3RequestType.PUT_OBJECT,
    request: new HttpRequest({ method: 'PUT', path: '/bench/object', headers: { host }, body: data }),
    ...(checksum ? { checksumConfig: { algorithm: S3ChecksumAlgorithm.CRC32C, location: S3ChecksumLocation.TRAILER } } : {}),
  }).finishedFuture;
  const put = performance.now() - started;
  let validated = false;
  started = performance.now();
  const get = client.makeRequest({
    type: S3RequestType.GET_OBJECT,
    request: new HttpRequest({ method: 'GET', path: '/bench/object', headers: { host } }),
    onBody: () => {},
    onDone: (result) => (validated = result.didValidateChecksum),
    ...(checksum ? { checksumConfig: { validateResponse: true } } : {}),
  });
  await get.finishedFuture;
  const got = performance.now() - started;
  await get.shutdownEvent;
  await client.close();
  await server.close();
  return { put, get: got, validated };
}

const results = { off: [], on: [] };
// Alternate the modes, so that drift on a shared machine lands on both.
for (let run = 0; run < RUNS; run++) {
  results.off.push(await once(false));
  results.on.push(await once(true));
}
const median = (times) => SIZE / MiB / (times.sort((a, b) => a - b)[Math.floor(times.length / 2)] / 1000);
const off = { put: median(results.off.map((r) => r.put)), get: median(results.off.map((r) => r.get)) };
const on = { put: median(results.on.map((r) => r.put)), get: median(results.on.map((r) => r.get)), validated: results.on.every((r) => r.validated) };
console.log(`s3tx through the local server (memory storage), ${SIZE / MiB} MiB, MiB/s, median of ${RUNS} runs; client and server share the cores`);
console.log('| transfer | checksums off | CRC32C on | on / off |');
console.log('|---|---|---|---|');
console.log(`| PUT from a Buffer (CRC32C trailer) | ${off.put.toFixed(0)} | ${on.put.toFixed(0)} | ${((on.put / off.put) * 100).toFixed(0)}% |`);
console.log(
  `| GET to onBody (validateResponse${on.validated ? ', validated' : ', NOT validated'}) | ${off.get.toFixed(0)} | ${on.get.toFixed(0)} | ${((on.get / off.get) * 100).toFixed(0)}% |`,
);
