/** Keys and local paths: how a folder maps onto a prefix, and back, without leaving the folder. */
import { mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Joins a prefix and a relative path with exactly one `/` between them. */
export function keyUnder(prefix: string, relativePath: string): string {
  return prefix === '' || prefix.endsWith('/') ? `${prefix}${relativePath}` : `${prefix}/${relativePath}`;
}

/**
 * The local path of `key` below `folder`, or the reason it has none: a key must not climb out
 * (`..`), be absolute, carry a backslash or NUL, or be a folder marker ending in `/`.
 */
export function safeLocalPath(folder: string, prefix: string, key: string): { path: string } | { reason: string } {
  let rest = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  if (prefix !== '' && !prefix.endsWith('/')) rest = rest.replace(/^\//, '');
  if (rest === '' || rest.endsWith('/')) return { reason: 'a folder marker, not a file' };
  if (rest.includes('\\') || rest.includes('\0')) return { reason: 'contains a backslash or NUL, which could name another path' };
  const segments = rest.split('/');
  if (rest.startsWith('/') || isAbsolute(rest) || /^[A-Za-z]:/.test(rest)) return { reason: 'is an absolute path' };
  if (segments.some((segment) => segment === '..' || segment === '.' || segment === '')) return { reason: 'contains ".", ".." or an empty segment' };
  const root = resolve(folder);
  const path = resolve(root, ...segments);
  if (!path.startsWith(root + sep)) return { reason: 'would be written outside the target folder' };
  return { path };
}

/**
 * Creates the folders from `root` down to the folder of `path` (a path safeLocalPath gave), one
 * at a time, and returns null once they are there; or the reason the file must not be written: a
 * folder on the way, already there, that leads outside `root`. A symbolic link planted in the
 * destination (`dest/link -> /elsewhere`) would otherwise take the file, and the folders made on
 * the way to it, out of the destination. Each folder is resolved before the next is made in it.
 */
export async function createFoldersWithin(root: string, path: string): Promise<string | null> {
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  let folder = resolve(root);
  for (const segment of relative(folder, dirname(resolve(path))).split(sep)) {
    if (segment === '') continue;
    folder = join(folder, segment);
    try {
      await mkdir(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const real = await realpath(folder).catch(() => null);
    if (real === null || (real !== realRoot && !real.startsWith(realRoot + sep))) {
      return `has a folder on the way (${relative(root, folder)}) that leads outside the target folder`;
    }
  }
  return null;
}
