// Throughput of the local S3 server alone, measured with a simple client (undici, one
// stream per transfer) and with 8 parallel ranged GETs. Run: npm run bench:server
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startLocalS3 } from '../dist/local/index.js';
import { RequestSigner } from '../dist/auth/signing.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function signed(server, method, path, headers = {}) {
  const signer = new RequestSigner({
    region: 'us-east-1',
    service: 's3',
    credentialProvider: async () => server.credentials,
    signedBodyValue: 'UNSIGNED-PAYLOAD',
  });
  return signer.sign({ method, path, query: {}, headers: { host: server.host, ...headers } });
}

/** A body of SIZE bytes from one reused 8 MiB buffer: the client side costs next to nothing. */
async function* body() {
  const block = Buffer.alloc(8 * MiB, 0x5a);
  for (let sent = 0; sent < SIZE; sent += block.length) yield block.subarray(0, Math.min(block.length, SIZE - sent));
}

async function put(server, key) {
  const headers = await signed(server, 'PUT', `/bench/${key}`, { 'content-length': String(SIZE) });
  const started = performance.now();
  const response = await request(`${server.endpoint}/bench/${key}`, { method: 'PUT', headers, body: body() });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`PUT answered ${response.statusCode}`);
  return performance.now() - started;
}

async function get(server, key, streams) {
  const started = performance.now();
  const part = Math.ceil(SIZE / streams);
  await Promise.all(
    Array.from({ length: streams }, async (_, i) => {
      const range = `bytes=${i * part}-${Math.min(SIZE, (i + 1) * part) - 1}`;
      const headers = await signed(server, 'GET', `/bench/${key}`, streams > 1 ? { range } : {});
      const response = await request(`${server.endpoint}/bench/${key}`, { headers });
      let bytes = 0;
      for await (const chunk of response.body) bytes += chunk.length;
      if (bytes !== (streams > 1 ? Math.min(SIZE, (i + 1) * part) - i * part : SIZE)) throw new Error(`GET returned ${bytes} bytes`);
    }),
  );
  return performance.now() - started;
}

function stats(times) {
  const rates = times.map((ms) => SIZE / MiB / (ms / 1000)).sort((a, b) => a - b);
  return { median: rates[Math.floor(rates.length / 2)], min: rates[0], max: rates[rates.length - 1] };
}

const rows = [];
for (const mode of ['sink', 'memory', 'disk']) {
  const folder = mode === 'disk' ? await mkdtemp(join(tmpdir(), 's3tx-bench-')) : null;
  const server = await startLocalS3(mode === 'sink' ? { sink: true } : mode === 'disk' ? { root: folder } : {});
  await request(`${server.endpoint}/bench`, { method: 'PUT', headers: await signed(server, 'PUT', '/bench') }).then((r) => r.body.dump());
  const puts = [];
  for (let run = 0; run < RUNS; run++) puts.push(await put(server, 'object'));
  const key = mode === 'sink' ? `synthetic/${SIZE}` : 'object';
  const gets = [];
  const parallel = [];
  for (let run = 0; run < RUNS; run++) gets.push(await get(server, key, 1));
  for (let run = 0; run < RUNS; run++) parallel.push(await get(server, key, 8));
  rows.push({ mode, put: stats(puts), get: stats(gets), get8: stats(parallel) });
  await server.close();
  if (folder) await rm(folder, { recursive: true, force: true });
}

const format = ({ median, min, max }) => `${median.toFixed(0)} (${min.toFixed(0)}-${max.toFixed(0)})`;
console.log(`Local S3 server throughput, MiB/s, median (min-max) of ${RUNS} runs of ${SIZE / MiB} MiB`);
console.log(`machine: ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
console.log('| storage | PUT, 1 stream | GET, 1 stream | GET, 8 ranged streams |');
console.log('|---|---|---|---|');
for (const row of rows) console.log(`| ${row.mode} | ${format(row.put)} | ${format(row.get)} | ${format(row.get8)} |`);
