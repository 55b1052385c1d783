// Network profiles (issue 24): does s3tx's measured concurrency follow the network? GET of one object to memory
// from nginx on 127.0.0.1, three profiles in the same run, selected by the bucket's name on one nginx: unlimited
// loopback, 90 MB/s per connection (S3's per-connection rate) and 20 MB/s per connection (nginx's limit_rate).
// Contenders: s3tx with its defaults (the controller), s3tx with each fixed count (maxConnections 1, 4, 8, 25, 50),
// the native CRT and client-s3; each run a fresh process under GNU time, interleaved and rotated, median of
// BENCH_RUNS (3). Size: BENCH_SIZE_MIB (512: at 20 MB/s one connection takes 27 s for it).
// Not measured yet (said in RESULTS.md): PUT profiles (the sink has no per-connection shaping) and a first-byte delay.
// Run: npm run bench:network (after bench/setup.sh); writes bench/results/network.json and prints the tables.
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx, writeData } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 512) * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const NODE_CONTENDER = join(ROOT, 'bench/contenders/node.mjs');
const CRT_CONTENDER = join(ROOT, 'bench/contenders/crt.py');
const PYTHON = '/usr/bin/python3';
const FIXED = [1, 4, 8, 25, 50];
const PROFILES = [
  { name: 'unlimited loopback', bucket: 'bench', rate: null },
  { name: '90 MB/s per connection', bucket: 'shaped90', rate: '90m' },
  { name: '20 MB/s per connection', bucket: 'shaped20', rate: '20m' },
];

const hasCrt = spawnSync(PYTHON, ['-c', 'import awscrt.s3']).status === 0;
if (spawnSync('nginx', ['-v']).status !== 0) throw new Error('nginx is needed: run bench/setup.sh');

const work = await mkdtemp(join(tmpdir(), 's3tx-network-'));
await chmod(work, 0o755);

function measure({ command, args, env = {} }) {
  return new Promise((resolve, reject) => {
    const stats = join(work, 'time.txt');
    const proxyless = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(https?_proxy|all_proxy|no_proxy)$/i.test(name)));
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', stats, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...proxyless, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.once('close', async (code) => {
      if (code !== 0) return reject(new Error(`${command} exited ${code}: ${err.slice(-400)}`));
      const [, user, system, kib] = (await readFile(stats, 'utf8')).trim().split('\n').pop().split(' ').map(Number);
      resolve({ seconds: JSON.parse(out.trim().split('\n').pop()).seconds, cpu: user + system, rssMiB: kib / 1024 });
    });
  });
}

const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1) };
};

const contendersFor = (endpoint, bucket) => [
  { name: 's3tx (measured)', command: process.execPath, args: [NODE_CONTENDER, 's3tx', 'get-memory', endpoint, bucket, 'K', 'S', 'object.bin'] },
  ...FIXED.map((connections) => ({
    name: `s3tx x${connections}`,
    command: process.execPath,
    args: [NODE_CONTENDER, 's3tx', 'get-memory', endpoint, bucket, 'K', 'S', 'object.bin'],
    env: { S3TX_CONNECTIONS: String(connections) },
  })),
  ...(hasCrt ? [{ name: 'crt', command: PYTHON, args: [CRT_CONTENDER, 'get-memory', '127.0.0.1', bucket, 'K', 'S', 'object.bin'] }] : []),
  { name: 'client-s3', command: process.execPath, args: [NODE_CONTENDER, 'client-s3', 'get-memory', endpoint, bucket, 'K', 'S', 'object.bin'] },
];

const results = [];
const data = join(work, 'data');
await mkdir(join(data, 'bench'), { recursive: true });
await writeData(join(data, 'bench', 'object.bin'), SIZE);
// The shaped buckets are the same folder under other names.
for (const profile of PROFILES) if (profile.bucket !== 'bench') await symlink(join(data, 'bench'), join(data, profile.bucket));
const shaped = Object.fromEntries(PROFILES.filter((profile) => profile.rate).map((profile) => [profile.bucket, profile.rate]));
// The CRT reaches port 80 only.
const nginx = await startNginx(work, data, 80, {}, { shaped });
try {
  for (const profile of PROFILES) {
    const contenders = contendersFor(nginx.endpoint, profile.bucket);
    const runs = Object.fromEntries(contenders.map((contender) => [contender.name, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const contender of contenders.map((_, i) => contenders[(i + run) % contenders.length])) {
        runs[contender.name].push(await measure(contender));
      }
    }
    const figures = Object.fromEntries(
      Object.entries(runs).map(([name, list]) => [
        name,
        {
          gbps: summary(list.map((r) => SIZE / r.seconds / 1e9)),
          cpuPerGiB: summary(list.map((r) => r.cpu / (SIZE / GiB))),
          rssMiB: summary(list.map((r) => r.rssMiB)),
        },
      ]),
    );
    const measured = figures['s3tx (measured)'].gbps.median;
    const bestFixed = FIXED.map((n) => [n, figures[`s3tx x${n}`].gbps.median]).sort((a, b) => b[1] - a[1])[0];
    const ratios = {
      toBestFixed: measured / bestFixed[1],
      bestFixed: bestFixed[0],
      ...(figures.crt ? { toCrt: measured / figures.crt.gbps.median } : {}),
      toClientS3: measured / figures['client-s3'].gbps.median,
    };
    results.push({ profile: profile.name, figures, ratios });
    console.error(`${profile.name}: measured ${measured.toFixed(2)} GB/s, ${ratios.toBestFixed.toFixed(2)}x best fixed (x${bestFixed[0]})`);
  }
} finally {
  await nginx.stop();
  await rm(work, { recursive: true, force: true });
}

const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
await writeFile(join(ROOT, 'bench/results/network.json'), `${JSON.stringify({ date, node: process.version, size: SIZE, runs: RUNS, results }, null, 2)}\n`);
const cell = (s, digits = 2) => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
const lines = [`GET ${SIZE / MiB} MiB to memory from nginx, ${date} UTC, median (min-max) of ${RUNS}: GB/s, CPU s/GiB, peak RSS MiB\n`];
for (const { profile, figures, ratios } of results) {
  lines.push(`${profile}: measured ${ratios.toBestFixed.toFixed(2)}x the best fixed count (x${ratios.bestFixed})${ratios.toCrt ? `, ${ratios.toCrt.toFixed(2)}x the CRT` : ''}, ${ratios.toClientS3.toFixed(2)}x client-s3\n`);
  lines.push('| contender | GB/s | CPU s/GiB | peak RSS MiB |', '|---|---|---|---|');
  for (const [name, f] of Object.entries(figures)) lines.push(`| ${name} | ${cell(f.gbps)} | ${cell(f.cpuPerGiB)} | ${f.rssMiB.median.toFixed(0)} |`);
  lines.push('');
}
console.log(lines.join('\n'));
