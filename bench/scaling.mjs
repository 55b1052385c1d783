// How s3tx's throughput moves with connections, part size and object size, on 127.0.0.1:
// GET to memory from nginx and PUT from a file to the sink server, each in a fresh process
// under GNU time, median of BENCH_RUNS (3); every PUT meets a sink started afresh and warmed up,
// as in the transfer suite, so that no row inherits what the rows before it did to the server.
// Run: npm run bench:scaling  (after bench/setup.sh)
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startNginx, startWarmSink, writeData } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONTENDER = join(ROOT, 'bench/contenders/node.mjs');
const MiB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const execFileAsync = promisify(execFile);

async function once(env, args, bytes) {
  const stats = join(work, 'time.txt');
  const { stdout } = await execFileAsync('/usr/bin/time', ['-f', '%U %S %M', '-o', stats, process.execPath, CONTENDER, 's3tx', ...args], {
    env: { ...process.env, ...env },
  });
  const [user, system, kib] = (await readFile(stats, 'utf8')).trim().split('\n').pop().split(' ').map(Number);
  const { seconds } = JSON.parse(stdout.trim().split('\n').pop());
  return { gbps: bytes / seconds / 1e9, cpuPerGiB: (user + system) / (bytes / 1024 ** 3), rssMiB: kib / 1024 };
}

async function median(env, args, bytes, prepare = async () => {}) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    await prepare();
    runs.push(await once(env, args, bytes));
  }
  const pick = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  return { gbps: pick('gbps'), cpuPerGiB: pick('cpuPerGiB'), rssMiB: pick('rssMiB') };
}

const work = await mkdtemp(join(tmpdir(), 's3tx-scaling-'));
await chmod(work, 0o755);
const data = join(work, 'data', 'bench');
await mkdir(data, { recursive: true });
const sizes = [64 * 1024, MiB, 16 * MiB, 256 * MiB, 1024 * MiB, 4096 * MiB];
for (const size of sizes) await writeData(join(data, `object-${size}`), size);
const nginx = await startNginx(work, join(work, 'data'), 8181);
let sink = await startWarmSink(0, 'K', 'S', 'bench');
const sinkPort = Number(new URL(sink.endpoint).port);
const freshSink = async () => {
  await sink.stop();
  sink = await startWarmSink(sinkPort, 'K', 'S', 'bench');
};
const nginxEndpoint = nginx.endpoint;
const lines = [];
const out = (line) => {
  lines.push(line);
  console.log(line);
};
try {
  const gib = 1024 * MiB;
  out(`Scaling, ${new Date().toISOString().slice(0, 10)}, 1 GiB, median of ${RUNS}: GB/s (CPU s/GiB, peak RSS MiB)\n`);
  for (const [label, args, prepare] of [
    ['GET to memory', (size) => ['get-memory', nginxEndpoint, 'bench', 'K', 'S', `object-${size}`]],
    ['PUT from a file', (size) => ['put-file', sink.endpoint, 'bench', 'K', 'S', 'upload', join(data, `object-${size}`)], freshSink],
  ]) {
    out(`${label}:\n`);
    const parts = [5, 8, 16, 64];
    out(`| connections | ${parts.map((p) => `${p} MiB parts`).join(' | ')} |`);
    out(`|---|${parts.map(() => '---').join('|')}|`);
    for (const connections of [1, 4, 8, 16, 25, 50]) {
      const cells = [];
      for (const part of parts) {
        const r = await median({ S3TX_CONNECTIONS: String(connections), S3TX_PART_MIB: String(part) }, args(gib), gib, prepare);
        cells.push(`${r.gbps.toFixed(2)} (${r.cpuPerGiB.toFixed(2)}, ${r.rssMiB.toFixed(0)})`);
      }
      out(`| ${connections} | ${cells.join(' | ')} |`);
    }
    out('');
  }
  out('Object size, default options (25 connections, at most 4 parts of a transfer in flight to 127.0.0.1, 8 MiB parts):\n');
  out('| size | GET to memory | PUT from a file |');
  out('|---|---|---|');
  for (const size of sizes) {
    const get = await median({}, ['get-memory', nginxEndpoint, 'bench', 'K', 'S', `object-${size}`], size);
    const put = await median({}, ['put-file', sink.endpoint, 'bench', 'K', 'S', 'upload', join(data, `object-${size}`)], size, freshSink);
    const label = size >= MiB ? `${size / MiB} MiB` : `${size / 1024} KiB`;
    out(
      `| ${label} | ${get.gbps.toFixed(3)} GB/s (${get.cpuPerGiB.toFixed(2)} CPU s/GiB) | ${put.gbps.toFixed(3)} GB/s (${put.cpuPerGiB.toFixed(2)} CPU s/GiB) |`,
    );
  }
} finally {
  await nginx.stop();
  await sink.stop();
  await rm(work, { recursive: true, force: true });
}
