// What the transfer and scaling benches share: test data, nginx with its own config, tinyproxy, a client for setup.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { AwsCredentialsProvider, S3Client, createDefaultS3SigningConfig } from '../dist/index.js';

const MiB = 1024 * 1024;

/** A file of `size` bytes; every MiB block is numbered, so misplaced bytes would show. */
export async function writeData(path, size) {
  const block = Buffer.alloc(Math.min(size, MiB));
  for (let i = 0; i + 4 <= block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  const file = await open(path, 'w');
  for (let offset = 0; offset < size; offset += block.length) {
    if (block.length >= 4) block.writeUInt32LE(offset / MiB, 0);
    await file.write(block, 0, Math.min(block.length, size - offset), offset);
  }
  await file.close();
}

/**
 * A certificate authority and a server certificate it signed for 127.0.0.1 and localhost (RSA 2048, as S3's), made
 * with openssl in `dir`: `{ ca, cert, key }` are the paths of the CA's certificate (what clients trust) and of the
 * server's certificate and key (what nginx serves). Null if openssl is missing or fails.
 */
export async function makeCertificates(dir) {
  await mkdir(dir, { recursive: true });
  const path = (name) => join(dir, name);
  await writeFile(
    path('server.ext'),
    'basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n' +
      'extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1, DNS:localhost\n',
  );
  const steps = [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path('ca.key'), '-out', path('ca.pem'), '-days', '2', '-subj', '/CN=s3tx bench CA'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=127.0.0.1'],
    [
      'x509',
      '-req',
      '-in',
      path('server.csr'),
      '-CA',
      path('ca.pem'),
      '-CAkey',
      path('ca.key'),
      '-set_serial',
      '0x' + String(Date.now()),
      '-days',
      '2',
      '-sha256',
      '-extfile',
      path('server.ext'),
      '-out',
      path('server.pem'),
    ],
  ];
  for (const args of steps) {
    const step = spawnSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (step.error || step.status !== 0) return null;
  }
  return { ca: path('ca.pem'), cert: path('server.pem'), key: path('server.key') };
}

/**
 * nginx serving `root` on 127.0.0.1:`port` with sendfile and Range, one worker; `stop()` ends it.
 * `checksums` maps a path to the CRC32C nginx reports for it, as S3 reports a stored full-object
 * checksum: only to requests with `x-amz-checksum-mode: ENABLED`.
 * With `tls: { port, cert, key, log }` the same server also listens with TLS on that port (TLS 1.2 and 1.3, as S3
 * and nginx from 1.23.4 on, whose 1.22 would offer 1.2 at most; nginx's default ciphers; no kTLS, so nginx encrypts
 * in its worker and sendfile does not apply) and writes one line to `log` per request over TLS: the connection's
 * serial number, protocol, cipher and body bytes sent.
 * With `shaped: { bucket: rate }`, the files below /bucket/ are sent at most `rate` per connection (nginx's `limit_rate`, as S3
 * serves each connection at about 90 MB/s): a network profile the bucket's name selects, so that the CRT, which only
 * reaches port 80, meets it on the same server.
 * With `logged: { port, log, tls }` a second server of the same files listens on 127.0.0.1:`port` (and, with
 * `tls: { port, cert, key }`, with TLS on that port too) and writes one line to `log` per request, whatever its scheme:
 * the connection's serial number, the client's address, the scheme, the TLS protocol and the body bytes sent. The
 * proxy workload's own server: the other workloads' server logs no plain request.
 */
export async function startNginx(work, root, port, checksums = {}, { tls = null, logged = null, shaped = {} } = {}) {
  const stored = Object.entries(checksums).map(
    ([, crc32c], index) => `
  map $http_x_amz_checksum_mode $crc32c_${index} { ENABLED "${crc32c}"; default ""; }`,
  );
  const locations = Object.keys(checksums).map(
    (path, index) => `
    location = ${path} { add_header x-amz-checksum-crc32c $crc32c_${index}; add_header x-amz-checksum-type $checksum_type; }`,
  );
  // Each response below /<bucket>/ sent at most `rate` (nginx's size: 90m is 90 MB/s) on each connection.
  for (const [bucket, rate] of Object.entries(shaped)) locations.push(`
    location /${bucket}/ { limit_rate ${rate}; }`);
  const conf = join(work, 'nginx.conf');
  const temp = (name) => `${name}_temp_path ${join(work, `nginx-${name}`)};`;
  await writeFile(
    conf,
    `worker_processes 1; daemon off; pid ${work}/nginx.pid; error_log ${work}/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; keepalive_timeout 120s; default_type application/octet-stream;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join(' ')}
  map $http_x_amz_checksum_mode $checksum_type { ENABLED "FULL_OBJECT"; default ""; }${stored.join('')}
  ${tls ? `log_format tls '$connection $ssl_protocol $ssl_cipher $body_bytes_sent';` : ''}
  server { listen 127.0.0.1:${port};${tlsServer(tls)} root ${root}; location / { }${locations.join('')} }${loggedServer(logged, root)} }\n`,
  );
  const nginx = spawn('nginx', ['-c', conf, '-p', work], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 500));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ...(tls ? { tlsEndpoint: `https://127.0.0.1:${tls.port}` } : {}),
    pid: nginx.pid,
    stop: stopper(nginx),
  };
}

function tlsServer(tls) {
  if (!tls) return '';
  return ` listen 127.0.0.1:${tls.port} ssl; ssl_certificate ${tls.cert}; ssl_certificate_key ${tls.key}; ssl_protocols TLSv1.2 TLSv1.3;
    access_log ${tls.log} tls if=$https;`;
}

function loggedServer(logged, root) {
  if (!logged) return '';
  const tls = logged.tls
    ? ` listen 127.0.0.1:${logged.tls.port} ssl; ssl_certificate ${logged.tls.cert}; ssl_certificate_key ${logged.tls.key}; ssl_protocols TLSv1.2 TLSv1.3;`
    : '';
  return `
  log_format every '$connection $remote_addr $scheme $ssl_protocol $body_bytes_sent';
  server { listen 127.0.0.1:${logged.port};${tls} access_log ${logged.log} every; root ${root}; location / { } }`;
}

/** CPU seconds (user + system) process `pid` has used so far, all its threads (the finished ones too) included. */
export async function processCpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ ticks
}

export const TINYPROXY = '/usr/bin/tinyproxy';

function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * Debian's tinyproxy on 127.0.0.1:`port`, its config, pid and log files in `dir`: logging warnings only (a line per
 * request would cost it CPU), clients from 127.0.0.1 only, no Via header. With `bind`, its connections to the servers
 * leave from that address, so that a server's log tells a proxied request from a direct one. In the foreground (-d),
 * so that the process spawned is the proxy (a thread per connection): `pid` for its CPU time, `stop()` ends it with
 * SIGTERM. Null if tinyproxy is not installed; throws if it does not start.
 */
export async function startTinyproxy(dir, port, { bind = null } = {}) {
  if (!existsSync(TINYPROXY)) return null;
  await mkdir(dir, { recursive: true });
  const config = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    ...(bind ? [`Bind ${bind}`] : []),
    `LogFile "${join(dir, 'tinyproxy.log')}"`,
    'LogLevel Warning',
    `PidFile "${join(dir, 'tinyproxy.pid')}"`,
    'MaxClients 100',
    'Allow 127.0.0.1',
    'DisableViaHeader Yes',
  ];
  const file = join(dir, 'tinyproxy.conf');
  await writeFile(file, `${config.join('\n')}\n`);
  const child = spawn(TINYPROXY, ['-d', '-c', file], { stdio: 'ignore' });
  let failed = null;
  child.once('error', (error) => (failed = error.message));
  const closed = new Promise((resolve) => child.once('close', resolve));
  for (let waited = 0; !(await accepts(port)); waited += 20) {
    if (waited > 5000 || child.exitCode !== null || failed) {
      child.kill('SIGTERM');
      const log = await readFile(join(dir, 'tinyproxy.log'), 'utf8').catch(() => '');
      throw new Error(`tinyproxy did not start on port ${port}: ${failed ?? (log.trim().split('\n').pop() || `exit ${child.exitCode}`)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () => {
      child.kill('SIGTERM');
      return closed;
    },
  };
}

/** CPU seconds (user + system) the children of process `pid` (nginx's worker) have used so far. */
export async function childrenCpuSeconds(pid) {
  const tick = 100; // USER_HZ, the unit of /proc's times on Linux
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    // After the command's closing parenthesis: state, ppid, ..., utime (14th field) and stime (15th).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) total += (Number(fields[11]) + Number(fields[12])) / tick;
  }
  return total;
}

/**
 * The local server in sink mode, in a process of its own (the bench's own work, which piles up in a long run,
 * never shares its thread), on `port` (0 for any). `stop()` ends it.
 */
export async function startSink(port, accessKeyId, secretAccessKey) {
  const local = new URL('../dist/local/index.js', import.meta.url).href;
  const credentials = JSON.stringify({ accessKeyId, secretAccessKey });
  const script = `import { startLocalS3 } from ${JSON.stringify(local)};
    const server = await startLocalS3({ sink: true, port: ${Number(port)}, credentials: ${credentials}, requestLogSize: 0 });
    process.stdout.write(JSON.stringify({ endpoint: server.endpoint, host: server.host }) + '\\n');`;
  // Every socket read lands in a fresh 64 KiB buffer; when V8 frees a batch of them, glibc hands the top of the heap
  // back to the kernel (above 128 KiB free, by default) and the next reads fault it in again. That churn (page faults,
  // zeroing, memcg) was up to a third of the sink's CPU, run to run, and the sink is the slowest part of a PUT: keep it.
  const env = { ...process.env, MALLOC_TRIM_THRESHOLD_: String(1024 * MiB) };
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const line = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (data) => {
      out += data;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('exit', (code) => reject(new Error(`the sink server exited (${code}) before it listened`)));
  });
  return {
    ...JSON.parse(line),
    pid: child.pid,
    stop: stopper(child),
  };
}

/** Ends a server's process; the promise settles once it has exited. */
function stopper(child) {
  return () => {
    child.kill();
    return new Promise((resolve) => child.once('close', resolve));
  };
}

/** An s3tx client for setting a server up (buckets, objects), in this process. */
export function setupClient(endpoint, accessKeyId, secretAccessKey) {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    signingConfig: createDefaultS3SigningConfig({ region: 'us-east-1', credentialProvider: AwsCredentialsProvider.newStatic(accessKeyId, secretAccessKey) }),
  });
}

/** Creates `bucket` on the server at `host`. */
export async function createBucket(client, host, bucket) {
  const { S3RequestType, HttpRequest } = await import('../dist/index.js');
  await client.makeRequest({
    type: S3RequestType.DEFAULT,
    operationName: 'CreateBucket',
    request: new HttpRequest({ method: 'PUT', path: `/${bucket}`, headers: { host } }),
  }).finishedFuture;
}

/**
 * Runs a freshly started server's code until V8 has compiled it, so that the run after a restart is not measured
 * against an interpreter: 500 small PUTs and one multipart upload, with the setup client. The upload is 256 MiB
 * (4,096 socket reads) because with 24 MiB the body path was still being compiled in the measured run: s3tx's 2 GiB
 * PUT took 1.37-1.46 s after it, against 1.23-1.36 s after 256 MiB.
 */
export async function warmUp(client, bucket) {
  const small = Buffer.alloc(64 * 1024, 1);
  for (let round = 0; round < 5; round++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => client.upload({ bucket, key: `warm-up/${round * 100 + i}`, body: small })));
  }
  await client.upload({ bucket, key: 'warm-up/large', body: Buffer.alloc(256 * MiB, 2) });
}

/** A sink process started afresh on `port` (0 for any), with `bucket` made and its code warmed up. */
export async function startWarmSink(port, accessKeyId, secretAccessKey, bucket) {
  const sink = await startSink(port, accessKeyId, secretAccessKey);
  const setup = setupClient(sink.endpoint, accessKeyId, secretAccessKey);
  await createBucket(setup, sink.host, bucket);
  await warmUp(setup, bucket);
  await setup.close();
  return sink;
}
