/** Keys and local paths: how a folder maps onto a prefix, and back, without leaving the folder. */
import { lstat, mkdir, realpath } from 'node:fs/promises';
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
 * A local folder that many keys are downloaded into. Each file's folders are made one at a time
 * below it, and one already there is followed only while it stays inside: a symbolic link planted
 * in the destination (`dest/link -> /elsewhere`) would otherwise take the file, and the folders
 * made on the way to it, out of the destination. A link that appears between this check and the
 * write (a race another user of the folder would have to win, file by file) is not caught: Node
 * has no openat() to make folders relative to a handle.
 */
export class DestinationFolder {
  readonly #root: string;
  readonly #realRoot: string;

  private constructor(root: string, realRoot: string) {
    this.#root = root;
    this.#realRoot = realRoot;
  }

  /** The folder, made if it is not there, and resolved once for all its files. */
  static async open(folder: string): Promise<DestinationFolder> {
    await mkdir(folder, { recursive: true });
    return new DestinationFolder(resolve(folder), await realpath(folder));
  }

  /**
   * Where `key` (below `prefix`) goes, with its folders made: its path; or the reason it has none
   * (see safeLocalPath, and a folder on the way that leads outside); or its path and the error that
   * kept its folders from being made.
   */
  async place(prefix: string, key: string): Promise<{ path: string } | { reason: string } | { path: string; error: Error }> {
    const local = safeLocalPath(this.#root, prefix, key);
    if ('reason' in local) return local;
    try {
      const outside = await this.#makeFolders(local.path);
      return outside === null ? local : { reason: `has a folder on the way (${outside}) that leads outside the target folder` };
    } catch (error) {
      return { path: local.path, error: error as Error };
    }
  }

  /** Makes the folders of `path` below the root; returns the first one, already there, that leads outside it, else null. */
  async #makeFolders(path: string): Promise<string | null> {
    let folder = this.#root;
    for (const segment of relative(this.#root, dirname(path)).split(sep)) {
      if (segment === '') continue;
      folder = join(folder, segment);
      try {
        // Made here: a real folder inside the one before it.
        await mkdir(folder);
        continue;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      // A real folder inside the one before it is inside the root too; only a link needs resolving.
      if (!(await lstat(folder)).isSymbolicLink()) continue;
      const real = await realpath(folder).catch(() => null);
      if (real === null || (real !== this.#realRoot && !real.startsWith(this.#realRoot + sep))) return relative(this.#root, folder);
    }
    return null;
  }
}
