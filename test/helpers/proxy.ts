/**
 * A real HTTP proxy for the tests: Debian's tinyproxy (scripts/setup-test-tools.sh installs it),
 * started on an ephemeral loopback port with a config of the test's, its log read back to count
 * what it carried.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempFolder } from './servers.js';

const TINYPROXY = '/usr/bin/tinyproxy';

export interface Tinyproxy {
  /** `http://127.0.0.1:PORT`, without credentials. */
  url: string;
  port: number;
  /** The request lines it received, in order: `CONNECT host:port HTTP/1.1`, `GET http://host:port/path HTTP/1.1`. */
  requests(): Promise<string[]>;
  close(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Require these credentials (Proxy-Authorization: Basic). */
  auth?: { user: string; password: string };
  /** Ports CONNECT may reach; any when unset. Others get 403. */
  connectPorts?: number[];
}

/** A port nothing listens on at this moment. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  if (!existsSync(TINYPROXY)) throw new Error(`${TINYPROXY} is missing: run scripts/setup-test-tools.sh as root (npm test does)`);
  const folder = await tempFolder();
  const port = await freePort();
  const log = join(folder.path, 'tinyproxy.log');
  const config = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    `LogFile "${log}"`,
    'LogLevel Connect',
    `PidFile "${join(folder.path, 'tinyproxy.pid')}"`,
    'MaxClients 200',
    'Allow 127.0.0.1',
    'DisableViaHeader Yes',
    ...(options.auth ? [`BasicAuth ${options.auth.user} ${options.auth.password}`] : []),
    ...(options.connectPorts ?? []).map((allowed) => `ConnectPort ${allowed}`),
  ];
  const file = join(folder.path, 'tinyproxy.conf');
  await writeFile(file, `${config.join('\n')}\n`);
  const child: ChildProcess = spawn(TINYPROXY, ['-d', '-c', file], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let waited = 0; !(await accepts(port)); waited += 20) {
    if (waited > 5000 || child.exitCode !== null) throw new Error(`tinyproxy did not start on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async requests() {
      const text = await readFile(log, 'utf8').catch(() => '');
      return [...text.matchAll(/Request \(file descriptor \d+\): (.*)$/gm)].map((match) => match[1]!);
    },
    async close() {
      child.kill('SIGTERM');
      await exited;
      await folder.remove();
    },
  };
}
