// The transfer bench: s3tx beside the native CRT and the JavaScript peers, same server, same
// object, one run. GETs come from nginx (sendfile, Range), PUTs go to the local server in sink
// mode (in a process of its own), all on 127.0.0.1; one GET also over TLS, from the same nginx with a certificate made
// for the run, which every contender verifies against its CA. Each figure is the median of BENCH_RUNS fresh
// processes (3 by default) with min and max; CPU seconds and peak RSS come from GNU time. A
// contender whose tool is missing is reported as skipped. Run: npm run bench   (BENCH_SIZE_MIB=2048,
// BENCH_RUNS=3; BENCH_ONLY=<regex> runs only the workloads it matches and prints them without
// touching bench/results)
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Crc32c } from '../dist/checksums/index.js';
import { childrenCpuSeconds, makeCertificates, startNginx, startWarmSink, writeData } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 2048) * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
const SMALL_COUNT = 1000;
const SMALL_SIZE = 64 * 1024;
const ACCESS = 'BENCHKEY';
const SECRET = 'benchsecret';
const PYTHON = '/usr/bin/python3';
const NODE_CONTENDER = join(ROOT, 'bench/contenders/node.mjs');
const CRT_CONTENDER = join(ROOT, 'bench/contenders/crt.py');

/** Debian's package version: the module itself reports 1.0.0.dev0. */
function crtVersion() {
  const dpkg = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'python3-awscrt']);
  return dpkg.status === 0 ? `python3-awscrt ${dpkg.stdout.toString()}` : 'awscrt';
}

const has = {
  nginx: spawnSync('nginx', ['-v']).status === 0,
  crt: spawnSync(PYTHON, ['-c', 'import awscrt.s3']).status === 0,
  curl: spawnSync('curl', ['--version']).status === 0,
  openssl: spawnSync('openssl', ['version']).status === 0,
  // nginx -V lists its configure arguments on stderr; without the ssl module a TLS listener would stop nginx starting.
  nginxSsl: /--with-http_ssl_module/.test(spawnSync('nginx', ['-V']).stderr?.toString() ?? ''),
  time: existsSync('/usr/bin/time'),
};
if (!has.time) throw new Error('GNU time (/usr/bin/time) is needed: run bench/setup.sh');

async function freePort(preferred) {
  const attempt = (port) =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(null));
      server.listen(port, '127.0.0.1', () => {
        // Asked for 0, the port is known only while listening.
        const bound = server.address().port;
        server.close(() => resolve(bound));
      });
    });
  return (await attempt(preferred)) ?? (await attempt(0));
}

/** Runs one contender under GNU time: its own transfer seconds (or wall time), CPU seconds and peak RSS. */
function measure({ command, args, env = {} }) {
  return new Promise((resolve, reject) => {
    const stats = join(work, 'time.txt');
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', stats, command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.once('close', async (code) => {
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err.slice(-800)}`));
      const [elapsed, user, system, maxKiB] = (await readFile(stats, 'utf8')).trim().split('\n').pop().split(' ').map(Number);
      const reported = out.trim() ? JSON.parse(out.trim().split('\n').pop()).seconds : elapsed;
      resolve({ seconds: reported, cpu: user + system, rssMiB: maxKiB / 1024 });
    });
  });
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Whether BENCH_ONLY (if given) lets the workload of this name run. */
const selected = (name) => !ONLY || ONLY.test(name);

/**
 * Every contender of a workload, RUNS times, interleaved so that the machine's drift hits each alike, and in an
 * order rotated each round so that no contender always runs right after the same one and inherits its after-effects
 * (the page cache, the server's heap) every time.
 */
async function workload(name, bytes, contenders, prepare = async () => {}, verify = null) {
  if (!selected(name)) return null;
  const runs = Object.fromEntries(contenders.map((c) => [c.name, []]));
  const skipped = {};
  for (let run = 0; run < RUNS; run++) {
    for (const contender of contenders.map((_, i) => contenders[(i + run) % contenders.length])) {
      if (contender.skip) {
        skipped[contender.name] = contender.skip;
        continue;
      }
      await prepare(contender);
      // The page cache's dirty bytes (GETs to a file write 2 GiB a run) go to disk now, not during the next run.
      spawnSync('sync');
      try {
        const result = await measure(contender);
        // A figure counts only if the bytes arrived: a tool that writes nothing is not fast.
        await verify?.(contender);
        runs[contender.name].push(result);
      } catch (error) {
        skipped[contender.name] = `failed: ${error.message.split('\n')[0].slice(0, 300)}`;
      }
    }
  }
  const results = {};
  for (const [contender, list] of Object.entries(runs)) {
    if (list.length === 0) continue;
    results[contender] = {
      gbps: summary(list.map((r) => bytes / r.seconds / 1e9)),
      cpuPerGiB: summary(list.map((r) => r.cpu / (bytes / GiB))),
      rssMiB: summary(list.map((r) => r.rssMiB)),
      seconds: summary(list.map((r) => r.seconds)),
    };
  }
  console.error(
    `  ${name}: ${Object.entries(results)
      .map(([c, r]) => `${c} ${r.gbps.median.toFixed(2)} GB/s`)
      .join(', ')}`,
  );
  return { name, bytes, results, skipped };
}

const node = (contender, workloadName, endpoint, bucket, ...args) => ({
  name: contender,
  command: process.execPath,
  args: [NODE_CONTENDER, contender, workloadName, endpoint, bucket, ACCESS, SECRET, ...args],
});
/** The native CRT; with `ca` (a CA certificate file) over https, verifying the server's certificate against it. */
const crtContender = ({ port, ca = null }, workloadName, host, bucket, ...args) => {
  const needed = ca ? 443 : 80;
  return {
    name: 'crt',
    command: PYTHON,
    args: [CRT_CONTENDER, workloadName, host, bucket, ACCESS, SECRET, ...args],
    ...(ca ? { env: { BENCH_CA: ca } } : {}),
    skip: !has.crt
      ? 'python3-awscrt is not installed'
      : port !== needed
        ? `this awscrt needs the server on port ${needed}, which could not be bound`
        : undefined,
  };
};
const crt = (port, ...rest) => crtContender({ port }, ...rest);
/** A Node contender over https, trusting the bench's CA (its certificate verification stays on). */
const trusting = (contender, ca) => ({ ...contender, env: { ...contender.env, BENCH_CA: ca } });

/**
 * GET of the object to memory over https from nginx, every contender verifying the certificate against the run's CA:
 * s3tx (tlsConnectionOptions.ca), the CRT (its trust store replaced by the CA file), client-s3 (an https.Agent with
 * the CA) and curl (--cacert). Beside each contender's figures: what nginx's log says it negotiated, over how many
 * connections, and the CPU nginx's worker spent serving it (encryption included), since server and client share the
 * machine's cores. A run counts only if nginx sent the whole object over TLS.
 */
async function tlsWorkload(name, nginx, tls) {
  const endpoint = nginx.tlsEndpoint;
  const seen = {};
  let cpuBefore = 0;
  const result = await workload(
    name,
    SIZE,
    [
      trusting(node('s3tx', 'get-memory', endpoint, 'bench', 'object.bin'), tls.ca),
      crtContender({ port: tls.port, ca: tls.ca }, 'get-memory', '127.0.0.1', 'bench', 'object.bin'),
      trusting(node('client-s3', 'get-memory', endpoint, 'bench', 'object.bin'), tls.ca),
      {
        name: 'curl',
        command: 'curl',
        args: ['-sf', '--cacert', tls.ca, '-o', '/dev/null', `${endpoint}/bench/object.bin`],
        skip: has.curl ? undefined : 'curl is not installed',
      },
    ],
    async () => {
      await writeFile(tls.log, '');
      cpuBefore = await childrenCpuSeconds(nginx.pid);
    },
    async (contender) => {
      const serverCpu = (await childrenCpuSeconds(nginx.pid)) - cpuBefore;
      const lines = (await readFile(tls.log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' '));
      const sent = lines.reduce((sum, fields) => sum + Number(fields[3]), 0);
      if (sent < SIZE) throw new Error(`nginx sent ${sent} of ${SIZE} bytes over TLS`);
      const entry = (seen[contender.name] ??= { negotiated: new Set(), connections: [], serverCpuPerGiB: [] });
      for (const fields of lines) entry.negotiated.add(`${fields[1]} ${fields[2]}`);
      entry.connections.push(new Set(lines.map((fields) => fields[0])).size);
      entry.serverCpuPerGiB.push(serverCpu / (SIZE / GiB));
    },
  );
  if (!result) return null;
  result.tls = Object.fromEntries(
    Object.entries(seen).map(([contender, entry]) => [
      contender,
      { negotiated: [...entry.negotiated], connections: summary(entry.connections), serverCpuPerGiB: summary(entry.serverCpuPerGiB) },
    ]),
  );
  return result;
}

const work = await mkdtemp(join(tmpdir(), 's3tx-bench-'));
// nginx's workers run as an unprivileged user: they must be able to reach the data.
await chmod(work, 0o755);
const LABEL = SIZE % GiB === 0 ? `${SIZE / GiB} GiB` : `${SIZE / MiB} MiB`;
const data = join(work, 'data');
const results = [];
try {
  console.error(`preparing ${SIZE / MiB} MiB and ${SMALL_COUNT} x ${SMALL_SIZE / 1024} KiB in ${work}`);
  await mkdir(join(data, 'bench', 'small'), { recursive: true });
  const object = join(data, 'bench', 'object.bin');
  await writeData(object, SIZE);
  const small = Buffer.alloc(SMALL_SIZE, 7);
  for (let i = 0; i < SMALL_COUNT; i++) await writeFile(join(data, 'bench', 'small', String(i)), small);
  const target = join(work, 'target.bin');
  const removeTarget = async () => rm(target, { force: true });

  // GETs from nginx.
  if (!has.nginx) {
    results.push({ name: 'GET workloads', skipped: { all: 'nginx is not installed' } });
  } else {
    const port = await freePort(80);
    // nginx reports the object's CRC32C to a GET that asks for checksums, as S3 does for a stored one.
    const crc32c = new Crc32c();
    for await (const chunk of createReadStream(object, { highWaterMark: 8 * MiB })) crc32c.update(chunk);
    // The TLS workload: the same nginx also listens with TLS (on 443 if it can, the port the CRT needs) with a CA and
    // a server certificate made for this run, and logs each TLS request (connection, protocol, cipher, bytes).
    const tlsName = `GET ${LABEL} to memory over TLS`;
    let tls = null;
    if (selected(tlsName)) {
      const certificates = has.openssl && has.nginxSsl ? await makeCertificates(join(work, 'tls')) : null;
      const why = !has.nginxSsl ? 'this nginx has no ssl module' : !has.openssl ? 'openssl is not installed' : 'openssl could not make the certificates';
      if (!certificates) results.push({ name: tlsName, skipped: { all: why } });
      else tls = { port: await freePort(443), ...certificates, log: join(work, 'nginx-tls.log') };
    }
    const nginx = await startNginx(work, data, port, { '/bench/object.bin': crc32c.digestBase64() }, { tls });
    const endpoint = `http://127.0.0.1:${port}`;
    const host = `127.0.0.1`;
    try {
      console.error(`nginx on ${endpoint}${tls ? ` and ${nginx.tlsEndpoint}` : ''}`);
      const curl = (name, out) => ({
        name,
        command: 'curl',
        args: ['-sf', '-o', out, `${endpoint}/bench/object.bin`],
        skip: has.curl ? undefined : 'curl is not installed',
      });
      results.push(
        await workload(`GET ${LABEL} to memory`, SIZE, [
          node('s3tx', 'get-memory', endpoint, 'bench', 'object.bin'),
          crt(port, 'get-memory', host, 'bench', 'object.bin'),
          node('client-s3', 'get-memory', endpoint, 'bench', 'object.bin'),
          node('minio', 'get-memory', endpoint, 'bench', 'object.bin'),
          curl('curl', '/dev/null'),
        ]),
      );
      results.push(
        await workload(`GET ${LABEL} to memory, CRC32C off and on`, SIZE, [
          node('s3tx', 'get-memory', endpoint, 'bench', 'object.bin'),
          node('s3tx-crc32c', 'get-memory', endpoint, 'bench', 'object.bin'),
          node('client-s3-crc32c', 'get-memory', endpoint, 'bench', 'object.bin'),
        ]),
      );
      results.push(
        await workload(
          `GET ${LABEL} to a file`,
          SIZE,
          [
            node('s3tx', 'get-file', endpoint, 'bench', 'object.bin', target),
            crt(port, 'get-file', host, 'bench', 'object.bin', target),
            node('client-s3', 'get-file', endpoint, 'bench', 'object.bin', target),
            node('minio', 'get-file', endpoint, 'bench', 'object.bin', target),
            curl('curl', target),
          ],
          removeTarget,
          async () => {
            const written = (await stat(target).catch(() => ({ size: 0 }))).size;
            if (written !== SIZE) throw new Error(`wrote ${written} of ${SIZE} bytes to the file`);
          },
        ),
      );
      results.push(
        await workload('GET 1,000 x 64 KiB', SMALL_COUNT * SMALL_SIZE, [
          node('s3tx', 'small-get', endpoint, 'bench', 'small/', String(SMALL_COUNT)),
          crt(port, 'small-get', host, 'bench', 'small/', String(SMALL_COUNT)),
          node('client-s3', 'small-get', endpoint, 'bench', 'small/', String(SMALL_COUNT)),
          node('minio', 'small-get', endpoint, 'bench', 'small/', String(SMALL_COUNT)),
        ]),
      );
      if (tls) results.push(await tlsWorkload(tlsName, nginx, tls));
    } finally {
      await nginx.stop();
    }
  }

  // PUTs into the local server in sink mode, started afresh and warmed up before every run. A sink that has taken one
  // lib-storage upload stays about a fifth slower for whoever comes next (s3tx 1.33-1.72 s against 1.55-1.95 in 8
  // alternating rounds; its major collections grow), which would tax each contender by what ran before it; a cold one
  // taxes the fastest client of small objects (s3tx 1,136 PUTs/s against a cold sink, 1,422-1,810 against a warm one).
  // With BENCH_ONLY matching none of them, no sink is started.
  const PUTS = { file: `PUT a ${LABEL} file`, fileCrc: `PUT a ${LABEL} file, CRC32C off and on`, small: 'PUT 1,000 x 64 KiB' };
  if (Object.values(PUTS).some(selected)) {
    const port = await freePort(80);
    let sink = null;
    const freshSink = async () => {
      await sink?.stop();
      sink = await startWarmSink(port, ACCESS, SECRET, 'bench');
    };
    await freshSink();
    const endpoint = sink.endpoint;
    const host = port === 80 ? '127.0.0.1' : sink.host;
    try {
      console.error(`sink server on ${endpoint}, started afresh and warmed up for every run`);
      results.push(
        await workload(
          PUTS.file,
          SIZE,
          [
            node('s3tx', 'put-file', endpoint, 'bench', 'object.bin', object),
            crt(port, 'put-file', host, 'bench', 'object.bin', object),
            node('lib-storage', 'put-file', endpoint, 'bench', 'object.bin', object),
            node('lib-storage-q16', 'put-file', endpoint, 'bench', 'object.bin', object),
            node('minio', 'put-file', endpoint, 'bench', 'object.bin', object),
          ],
          freshSink,
        ),
      );
      results.push(
        await workload(
          PUTS.fileCrc,
          SIZE,
          [
            node('s3tx', 'put-file', endpoint, 'bench', 'object.bin', object),
            node('s3tx-crc32c', 'put-file', endpoint, 'bench', 'object.bin', object),
            node('lib-storage-crc32c', 'put-file', endpoint, 'bench', 'object.bin', object),
          ],
          freshSink,
        ),
      );
      results.push(
        await workload(
          PUTS.small,
          SMALL_COUNT * SMALL_SIZE,
          [
            node('s3tx', 'small-put', endpoint, 'bench', 'small/', String(SMALL_COUNT), String(SMALL_SIZE)),
            crt(port, 'small-put', host, 'bench', 'small/', String(SMALL_COUNT), String(SMALL_SIZE)),
            node('client-s3', 'small-put', endpoint, 'bench', 'small/', String(SMALL_COUNT), String(SMALL_SIZE)),
            node('minio', 'small-put', endpoint, 'bench', 'small/', String(SMALL_COUNT), String(SMALL_SIZE)),
          ],
          freshSink,
        ),
      );
    } finally {
      await sink.stop();
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const report = {
  date: new Date().toISOString().slice(0, 10),
  machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / GiB), node: process.version, crt: has.crt ? crtVersion() : null },
  sizeMiB: SIZE / MiB,
  runs: RUNS,
  workloads: results.filter(Boolean),
};
if (!ONLY) {
  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(join(ROOT, 'bench/results/transfer.json'), `${JSON.stringify(report, null, 2)}\n`);
}

const f = (s, digits = 2) => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
console.log(
  `Transfer bench, ${report.date}: ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}, ${report.machine.crt ?? 'no native CRT'}; median (min-max) of ${RUNS} runs\n`,
);
for (const w of report.workloads) {
  console.log(`### ${w.name}\n`);
  if (!w.results) {
    console.log(`skipped: ${JSON.stringify(w.skipped)}\n`);
    continue;
  }
  const small = w.name.includes('x 64 KiB');
  console.log(`| contender | ${small ? 'objects/s' : 'GB/s'} | CPU s/GiB | peak RSS MiB | s3tx vs it |`);
  console.log('|---|---|---|---|---|');
  for (const [name, r] of Object.entries(w.results)) {
    const rate = small ? { median: SMALL_COUNT / r.seconds.median, min: SMALL_COUNT / r.seconds.max, max: SMALL_COUNT / r.seconds.min } : r.gbps;
    // Each contender against s3tx in the same mode: with checksums against s3tx with checksums.
    const base = name.endsWith('-crc32c') ? w.results['s3tx-crc32c'] : w.results.s3tx;
    const ratio = base && !name.startsWith('s3tx') ? `${(base.gbps.median / r.gbps.median).toFixed(2)}x` : '';
    console.log(`| ${name} | ${f(rate, small ? 0 : 2)} | ${f(r.cpuPerGiB)} | ${r.rssMiB.median.toFixed(0)} | ${ratio} |`);
  }
  for (const [name, why] of Object.entries(w.skipped)) console.log(`| ${name} | skipped: ${why} | | | |`);
  if (w.tls) {
    console.log(`\n| contender | negotiated | connections | nginx CPU s/GiB |`);
    console.log('|---|---|---|---|');
    for (const [name, t] of Object.entries(w.tls)) {
      console.log(`| ${name} | ${t.negotiated.join(', ')} | ${t.connections.median} | ${f(t.serverCpuPerGiB)} |`);
    }
  }
  const on = w.results['s3tx-crc32c'];
  if (w.results.s3tx && on) console.log(`\nCRC32C on / off: ${((on.gbps.median / w.results.s3tx.gbps.median) * 100).toFixed(0)}%`);
  console.log('');
}
