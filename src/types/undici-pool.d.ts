// undici's Pool on its own, without the root entry's fetch, WebSocket, cache and mock code.
// The path is pinned with undici's version range; test/package.test.ts fails when it moves.
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}
