/**
 * The files below a folder, for uploads and sync: symbolic links followed by default, as
 * `aws s3 cp` and `sync` follow them, with a loop (a link to a folder that holds it) and a
 * dangling link reported as skipped rather than walked forever or failed.
 */
import { lstat, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';

export interface LocalFile {
  path: string;
  /** The path below the folder, with `/` separators. */
  relativePath: string;
  size: number;
  mtimeMs: number;
}

export interface LocalFilesOptions {
  /** Follow symbolic links to files and folders (true, the default); false leaves every link out. */
  followSymlinks?: boolean;
  /** Told of a path left out: a dangling link, a link loop, a folder that cannot be read. */
  onSkip?: (skipped: { path: string; relativePath: string; reason: string }) => void;
}

const identity = (info: Stats) => `${info.dev}:${info.ino}`;

/** Every regular file below `folder`, depth first, names in the order the folder lists them. */
export async function* localFiles(folder: string, options: LocalFilesOptions = {}): AsyncGenerator<LocalFile> {
  const follow = options.followSymlinks ?? true;
  // The folders on the way down: a link back to one of them is a loop.
  const ancestors = new Set<string>([identity(await stat(folder))]);
  async function* walk(dir: string, relative: string): AsyncGenerator<LocalFile> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      options.onSkip?.({ path: dir, relativePath: relative, reason: `the folder cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const relativePath = relative === '' ? entry.name : `${relative}/${entry.name}`;
      let info: Stats;
      if (entry.isSymbolicLink()) {
        if (!follow) continue;
        const target = await stat(path).catch(() => null);
        if (!target) {
          options.onSkip?.({ path, relativePath, reason: 'the link points to nothing' });
          continue;
        }
        info = target;
      } else if (entry.isDirectory() || entry.isFile()) {
        info = await lstat(path);
      } else {
        continue;
      }
      if (info.isDirectory()) {
        const id = identity(info);
        if (ancestors.has(id)) {
          options.onSkip?.({ path, relativePath, reason: 'the link leads back to a folder that holds it' });
          continue;
        }
        ancestors.add(id);
        yield* walk(path, relativePath);
        ancestors.delete(id);
      } else if (info.isFile()) {
        yield { path, relativePath, size: info.size, mtimeMs: info.mtimeMs };
      }
    }
  }
  yield* walk(folder, '');
}
