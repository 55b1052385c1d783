// The transfer bench: s3tx beside the native CRT and the JavaScript peers, same server, same
// object, one run. GETs come from nginx (sendfile, Range), PUTs go to the local server in sink
// mode (in a process of its own), all on 127.0.0.1; one GET also over TLS, from the same nginx with a certificate made
// for the run, which every contender verifies against its CA; and s3tx's GET through tinyproxy (http and https)
// against the same GET direct, in the same run. Each figure is the median of BENCH_RUNS fresh
// processes (3 by default) with min and max; CPU seconds and peak RSS come from GNU time. A
// contender whose tool is missing is reported as skipped. Run: npm run bench   (BENCH_SIZE_MIB=2048,
// BENCH_RUNS=3; BENCH_ONLY=<regex> runs only the workloads it matches and prints them without
// touching bench/results). The S3 Express workload (issue 22: small GETs and PUTs session-signed on a directory bucket
// against SigV4 on a general one, a local server of its own) is bench/s3express.mjs's, run here too; alone it is
// `npm run bench:s3express`, or BENCH_ONLY='S3 Express' here
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Crc32c } from '../dist/checksums/index.js';
import { S3EXPRESS_WORKLOAD, renderS3Express, s3expressWorkload } from './s3express.mjs';
import { TINYPROXY, childrenCpuSeconds, makeCertificates, processCpuSeconds, startNginx, startTinyproxy, startWarmSink, writeData } from './lib.mjs';

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
  tinyproxy: existsSync(TINYPROXY),
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

/** A free port none of `taken` (the ports of servers about to start beside it) is. */
async function otherPort(taken) {
  for (;;) {
    const port = await freePort(0);
    if (taken.includes(port)) continue;
    taken.push(port);
    return port;
  }
}

// Everything here is on 127.0.0.1 and is measured direct, unless a contender names a proxy itself: the environment's
// proxy variables, which curl and s3tx would follow, are not passed on.
const PROXY_VARIABLES = /^(https?_proxy|all_proxy|no_proxy)$/i;
const childEnvironment = (env) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([variable]) => !PROXY_VARIABLES.test(variable))),
  ...env,
});

/** Runs one contender under GNU time: its own transfer seconds (or wall time), CPU seconds and peak RSS. */
function measure({ command, args, env = {} }) {
  return new Promise((resolve, reject) => {
    const stats = join(work, 'time.txt');
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', stats, command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnvironment(env),
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

/**
 * s3tx's GET of the object to memory from nginx, direct and through tinyproxy, over http (absolute-form requests
 * through the proxy) and https (a CONNECT tunnel with TLS to nginx inside it, verified against the run's CA), all in
 * one workload; curl alike, as what one stream through tinyproxy reaches. nginx's second server (`proxied.port`,
 * `proxied.tls`) logs every request; tinyproxy's connections to it leave from 127.0.0.2, so a run counts only if
 * nginx sent the whole object, over the scheme the contender asked for, from the address it should have come from:
 * 127.0.0.2 through the proxy, 127.0.0.1 direct. Beside each contender's figures: the requests and connections nginx
 * saw, and the CPU nginx's worker and tinyproxy spent, per GiB (all of them share the machine's two cores).
 */
async function proxyWorkload(name, nginx, proxied, proxy, skipProxy) {
  const http = `http://127.0.0.1:${proxied.port}`;
  const https = proxied.tls ? `https://127.0.0.1:${proxied.tls.port}` : null;
  const noTls = proxied.noTls;
  const via = (contender) => ({ ...contender, name: `${contender.name} via tinyproxy`, proxied: true, skip: contender.skip ?? skipProxy });
  const s3tx = (scheme, endpoint) => ({
    ...node('s3tx', 'get-memory', endpoint ?? 'https://unused', 'bench', 'object.bin'),
    name: `s3tx ${scheme}`,
    scheme,
    ...(scheme === 'https' ? { env: { BENCH_CA: proxied.tls?.ca } } : {}),
    skip: endpoint ? undefined : noTls,
  });
  const s3txVia = (contender) => ({ ...via(contender), env: { ...contender.env, BENCH_PROXY: proxy?.url } });
  const curl = (scheme, endpoint, proxyArgs = []) => ({
    name: `curl ${scheme}`,
    command: 'curl',
    args: ['-sf', ...proxyArgs, ...(scheme === 'https' ? ['--cacert', proxied.tls?.ca] : []), '-o', '/dev/null', `${endpoint}/bench/object.bin`],
    scheme,
    skip: !has.curl ? 'curl is not installed' : endpoint ? undefined : noTls,
  });
  // curl names its proxy with -x (an https URL through it is a CONNECT tunnel); the stripped environment sets none.
  const curlVia = (scheme, endpoint) => via(curl(scheme, endpoint, ['-x', proxy?.url ?? '']));
  const contenders = [
    ...[s3tx('http', http), s3tx('https', https)].flatMap((direct) => [direct, s3txVia(direct)]),
    curl('http', http),
    curlVia('http', http),
    curl('https', https),
    curlVia('https', https),
  ];

  const seen = {};
  let before = { nginx: 0, tinyproxy: 0 };
  const cpu = async () => ({ nginx: await childrenCpuSeconds(nginx.pid), tinyproxy: proxy ? await processCpuSeconds(proxy.pid) : 0 });
  const result = await workload(
    name,
    SIZE,
    contenders,
    async () => {
      await writeFile(proxied.log, '');
      before = await cpu();
    },
    async (contender) => {
      const after = await cpu();
      const lines = (await readFile(proxied.log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [connection, address, scheme, protocol, sent] = line.split(' ');
          return { connection, address, scheme, protocol, sent: Number(sent) };
        });
      const from = contender.proxied ? '127.0.0.2' : '127.0.0.1';
      const stray = lines.find((line) => line.scheme !== contender.scheme || line.address !== from);
      if (stray) throw new Error(`nginx served a request over ${stray.scheme} from ${stray.address}, not over ${contender.scheme} from ${from}`);
      const sent = lines.reduce((sum, line) => sum + line.sent, 0);
      if (sent < SIZE) throw new Error(`nginx sent ${sent} of ${SIZE} bytes`);
      const entry = (seen[contender.name] ??= { negotiated: new Set(), requests: [], connections: [], nginxCpuPerGiB: [], proxyCpuPerGiB: [] });
      for (const line of lines) if (line.protocol !== '-') entry.negotiated.add(line.protocol);
      entry.requests.push(lines.length);
      entry.connections.push(new Set(lines.map((line) => line.connection)).size);
      entry.nginxCpuPerGiB.push((after.nginx - before.nginx) / (SIZE / GiB));
      entry.proxyCpuPerGiB.push((after.tinyproxy - before.tinyproxy) / (SIZE / GiB));
    },
  );
  if (!result) return null;
  result.proxy = Object.fromEntries(
    Object.entries(seen).map(([contender, entry]) => [
      contender,
      {
        negotiated: [...entry.negotiated],
        requests: summary(entry.requests),
        connections: summary(entry.connections),
        nginxCpuPerGiB: summary(entry.nginxCpuPerGiB),
        proxyCpuPerGiB: summary(entry.proxyCpuPerGiB),
      },
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
    // The proxy workload: a second server of the same nginx, plain and TLS (with the same certificate), on ports of
    // their own, and tinyproxy on another.
    const proxyName = `GET ${LABEL} through a proxy`;
    let tls = null;
    let certificates = null;
    let noTls = null;
    if (selected(tlsName) || selected(proxyName)) {
      certificates = has.openssl && has.nginxSsl ? await makeCertificates(join(work, 'tls')) : null;
      noTls = !has.nginxSsl ? 'this nginx has no ssl module' : !has.openssl ? 'openssl is not installed' : 'openssl could not make the certificates';
    }
    if (selected(tlsName)) {
      if (!certificates) results.push({ name: tlsName, skipped: { all: noTls } });
      else tls = { port: await freePort(443), ...certificates, log: join(work, 'nginx-tls.log') };
    }
    let proxied = null;
    let proxy = null;
    let skipProxy = undefined;
    if (selected(proxyName)) {
      const taken = [port, ...(tls ? [tls.port] : [])];
      proxied = {
        port: await otherPort(taken),
        tls: certificates ? { port: await otherPort(taken), ...certificates } : null,
        noTls,
        log: join(work, 'nginx-proxied.log'),
      };
      if (!has.tinyproxy) skipProxy = `${TINYPROXY} is not installed (bench/setup.sh installs it)`;
      else {
        try {
          proxy = await startTinyproxy(join(work, 'tinyproxy'), await otherPort(taken), { bind: '127.0.0.2' });
        } catch (error) {
          skipProxy = error.message;
        }
      }
    }
    const nginx = await startNginx(work, data, port, { '/bench/object.bin': crc32c.digestBase64() }, { tls, logged: proxied });
    const endpoint = `http://127.0.0.1:${port}`;
    const host = `127.0.0.1`;
    try {
      console.error(
        `nginx on ${endpoint}${tls ? ` and ${nginx.tlsEndpoint}` : ''}${proxied ? `, for the proxy workload on ${proxied.port}${proxied.tls ? ` and ${proxied.tls.port}` : ''}` : ''}`,
      );
      if (proxy) console.error(`tinyproxy on ${proxy.url}`);
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
      if (proxied) results.push(await proxyWorkload(proxyName, nginx, proxied, proxy, skipProxy));
    } finally {
      await proxy?.stop();
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

  // Small GETs and PUTs, S3 Express sessions against SigV4, on a server of its own (bench/s3express.mjs).
  if (selected(S3EXPRESS_WORKLOAD)) results.push(await s3expressWorkload({ runs: RUNS, count: SMALL_COUNT, size: SMALL_SIZE }));
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
  if (w.s3express) {
    console.log(`${renderS3Express(w)}\n`);
    continue;
  }
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
  if (w.proxy) {
    console.log(`\n| contender | requests | connections at nginx | negotiated | nginx CPU s/GiB | tinyproxy CPU s/GiB |`);
    console.log('|---|---|---|---|---|---|');
    for (const [name, p] of Object.entries(w.proxy)) {
      const proxied = name.endsWith(' via tinyproxy');
      console.log(
        `| ${name} | ${p.requests.median} | ${f(p.connections, 0)} | ${p.negotiated.join(', ') || '-'} | ${f(p.nginxCpuPerGiB)} | ${proxied ? f(p.proxyCpuPerGiB) : '-'} |`,
      );
    }
    console.log(`\n| client | scheme | direct GB/s | via tinyproxy GB/s | via / direct |`);
    console.log('|---|---|---|---|---|');
    for (const client of ['s3tx', 'curl']) {
      for (const scheme of ['http', 'https']) {
        const direct = w.results[`${client} ${scheme}`];
        const through = w.results[`${client} ${scheme} via tinyproxy`];
        const rate = (r) => (r ? f(r.gbps) : 'skipped');
        const ratio = direct && through ? `${((through.gbps.median / direct.gbps.median) * 100).toFixed(0)}%` : '';
        console.log(`| ${client} | ${scheme} | ${rate(direct)} | ${rate(through)} | ${ratio} |`);
      }
    }
  }
  const on = w.results['s3tx-crc32c'];
  if (w.results.s3tx && on) console.log(`\nCRC32C on / off: ${((on.gbps.median / w.results.s3tx.gbps.median) * 100).toFixed(0)}%`);
  console.log('');
}
