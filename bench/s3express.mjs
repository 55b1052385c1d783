// The S3 Express bench (issue 22): 1,000 small GETs and PUTs (64 KiB each) by s3tx on a directory bucket
// (`bench--usw2-az1--x-s3`), every request signed with an S3 Express session, against the same on a general purpose
// bucket (`bench`) with plain SigV4, on the same local server, in the same run. The server runs in sink mode in a
// process of its own, started afresh for every measured run and warmed up alike for all four contenders (both buckets
// get the 1,000 objects the GETs read, and 1,000 GETs each); the contenders are bench/contenders/node.mjs's `s3tx`
// (general bucket) and `s3tx-s3express` (directory bucket: enableS3Express, AwsSigningAlgorithm.V4_S3EXPRESS), each in
// a fresh process under GNU time, the same calls as the suite's small-object workloads (1,000 requests at once, the
// client's own connection limit deciding how many are in flight), BENCH_RUNS rounds, interleaved and rotated. A run
// counts only if the server's request log shows exactly the 1,000 data requests, each key once, all answered (206 to
// s3tx's ranged first GET, 200 to a PUT), on the right bucket, session-signed (signer.session, service s3express) on
// the directory bucket and plain SigV4 (service s3, no CreateSession) on the general one; the log also gives the
// CreateSession requests of each run. Last, signing alone: RequestSigner.sign in this process, without I/O.
//
// Run: npm run bench:s3express   (BENCH_RUNS=3, BENCH_COUNT=1000; a count other than 1,000 is a trial and leaves
// bench/results alone; BENCH_CPU_PROF=<dir> runs every contender and server process with --cpu-prof into that folder:
// <op>-<signing>-<run> and server-<op>-<signing>-<run>, the server's profile taking its warm-up in too). The transfer suite
// runs the same workload when BENCH_ONLY selects it (e.g. BENCH_ONLY='S3 Express').
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AwsCredentialsProvider, AwsSigningAlgorithm, HttpRequest, S3Client, S3RequestType, createDefaultS3SigningConfig } from '../dist/index.js';
import { createBucket, setupClient } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
export const S3EXPRESS_WORKLOAD = 'GET and PUT 1,000 x 64 KiB, S3 Express sessions against SigV4';
const GENERAL = 'bench';
const DIRECTORY = 'bench--usw2-az1--x-s3';
const ACCESS = 'BENCHKEY';
const SECRET = 'benchsecret';
const NODE_CONTENDER = join(ROOT, 'bench/contenders/node.mjs');

/**
 * The local server in sink mode with S3 Express (sessions of S3's five minutes) in a process of its own, its request
 * log kept (unlike the suite's sink): `log()` gives what the server recorded of each request since `reset()`
 * (operation, bucket, key, status, connection, signer), over the process's IPC channel. `stop()` ends it.
 */
async function startExpressServer({ cpuProfileDir = null } = {}) {
  const local = new URL('../dist/local/index.js', import.meta.url).href;
  const credentials = JSON.stringify({ accessKeyId: ACCESS, secretAccessKey: SECRET });
  const script = `import { startLocalS3 } from ${JSON.stringify(local)};
    const server = await startLocalS3({ sink: true, port: 0, credentials: ${credentials}, requestLogSize: 20000, s3express: {} });
    process.on('message', async (message) => {
      // Ended by a message rather than a signal, so that --cpu-prof writes its profile.
      if (message === 'exit') return server.close().then(() => process.exit(0));
      if (message === 'reset') server.resetRequests();
      const log = message === 'log'
        ? server.requests.map(({ operation, bucket, key, status, connection, signer }) => ({ operation, bucket, key, status, connection, signer }))
        : null;
      const { user, system } = process.cpuUsage();
      process.send({ id: message, log, cpu: (user + system) / 1e6 });
    });
    process.send({ id: 'ready', endpoint: server.endpoint, host: server.host });`;
  // As the suite's sink: keep glibc from handing the heap's top back to the kernel after every batch of socket reads.
  const env = { ...process.env, MALLOC_TRIM_THRESHOLD_: String(1024 * MiB) };
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const child = spawn(process.execPath, [...profile, '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env });
  const closed = new Promise((resolve) => child.once('close', resolve));
  const answer = (id) =>
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message.id !== id) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      };
      const onExit = (code) => reject(new Error(`the S3 Express server exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ask = (id) => {
    const answered = answer(id);
    child.send(id);
    return answered;
  };
  const { endpoint, host } = await answer('ready');
  return {
    endpoint,
    host,
    pid: child.pid,
    reset: () => ask('reset'),
    log: async () => (await ask('log')).log,
    /** CPU seconds (user + system, every thread) the server's process has used so far, from its process.cpuUsage(). */
    cpu: async () => (await ask('cpu')).cpu,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.send('exit');
        const timer = setTimeout(() => child.kill(), 5000);
        void closed.then(() => clearTimeout(timer));
      }
      return closed;
    },
  };
}

/** A setup client in this process that signs with S3 Express sessions, as the `s3tx-s3express` contender does. */
function expressSetupClient(endpoint) {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    enableS3Express: true,
    signingConfig: {
      ...createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS, SECRET) }),
      algorithm: AwsSigningAlgorithm.V4_S3EXPRESS,
    },
  });
}

/**
 * A fresh server with both buckets, `count` objects of `size` bytes under `small/` in each (what the GETs read), and
 * its code warmed up the same way for every contender: those PUTs and `count` GETs on each bucket, session-signed on
 * the directory one. The directory bucket is made with CreateBucket signed with the identity (SigV4, service
 * s3express), as S3's regional endpoint takes it. The log is emptied afterwards.
 */
export async function startWarmServer(count, size, { cpuProfileDir = null } = {}) {
  const server = await startExpressServer({ cpuProfileDir });
  const plain = setupClient(server.endpoint, ACCESS, SECRET);
  const iam = new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    signingConfig: {
      ...createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS, SECRET) }),
      service: 's3express',
    },
  });
  const express = expressSetupClient(server.endpoint);
  try {
    await createBucket(plain, server.host, GENERAL);
    await createBucket(iam, server.host, DIRECTORY);
    const body = Buffer.alloc(size, 3);
    const get = (client, bucket, key) =>
      new Promise((resolve, reject) =>
        client.makeRequest({
          type: S3RequestType.GET_OBJECT,
          request: new HttpRequest({ method: 'GET', path: `/${bucket}/${key}`, headers: { host: server.host } }),
          onBody: () => {},
          onDone: ({ error }) => (error ? reject(error) : resolve()),
        }),
      );
    for (const [client, bucket] of [
      [plain, GENERAL],
      [express, DIRECTORY],
    ]) {
      for (let start = 0; start < count; start += 100) {
        const batch = Array.from({ length: Math.min(100, count - start) }, (_, i) => start + i);
        await Promise.all(batch.map((i) => client.upload({ bucket, key: `small/${i}`, body })));
      }
      for (let start = 0; start < count; start += 100) {
        const batch = Array.from({ length: Math.min(100, count - start) }, (_, i) => start + i);
        await Promise.all(batch.map((i) => get(client, bucket, `small/${i}`)));
      }
    }
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    await Promise.all([plain.close(), iam.close(), express.close()]);
  }
  await server.reset();
  return server;
}

// Everything is on 127.0.0.1: the environment's proxy variables are not passed on.
const PROXY_VARIABLES = /^(https?_proxy|all_proxy|no_proxy)$/i;
const childEnvironment = () => Object.fromEntries(Object.entries(process.env).filter(([variable]) => !PROXY_VARIABLES.test(variable)));

/** Runs one contender under GNU time: its transfer seconds and CPU (its own report), whole-process CPU and peak RSS. */
function measure(work, command, args) {
  return new Promise((resolve, reject) => {
    const stats = join(work, 'time.txt');
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', stats, command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnvironment(),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.once('close', async (code) => {
      if (code !== 0) return reject(new Error(`${args[0] ?? command} exited ${code}: ${err.slice(-800)}`));
      const [, user, system, maxKiB] = (await readFile(stats, 'utf8')).trim().split('\n').pop().split(' ').map(Number);
      const reported = JSON.parse(out.trim().split('\n').pop());
      resolve({ seconds: reported.seconds, transferCpu: reported.cpu, processCpu: user + system, rssMiB: maxKiB / 1024 });
    });
  });
}

/**
 * Checks one run from the server's log: exactly `count` requests of the contender's operation, all 200, on its bucket,
 * each key once, signed as it should be (session keys for s3express on the directory bucket; the identity's keys for
 * s3 on the general one, with no CreateSession). Throws what is wrong; else the CreateSession requests and the
 * connections the server saw.
 */
export function verifyRun(log, contender, count) {
  const sessions = log.filter((record) => record.operation === 'CreateSession');
  const data = log.filter((record) => record.operation !== 'CreateSession');
  const wrong = (why) => {
    throw new Error(why);
  };
  if (data.length !== count) wrong(`the server saw ${data.length} data requests, not ${count}`);
  const keys = new Set();
  for (const record of data) {
    if (record.operation !== contender.operation) wrong(`a ${record.operation}, not ${contender.operation}`);
    // s3tx's GET asks for its first part with a Range, which a small object answers whole with 206.
    if (record.status !== (contender.kind === 'GET' ? 206 : 200)) wrong(`a ${record.operation} of ${record.key} was answered ${record.status}`);
    if (record.bucket !== contender.bucket) wrong(`a request went to bucket ${record.bucket}, not ${contender.bucket}`);
    if (!record.signer) wrong(`${record.key} was not signed`);
    if (record.signer.session !== contender.session || record.signer.service !== contender.service) {
      wrong(`${record.key} was signed ${record.signer.session ? 'with a session' : 'plain'} for ${record.signer.service}`);
    }
    keys.add(record.key);
  }
  if (keys.size !== count) wrong(`${keys.size} distinct keys, not ${count}`);
  if (!contender.session && sessions.length > 0) wrong(`${sessions.length} CreateSession on a plain run`);
  if (contender.session && sessions.length === 0) wrong('session-signed requests without a CreateSession');
  for (const record of sessions) {
    if (record.status !== 200 || record.bucket !== DIRECTORY || record.signer?.session !== false || record.signer?.service !== 's3express') {
      wrong(`a CreateSession answered ${record.status} for ${record.bucket}, signed ${JSON.stringify(record.signer)}`);
    }
  }
  return { createSessions: sessions.length, connections: new Set(log.map((record) => record.connection)).size };
}

/**
 * Signing alone, in this process, no I/O: the CPU microseconds RequestSigner.sign takes for a GET like the bench's,
 * with the identity's keys (SigV4, service s3); with a session's keys and token given as static credentials (the same
 * maths as a session-signed request: service s3express, a 128-character token header, its derived key cached alike);
 * and with S3 Express sessions, through the client's session cache (S3ExpressSessions, its CreateSession answered in
 * memory). Interleaved rounds of `signs` each; median (min-max). The modules are the engine's internals (dist/auth):
 * if they move, this part reports itself skipped.
 */
export async function signingAlone({ rounds = 5, signs = 50_000 } = {}) {
  let resolveSigner;
  let S3ExpressSessions;
  try {
    ({ resolveSigner } = await import('../dist/auth/signing.js'));
    ({ S3ExpressSessions } = await import('../dist/auth/s3express-sessions.js'));
  } catch (error) {
    return { skipped: error.message };
  }
  const identity = createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(ACCESS, SECRET) });
  // As the local server makes them: 'ASIAS3X' and 16 hex digits, 40 base64 characters, 96 random bytes in base64.
  const session = {
    accessKeyId: 'ASIAS3X0123456789ABCDEF',
    secretAccessKey: 'S'.repeat(40),
    sessionToken: 'T'.repeat(128),
    expiration: new Date(Date.now() + 300_000),
  };
  const sessions = new S3ExpressSessions(async () => session);
  const tokenProvider = AwsCredentialsProvider.newStatic(session.accessKeyId, session.secretAccessKey, session.sessionToken);
  const signers = {
    sigv4: resolveSigner('us-east-1', identity, null, { sessions: null }),
    sigv4Token: resolveSigner('us-east-1', { ...identity, service: 's3express', credentialProvider: tokenProvider }, null, { sessions: null }),
    session: resolveSigner('us-east-1', identity, null, { sessions, headers: {} }),
  };
  const buckets = { sigv4: GENERAL, sigv4Token: DIRECTORY, session: DIRECTORY };
  const round = async (name, count) => {
    const signer = signers[name];
    const before = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      await signer.sign({ method: 'GET', path: `/${buckets[name]}/small/${i}`, query: {}, headers: { host: '127.0.0.1:40000', range: 'bytes=0-8388607' } });
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  };
  const micros = Object.fromEntries(Object.keys(signers).map((name) => [name, []]));
  for (const name of Object.keys(signers)) await round(name, 20_000);
  for (let r = 0; r < rounds; r++) {
    for (const name of Object.keys(signers)) micros[name].push(await round(name, signs));
  }
  sessions.close();
  return { rounds, signs, microsPerSign: Object.fromEntries(Object.entries(micros).map(([name, list]) => [name, summary(list)])) };
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
}

/** The workload: four contenders, `runs` rounds, a fresh warmed-up server for every measured process. */
export async function s3expressWorkload({ runs = 3, count = 1000, size = 64 * 1024, cpuProfileDir = null, log = console.error } = {}) {
  const contenders = [
    { name: 'GET, SigV4', kind: 'GET', signing: 'SigV4', client: 's3tx', bucket: GENERAL, operation: 'GetObject', session: false, service: 's3' },
    {
      name: 'GET, session',
      kind: 'GET',
      signing: 'session',
      client: 's3tx-s3express',
      bucket: DIRECTORY,
      operation: 'GetObject',
      session: true,
      service: 's3express',
    },
    { name: 'PUT, SigV4', kind: 'PUT', signing: 'SigV4', client: 's3tx', bucket: GENERAL, operation: 'PutObject', session: false, service: 's3' },
    {
      name: 'PUT, session',
      kind: 'PUT',
      signing: 'session',
      client: 's3tx-s3express',
      bucket: DIRECTORY,
      operation: 'PutObject',
      session: true,
      service: 's3express',
    },
  ];
  const work = await mkdtemp(join(tmpdir(), 's3tx-bench-s3express-'));
  const measured = Object.fromEntries(contenders.map((c) => [c.name, []]));
  const failures = Object.fromEntries(contenders.map((c) => [c.name, []]));
  try {
    for (let run = 0; run < runs; run++) {
      for (const contender of contenders.map((_, i) => contenders[(i + run) % contenders.length])) {
        const name = `${contender.kind}-${contender.signing}-${run}`;
        const server = await startWarmServer(count, size, { cpuProfileDir: cpuProfileDir ? join(cpuProfileDir, `server-${name}`) : null });
        try {
          const args =
            contender.kind === 'GET'
              ? ['small-get', server.endpoint, contender.bucket, ACCESS, SECRET, 'small/', String(count)]
              : ['small-put', server.endpoint, contender.bucket, ACCESS, SECRET, 'put/', String(count), String(size)];
          const profile = cpuProfileDir ? [`--cpu-prof`, `--cpu-prof-dir=${join(cpuProfileDir, name)}`] : [];
          const cpuBefore = await server.cpu();
          try {
            const result = await measure(work, process.execPath, [...profile, NODE_CONTENDER, contender.client, ...args]);
            const serverCpu = (await server.cpu()) - cpuBefore;
            const { createSessions, connections } = verifyRun(await server.log(), contender, count);
            measured[contender.name].push({ ...result, serverCpu, createSessions, connections });
            log(
              `  run ${run + 1} ${contender.name}: ${(count / result.seconds).toFixed(0)} objects/s, ` +
                `${((result.transferCpu / count) * 1e6).toFixed(0)} us CPU/request, CreateSession x${createSessions}, ${connections} connections`,
            );
          } catch (error) {
            failures[contender.name].push(`run ${run + 1}: ${error.message.split('\n')[0].slice(0, 300)}`);
            log(`  run ${run + 1} ${contender.name}: failed: ${error.message.split('\n')[0].slice(0, 300)}`);
          }
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const perThousand = (seconds) => (seconds / count) * 1000;
  const results = {};
  for (const contender of contenders) {
    const list = measured[contender.name];
    if (list.length === 0) continue;
    results[contender.name] = {
      kind: contender.kind,
      signing: contender.signing,
      bucket: contender.bucket,
      runs: list.length,
      objectsPerSecond: summary(list.map((r) => count / r.seconds)),
      seconds: summary(list.map((r) => r.seconds)),
      // CPU seconds per 1,000 requests: over the transfer alone (process.cpuUsage), the whole process (GNU time).
      transferCpuPer1000: summary(list.map((r) => perThousand(r.transferCpu))),
      processCpuPer1000: summary(list.map((r) => perThousand(r.processCpu))),
      serverCpuPer1000: summary(list.map((r) => perThousand(r.serverCpu))),
      rssMiB: summary(list.map((r) => r.rssMiB)),
      createSessions: list.map((r) => r.createSessions),
      connections: summary(list.map((r) => r.connections)),
    };
  }
  const ratios = {};
  for (const kind of ['GET', 'PUT']) {
    const plain = results[`${kind}, SigV4`];
    const session = results[`${kind}, session`];
    if (!plain || !session) continue;
    ratios[kind] = {
      objectsPerSecond: session.objectsPerSecond.median / plain.objectsPerSecond.median,
      transferCpuPer1000: session.transferCpuPer1000.median / plain.transferCpuPer1000.median,
      processCpuPer1000: session.processCpuPer1000.median / plain.processCpuPer1000.median,
      serverCpuPer1000: session.serverCpuPer1000.median / plain.serverCpuPer1000.median,
    };
  }
  log('  signing alone ...');
  const signing = await signingAlone();
  return { name: S3EXPRESS_WORKLOAD, count, size, runs, results, ratios, failures, signing, s3express: true };
}

/** The workload's tables, in markdown. */
export function renderS3Express(w) {
  const f = (s, digits = 0) => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
  const ms = (s) => ({ median: s.median * 1000, min: s.min * 1000, max: s.max * 1000 });
  const lines = [
    `${w.count.toLocaleString('en-US')} x ${w.size / 1024} KiB; CPU in ms per 1,000 requests; median (min-max) of ${w.runs} runs`,
    '',
    '| op | signing, bucket | objects/s | client CPU, transfer | client CPU, whole process | server CPU | CreateSession per run | connections | peak RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of Object.values(w.results)) {
    lines.push(
      `| ${r.kind} | ${r.signing === 'session' ? 'S3 Express session' : 'SigV4'}, ${r.bucket} | ${f(r.objectsPerSecond)} | ${f(ms(r.transferCpuPer1000))} | ` +
        `${f(ms(r.processCpuPer1000))} | ${f(ms(r.serverCpuPer1000))} | ${r.createSessions.join(', ')} | ${f(r.connections)} | ${r.rssMiB.median.toFixed(0)} |`,
    );
  }
  for (const [name, list] of Object.entries(w.failures)) for (const why of list) lines.push(`| ${name} | failed: ${why} | | | | | | | |`);
  lines.push('', '| session / SigV4 | objects/s | client CPU, transfer | client CPU, whole process | server CPU |', '|---|---|---|---|---|');
  for (const [kind, r] of Object.entries(w.ratios)) {
    lines.push(
      `| ${kind} | ${r.objectsPerSecond.toFixed(2)}x | ${r.transferCpuPer1000.toFixed(2)}x | ${r.processCpuPer1000.toFixed(2)}x | ${r.serverCpuPer1000.toFixed(2)}x |`,
    );
  }
  const signing = w.signing;
  if (signing?.skipped) lines.push('', `Signing alone: skipped (${signing.skipped})`);
  else if (signing) {
    const m = signing.microsPerSign;
    const us = (s) => `${s.median.toFixed(1)} (${s.min.toFixed(1)}-${s.max.toFixed(1)})`;
    lines.push(
      '',
      `Signing alone (RequestSigner.sign of a GET, no I/O), CPU us per request, median (min-max) of ${signing.rounds} rounds of ${signing.signs.toLocaleString('en-US')}:`,
      '',
      '| SigV4, identity, s3 | SigV4, session key and token, s3express | S3 Express session (session cache) | session / SigV4 |',
      '|---|---|---|---|',
      `| ${us(m.sigv4)} | ${us(m.sigv4Token)} | ${us(m.session)} | ${(m.session.median / m.sigv4.median).toFixed(2)}x |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const count = Number(process.env.BENCH_COUNT ?? 1000);
  const cpuProfileDir = process.env.BENCH_CPU_PROF ?? null;
  console.error(`S3 Express bench: ${count} x 64 KiB, ${runs} runs${cpuProfileDir ? `, CPU profiles in ${cpuProfileDir}` : ''}`);
  const result = await s3expressWorkload({ runs, count, cpuProfileDir });
  const date = new Date().toISOString();
  const report = {
    date: date.slice(0, 16).replace('T', ' '),
    machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / (1024 * MiB)), node: process.version },
    ...result,
  };
  if (count === 1000 && !cpuProfileDir) {
    await mkdir(join(ROOT, 'bench/results'), { recursive: true });
    await writeFile(join(ROOT, 'bench/results/s3express.json'), `${JSON.stringify(report, null, 2)}\n`);
  }
  console.log(`S3 Express bench, ${report.date} UTC: ${report.machine.cores} cores, Node ${report.machine.node}\n`);
  console.log(`### ${result.name}\n`);
  console.log(`${renderS3Express(result)}\n`);
  const failed = Object.values(result.failures).some((list) => list.length > 0);
  if (failed) process.exitCode = 1;
}
