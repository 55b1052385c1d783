/**
 * The layering of src/ (DESIGN.md): a folder imports only the folders before it, and nothing imports
 * in a cycle. Type-only and dynamic imports count. `npm test` runs this (`npm run deps`).
 *
 *   core -> platform, checksums, lock, http, auth -> protocol -> meta-request -> client -> transfer
 *        -> s3-client.ts, index.ts;  cli/ through the public entry points only;  local/ beside the
 *        client, on core, checksums, http, auth and protocol.
 */

/** A rule that files under `from` import nothing of src/ but `allowed` (folders, or files without .ts). */
function only(name, from, allowed) {
  return {
    name,
    severity: 'error',
    comment: `${from} may import only ${allowed.join(', ')}`,
    from: { path: `^src/${from}` },
    to: { path: '^src/', pathNot: [`^src/${from}`, ...allowed.map((target) => `^src/${target}`), '^src/types/'] },
  };
}

const BELOW_PROTOCOL = ['core/', 'platform/', 'checksums/', 'lock/', 'http/', 'auth/'];

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no import cycle, between files or folders', from: {}, to: { circular: true } },
    only('core', 'core/', []),
    only('platform', 'platform/', ['core/']),
    only('checksums', 'checksums/', ['core/']),
    only('lock', 'lock/', ['core/']),
    only('http', 'http/', ['core/']),
    only('auth', 'auth/', ['core/']),
    only('protocol', 'protocol/', ['core/', 'http/', 'auth/']),
    only('meta-request', 'meta-request/', [...BELOW_PROTOCOL, 'protocol/']),
    only('client', 'client/', [...BELOW_PROTOCOL, 'protocol/', 'meta-request/']),
    only('transfer', 'transfer/', [...BELOW_PROTOCOL, 'protocol/', 'meta-request/', 'client/']),
    only('local', 'local/', ['core/', 'checksums/', 'http/', 'auth/', 'protocol/']),
    only('cli', 'cli/', ['index\\.ts$', 'local/index\\.ts$']),
    {
      name: 'entry-points',
      severity: 'error',
      comment: 'the public entry points are not imported by the engine',
      from: { path: '^src/(core|platform|checksums|lock|http|auth|protocol|meta-request|client|transfer|local)/' },
      to: { path: '^src/(index|s3-client)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
