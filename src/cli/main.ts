#!/usr/bin/env node
/** The `s3tx` command. */
import { readFileSync } from 'node:fs';

const USAGE = `Usage: s3tx <command> [options]

Commands:
  demo [--size-mib N]   upload and download a generated file (256 MiB by default)
                        through a local S3-compatible server and compare the bytes

Options:
  -h, --help            show this help
  -v, --version         print the version`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === '-v' || command === '--version') {
    console.log(version());
    return 0;
  }
  if (command === 'demo') {
    let sizeMiB = 256;
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === '--size-mib' && rest[i + 1] && /^\d+$/.test(rest[i + 1]!)) sizeMiB = Number(rest[++i]);
      else if (rest[i] === '-h' || rest[i] === '--help') return (console.log(USAGE), 0);
      else return (console.error(`s3tx demo: unknown option ${rest[i]}\n\n${USAGE}`), 2);
    }
    const { runDemo } = await import('./demo.js');
    await runDemo(sizeMiB);
    return 0;
  }
  console.error(`s3tx: unknown command ${command}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(`s3tx: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
