// Cold start and bundle size of a function handler on s3tx against the same handler on
// @aws-sdk/client-s3 + @aws-sdk/lib-storage, built in one run with esbuild (bundle, minify,
// ESM, code splitting). Run: npm run bench:serverless  (BENCH_RUNS fresh processes, 9 by default)
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Math.max(7, Number(process.env.BENCH_RUNS ?? 9));
const KiB = 1024;

async function bundle(name, out) {
  const result = await build({
    entryPoints: [join(ROOT, 'bench/serverless', `${name}-handler.mjs`)],
    bundle: true,
    minify: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: join(out, name),
    metafile: true,
    logLevel: 'error',
    // The usual banner of an ESM function bundle: CommonJS dependencies (the SDK's credential chain) require Node built-ins.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  const outputs = result.metafile.outputs;
  const entryName = Object.keys(outputs).find((file) => outputs[file].entryPoint?.endsWith(`${name}-handler.mjs`));
  // What loads at cold start: the entry chunk and every chunk it imports statically.
  const startup = new Set();
  const visit = (file) => {
    if (startup.has(file) || !outputs[file]) return;
    startup.add(file);
    for (const imported of outputs[file].imports) if (imported.kind === 'import-statement') visit(imported.path);
  };
  visit(entryName);
  const sum = (files) => [...files].reduce((total, file) => total + outputs[file].bytes, 0);
  return { entry: { file: join(ROOT, entryName), bytes: sum(startup) }, total: sum(Object.keys(outputs)), chunks: Object.keys(outputs).length };
}

/** Wall time of one fresh process that only imports `specifier`, in ms. */
function coldImport(specifier) {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', specifier ? `await import(${JSON.stringify(specifier)})` : ''], { cwd: ROOT });
  if (child.status !== 0) throw new Error(`importing ${specifier} failed: ${child.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Every contender imported RUNS times, interleaved so that drift of the machine hits each alike. */
function measure(contenders) {
  const times = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  for (let run = 0; run < RUNS; run++) for (const [name, specifier] of Object.entries(contenders)) times[name].push(coldImport(specifier));
  return Object.fromEntries(Object.entries(times).map(([name, values]) => [name, stats(values)]));
}

const ms = (s) => `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}-${s.max.toFixed(0)})`;
const kb = (bytes) => `${(bytes / KiB).toFixed(0)} KiB`;

const out = await mkdtemp(join(tmpdir(), 's3tx-serverless-'));
try {
  const s3tx = await bundle('s3tx', out);
  const sdk = await bundle('sdk', out);
  const bundled = measure({ bare: '', s3tx: pathToFileURL(s3tx.entry.file).href, sdk: pathToFileURL(sdk.entry.file).href });
  const unbundled = measure({ bare: '', s3tx: 's3tx', 'client-s3': '@aws-sdk/client-s3', 'lib-storage': '@aws-sdk/lib-storage' });

  const results = {
    date: new Date().toISOString().slice(0, 10),
    machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    runs: RUNS,
    bundle: {
      s3tx: { entryBytes: s3tx.entry.bytes, totalBytes: s3tx.total, chunks: s3tx.chunks },
      sdk: { entryBytes: sdk.entry.bytes, totalBytes: sdk.total, chunks: sdk.chunks },
    },
    coldImportMs: { bundled, unbundled },
    ratios: {
      entryChunk: s3tx.entry.bytes / sdk.entry.bytes,
      total: s3tx.total / sdk.total,
      bundledImport: bundled.s3tx.median / bundled.sdk.median,
      unbundledImportVsClientS3: unbundled.s3tx.median / unbundled['client-s3'].median,
    },
  };
  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(join(ROOT, 'bench/results/serverless.json'), `${JSON.stringify(results, null, 2)}\n`);

  console.log(`Serverless bench, ${results.date}, ${results.machine.cores} cores, Node ${results.machine.node}, median (min-max) of ${RUNS} fresh processes\n`);
  console.log('| handler | loaded at start (entry + static chunks) | all chunks | cold import (bundled) |');
  console.log('|---|---|---|---|');
  console.log(`| s3tx | ${kb(s3tx.entry.bytes)} | ${kb(s3tx.total)} in ${s3tx.chunks} | ${ms(bundled.s3tx)} |`);
  console.log(`| client-s3 + lib-storage | ${kb(sdk.entry.bytes)} | ${kb(sdk.total)} in ${sdk.chunks} | ${ms(bundled.sdk)} |`);
  console.log(`| (bare node) | | | ${ms(bundled.bare)} |`);
  console.log(
    `| **s3tx / peer** | **${results.ratios.entryChunk.toFixed(2)}x** | **${results.ratios.total.toFixed(2)}x** | **${results.ratios.bundledImport.toFixed(2)}x** |`,
  );
  console.log('\nUnbundled import (node_modules as installed):\n');
  console.log('| import | time |');
  console.log('|---|---|');
  for (const [name, s] of Object.entries(unbundled)) console.log(`| ${name} | ${ms(s)} |`);
  console.log(`| **s3tx / client-s3** | **${results.ratios.unbundledImportVsClientS3.toFixed(2)}x** |`);
} finally {
  await rm(out, { recursive: true, force: true });
}
