/**
 * The CLI's pure parts: --exclude/--include matching against Python's fnmatch (which the AWS CLI
 * uses; the table was computed with fnmatch.fnmatchcase), sync's comparison, ls's human-readable
 * sizes against the AWS CLI's human_readable_size, --sse's optional value; and the walk of a
 * folder with links in it.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filterRules, pathFilter, relativeKey } from '../src/cli/filters.js';
import { humanSize } from '../src/cli/report.js';
import { needsSync } from '../src/cli/sync-decision.js';
import { spellSse } from '../src/cli/transfer-settings.js';
import { localFiles } from '../src/index.js';
import { tempFolder } from './helpers/servers.js';

const PATHS = [
  'a.txt',
  'b.txt',
  'c.txt',
  'ab.txt',
  'sub/c.txt',
  'sub/deep/e.txt',
  'x.c',
  'y.h',
  'dir/q/x',
  'dir/q/r/x',
  'a.b',
  'axb',
  '(x).txt',
  'x.txt',
  'A.TXT',
  'sub',
  '.hidden',
  'sub/.hidden',
  'file9',
  'a]b',
  ']x',
  '{a,b}.txt',
  '!a',
  '+(a)',
  '@(a)',
  'a',
];

/** Each pattern, and the paths of PATHS that fnmatch.fnmatchcase matches with it. */
const FNMATCH: Array<[string, string[]]> = [
  ['*.txt', ['a.txt', 'b.txt', 'c.txt', 'ab.txt', 'sub/c.txt', 'sub/deep/e.txt', '(x).txt', 'x.txt', '{a,b}.txt']],
  [
    '*',
    [
      'a.txt',
      'b.txt',
      'c.txt',
      'ab.txt',
      'sub/c.txt',
      'sub/deep/e.txt',
      'x.c',
      'y.h',
      'dir/q/x',
      'dir/q/r/x',
      'a.b',
      'axb',
      '(x).txt',
      'x.txt',
      'A.TXT',
      'sub',
      '.hidden',
      'sub/.hidden',
      'file9',
      'a]b',
      ']x',
      '{a,b}.txt',
      '!a',
      '+(a)',
      '@(a)',
      'a',
    ],
  ],
  ['a*', ['a.txt', 'ab.txt', 'a.b', 'axb', 'a]b', 'a']],
  ['sub/*', ['sub/c.txt', 'sub/deep/e.txt', 'sub/.hidden']],
  ['*/c.txt', ['sub/c.txt']],
  ['?.txt', ['a.txt', 'b.txt', 'c.txt', 'x.txt']],
  ['[ab].txt', ['a.txt', 'b.txt']],
  ['[!a].txt', ['b.txt', 'c.txt', 'x.txt']],
  ['[a-c]*', ['a.txt', 'b.txt', 'c.txt', 'ab.txt', 'a.b', 'axb', 'a]b', 'a']],
  ['*.[ch]', ['x.c', 'y.h']],
  ['dir/*/x', ['dir/q/x', 'dir/q/r/x']],
  ['a.b', ['a.b']],
  ['(x).txt', ['(x).txt']],
  ['*.TXT', ['A.TXT']],
  ['sub', ['sub']],
  ['.*', ['.hidden']],
  ['*[0-9]', ['file9']],
  ['a]b', ['a]b']],
  ['[]]x', [']x']],
  ['{a,b}.txt', ['{a,b}.txt']],
  ['!a', ['!a']],
  ['+(a)', ['+(a)']],
  ['@(a)', ['@(a)']],
];

describe('filters', () => {
  it('match as fnmatch does, for every pattern and path of the table', () => {
    for (const [pattern, matched] of FNMATCH) {
      const excluded = pathFilter([{ include: false, pattern }])!;
      expect(
        PATHS.filter((path) => !excluded(path)),
        pattern,
      ).toEqual(matched);
    }
  });

  it('start with everything included; the last rule that matches decides', () => {
    const rules = (...flags: string[]) =>
      filterRules(
        flags
          .map((flag, i) => (i % 2 === 0 ? { kind: 'option', name: flag, value: flags[i + 1] } : { kind: 'skip' }))
          .filter((token) => token.kind === 'option'),
      );
    expect(pathFilter(rules())).toBeNull();
    const onlyTxt = pathFilter(rules('exclude', '*', 'include', '*.txt'))!;
    expect(['a.txt', 'b.log', 'sub/c.txt'].filter(onlyTxt)).toEqual(['a.txt', 'sub/c.txt']);
    const none = pathFilter(rules('include', '*.txt', 'exclude', '*'))!;
    expect(['a.txt', 'b.log'].filter(none)).toEqual([]);
    expect(() => rules('exclude', '')).toThrow(/--exclude needs a pattern/);
  });

  it('see keys relative to the prefix, with or without its slash', () => {
    expect(relativeKey('photos', 'photos/2024/a.jpg')).toBe('2024/a.jpg');
    expect(relativeKey('photos/', 'photos/2024/a.jpg')).toBe('2024/a.jpg');
    expect(relativeKey('', 'a.jpg')).toBe('a.jpg');
  });
});

describe('needsSync', () => {
  const at = (seconds: number, size = 10) => ({ size, mtimeMs: seconds * 1000 });
  it('sends what is missing or of another size, whatever the times and flags', () => {
    for (const direction of ['upload', 'download', 'copy'] as const) {
      expect(needsSync(direction, at(5), undefined)).toBe(true);
      expect(needsSync(direction, at(5), at(9, 11), { sizeOnly: true })).toBe(true);
    }
  });
  it('upload and copy: a newer source, in whole seconds', () => {
    expect(needsSync('upload', at(10.9), at(10.1))).toBe(false);
    expect(needsSync('upload', at(11), at(10.9))).toBe(true);
    expect(needsSync('copy', at(9), at(10))).toBe(false);
    expect(needsSync('upload', at(11), at(10), { sizeOnly: true })).toBe(false);
  });
  it('download: a newer local file, or with exactTimestamps any difference', () => {
    // The source is the object, the destination the local file.
    expect(needsSync('download', at(20), at(10))).toBe(false);
    expect(needsSync('download', at(10), at(20))).toBe(true);
    expect(needsSync('download', at(20), at(10), { exactTimestamps: true })).toBe(true);
    expect(needsSync('download', at(10.2), at(10.7), { exactTimestamps: true })).toBe(false);
    expect(needsSync('download', at(10), at(20), { sizeOnly: true })).toBe(false);
  });
});

describe('humanSize', () => {
  it('prints what aws s3 ls --human-readable prints', () => {
    // Computed with the AWS CLI's human_readable_size.
    const table: Array<[number, string]> = [
      [0, '0 Bytes'],
      [1, '1 Byte'],
      [2, '2 Bytes'],
      [1023, '1023 Bytes'],
      [1024, '1.0 KiB'],
      [1280, '1.2 KiB'],
      [1331, '1.3 KiB'],
      [1536, '1.5 KiB'],
      [1048575, '1.0 MiB'],
      [1048576, '1.0 MiB'],
      [1048064, '1.0 MiB'],
      [1047552, '1023.0 KiB'],
      [5368709120, '5.0 GiB'],
      [123456789, '117.7 MiB'],
      [1125899906842624, '1.0 PiB'],
      [3458764513820540928, '3.0 EiB'],
      [1073217536, '1.0 GiB'],
      [1047961, '1023.4 KiB'],
      [1075, '1.0 KiB'],
      [1177, '1.1 KiB'],
      [2304, '2.2 KiB'],
    ];
    for (const [bytes, text] of table) expect(humanSize(bytes), String(bytes)).toBe(text);
  });
});

describe('spellSse', () => {
  it('takes the next argument as the value unless it is a flag, else AES256', () => {
    expect(spellSse(['cp', 'a', 's3://b/a', '--sse'])).toEqual(['cp', 'a', 's3://b/a', '--sse=AES256']);
    expect(spellSse(['--sse', '--acl', 'private'])).toEqual(['--sse=AES256', '--acl', 'private']);
    expect(spellSse(['--sse', 'aws:kms', 'x'])).toEqual(['--sse=aws:kms', 'x']);
    expect(spellSse(['--sse=aws:kms'])).toEqual(['--sse=aws:kms']);
  });
});

describe('localFiles', () => {
  it('follows links to files and folders, skips loops and dangling links, and leaves links out when told', async () => {
    const folder = await tempFolder();
    try {
      const root = join(folder.path, 'root');
      const outside = join(folder.path, 'outside');
      await mkdir(join(root, 'sub'), { recursive: true });
      await mkdir(join(outside, 'far'), { recursive: true });
      await writeFile(join(root, 'sub', 'a'), 'aa');
      await writeFile(join(outside, 'far', 'b'), 'bbb');
      await symlink(join(outside, 'far'), join(root, 'far-link'));
      await symlink(join(outside, 'far', 'b'), join(root, 'b-link'));
      await symlink(root, join(root, 'sub', 'up'));
      await symlink(join(root, 'gone'), join(root, 'dangling'));
      const walk = async (followSymlinks?: boolean) => {
        const skipped: string[] = [];
        const files: string[] = [];
        const options = {
          ...(followSymlinks === undefined ? {} : { followSymlinks }),
          onSkip: (skip: { relativePath: string; reason: string }) => void skipped.push(`${skip.relativePath}: ${skip.reason}`),
        };
        for await (const file of localFiles(root, options)) files.push(`${file.relativePath} ${file.size}`);
        return { files: files.sort(), skipped: skipped.sort() };
      };
      expect(await walk()).toEqual({
        files: ['b-link 3', 'far-link/b 3', 'sub/a 2'],
        skipped: ['dangling: the link points to nothing', 'sub/up: the link leads back to a folder that holds it'],
      });
      expect(await walk(false)).toEqual({ files: ['sub/a 2'], skipped: [] });
    } finally {
      await folder.remove();
    }
  });
});
