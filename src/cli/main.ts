#!/usr/bin/env node
/** The `s3tx` command. Exit codes: 0 success, 1 failure, 2 bad usage. */
import { readFileSync } from 'node:fs';
import { SetupError, UsageError, parse } from './options.js';
import { describeError } from './report.js';
import { watchStdout } from './stdout.js';

const USAGE = `Usage: s3tx <command> [options]

Commands:
  cp SRC DST      copy a file or object (local to S3, S3 to local, S3 to S3; -r for folders)
  sync SRC DST    copy what differs between a folder and a prefix (--delete to remove the rest)
  ls [S3URL]      list buckets, or objects below a prefix
  rm S3URL        delete an object, or with -r a prefix
  serve           run the local S3-compatible server until interrupted
  demo            upload and download a generated file through the local server and compare the bytes

Run "s3tx <command> --help" for a command's options.

Options:
  -h, --help       show help (also after a command)
  -v, --version    print the version

Exit status: 0 success, 1 a transfer failed, 2 bad usage.`;

const SERVE_USAGE = `Usage: s3tx serve [options]

Runs an S3-compatible server for development and tests. Requests must be
signed with the credentials it prints (SigV4 headers or presigned URLs).

Options:
  --root DIR          keep buckets in this folder (default: in memory, lost on exit)
  --host ADDRESS      address to listen on (default 127.0.0.1)
  --port N            port to listen on (default 0: any free port)
  --access-key ID     access key id to accept (default: generated)
  --secret-key KEY    secret access key to accept (default: generated)
  --anonymous         also serve unsigned requests
  --region NAME       region to answer for; requests signed for another are refused (default us-east-1)
  --sink              benchmark mode: discard uploads, serve synthetic bytes
  -h, --help          show this help`;

const DEMO_USAGE = `Usage: s3tx demo [--size-mib N]

Starts the local server, uploads a generated file of N MiB (default 256) with a
multipart PUT_OBJECT, downloads it with ranged GET_OBJECT parts to a file,
compares the bytes and prints times and throughput.`;

function parseOwn(args: string[], options: Parameters<typeof parse>[1]) {
  return parse(args, options).values;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function positiveInteger(name: string, text: string | undefined, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || (!allowZero && value === 0)) throw new UsageError(`${name} must be a whole number${allowZero ? '' : ' above 0'}, got "${text}"`);
  return value;
}

async function serve(args: string[]): Promise<number> {
  const values = parseOwn(args, {
    root: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'access-key': { type: 'string' },
    'secret-key': { type: 'string' },
    anonymous: { type: 'boolean' },
    region: { type: 'string' },
    sink: { type: 'boolean' },
  });
  if (values.help) return (console.log(SERVE_USAGE), 0);
  const accessKey = values['access-key'] as string | undefined;
  const secretKey = values['secret-key'] as string | undefined;
  if ((accessKey === undefined) !== (secretKey === undefined)) throw new UsageError('--access-key and --secret-key go together');
  const { startLocalS3 } = await import('../local/index.js');
  const server = await startLocalS3({
    host: values.host as string | undefined,
    port: positiveInteger('--port', values.port as string | undefined, 0, true),
    root: values.root as string | undefined,
    credentials: accessKey && secretKey ? { accessKeyId: accessKey, secretAccessKey: secretKey } : undefined,
    anonymous: Boolean(values.anonymous),
    region: values.region as string | undefined,
    sink: Boolean(values.sink),
    // Nothing reads the request log of a server run from the command line: it would only be memory a client can fill.
    requestLogSize: 0,
  });
  console.log(`s3tx local S3 server listening on ${server.endpoint}`);
  console.log(`  storage:    ${values.sink ? 'sink (uploads discarded)' : (values.root ?? 'memory')}`);
  if (accessKey) {
    // Credentials the user chose are theirs to know: never echoed.
    console.log('  credentials: as given by --access-key and --secret-key');
  } else {
    // Generated credentials are printed on purpose: they are what the user must configure.
    console.log(`  access key: ${server.credentials.accessKeyId}`);
    console.log(`  secret key: ${server.credentials.secretAccessKey}`);
    console.log(`  e.g. AWS_ACCESS_KEY_ID=${server.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=... AWS_ENDPOINT_URL=${server.endpoint}`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  console.log('s3tx local S3 server stopped');
  return 0;
}

async function demo(args: string[]): Promise<number> {
  const values = parseOwn(args, { 'size-mib': { type: 'string' } });
  if (values.help) return (console.log(DEMO_USAGE), 0);
  const { runDemo } = await import('./demo.js');
  await runDemo(positiveInteger('--size-mib', values['size-mib'] as string | undefined, 256));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) return (console.error(USAGE), 2);
  if (command === '-h' || command === '--help') return (console.log(USAGE), 0);
  if (command === '-v' || command === '--version') return (console.log(version()), 0);
  if (command === 'cp') return (await import('./commands/cp.js')).cp(rest);
  if (command === 'sync') return (await import('./commands/sync.js')).sync(rest);
  if (command === 'ls') return (await import('./commands/ls.js')).ls(rest);
  if (command === 'rm') return (await import('./commands/rm.js')).rm(rest);
  if (command === 'serve') return serve(rest);
  if (command === 'demo') return demo(rest);
  throw new UsageError(`unknown command "${command}"`);
}

watchStdout();
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`s3tx: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (error instanceof SetupError) {
      console.error(`s3tx: ${error.message}`);
      process.exitCode = 2;
    } else {
      console.error(`s3tx: ${error instanceof Error ? describeError(error) : String(error)}`);
      process.exitCode = 1;
    }
  },
);
