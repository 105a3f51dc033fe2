// What every message about a value of the file is made of: the Issue it raises, a safe
// rendering of what was given, and the closest known name. The formats and the schema's
// nodes both use these; neither imports the other for them.

import { Issue, type PathSegment } from './environment.js';

export function invalid(reason: string, path: readonly PathSegment[] = []): Issue {
  return new Issue(path, reason);
}

/** Throws `invalid(reason)`; for formats written as one expression. */
export function fail(reason: string): never {
  throw invalid(reason);
}

/** A short, safe rendering of a (non-secret) value for messages. */
export function got(value: unknown): string {
  if (value === null || value === undefined) return 'got nothing';
  if (typeof value === 'string') return `got ${JSON.stringify(value.length > 48 ? `${value.slice(0, 48)}...` : value)}`;
  if (Array.isArray(value)) return 'got a list';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `got ${String(value)}`;
  return typeof value === 'object' ? 'got a mapping' : `got a ${typeof value}`;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** ` (did you mean "x"?)` when one of `names` is close enough to `name` to be what was meant; otherwise "". */
export function didYouMean(name: string, names: readonly string[]): string {
  const [best] = names.map((c) => ({ c, d: distance(name.toLowerCase(), c.toLowerCase()) })).sort((x, y) => x.d - y.d);
  return best !== undefined && best.d <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean ${JSON.stringify(best.c)}?)` : '';
}
