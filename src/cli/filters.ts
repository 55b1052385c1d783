/**
 * `--exclude` and `--include`, with the AWS CLI's semantics: every file starts included, each
 * flag in the order typed is tried against the path relative to the source folder or prefix, and
 * the last one that matches decides. Patterns are Unix shell patterns as Python's fnmatch reads
 * them (`*` crosses `/`, `[!a]` negates, nothing else is special), matched by picomatch.
 */
import picomatch from 'picomatch';
import { UsageError } from './options.js';

export const FILTER_FLAGS = {
  exclude: { type: 'string', multiple: true },
  include: { type: 'string', multiple: true },
} as const;

export const FILTER_HELP = `  --exclude PATTERN    leave out paths matching PATTERN (relative to SRC; * crosses /), repeatable
  --include PATTERN    put back paths matching PATTERN; with --exclude, the last match wins`;

export interface FilterRule {
  include: boolean;
  pattern: string;
}

/** A token of node:util's parseArgs, as much of it as the rules need. */
interface Token {
  kind: string;
  name?: string;
  value?: string | undefined;
}

/** The --exclude and --include flags in the order they were typed. */
export function filterRules(tokens: readonly Token[]): FilterRule[] {
  const rules: FilterRule[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option' || (token.name !== 'exclude' && token.name !== 'include')) continue;
    if (token.value === undefined || token.value === '') throw new UsageError(`--${token.name} needs a pattern`);
    rules.push({ include: token.name === 'include', pattern: token.value });
  }
  return rules;
}

/**
 * A pattern as picomatch must read it to agree with fnmatch: `[!` is its `[^`, and parentheses,
 * which picomatch takes as groups, are literal characters (as brackets they match only themselves).
 * With `bash`, `*` crosses `/` as in fnmatch; braces, extglobs and a leading `!` are switched off
 * because fnmatch has none of them. Two differences remain, said in the README: `?` and a bracket
 * do not match `/`, and `a/**\/c` also matches `a/c`.
 */
function matcher(pattern: string): (path: string) => boolean {
  const translated = pattern.replace(/\[!/g, '[^').replace(/[()]/g, '[$&]');
  return picomatch(translated, { bash: true, dot: true, nobrace: true, noextglob: true, nonegate: true, windows: false });
}

/** Whether a relative path (with `/` separators) is transferred under the rules; null when there are none. */
export function pathFilter(rules: readonly FilterRule[]): ((relativePath: string) => boolean) | null {
  if (rules.length === 0) return null;
  const compiled = rules.map((rule) => ({ include: rule.include, matches: matcher(rule.pattern) }));
  return (relativePath) => {
    let included = true;
    for (const rule of compiled) if (rule.matches(relativePath)) included = rule.include;
    return included;
  };
}

/** A key's path relative to the prefix it was listed under, as the filters see it. */
export function relativeKey(prefix: string, key: string): string {
  return key.slice(prefix.length).replace(/^\//, '');
}
