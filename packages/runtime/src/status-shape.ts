// What status shows, shaped from what was read: pure functions, so the rules are
// tested without servers (packages/runtime/test/status-shape.test.ts).
import {
  copyingSeconds,
  type PassPart,
  type PassRecord,
  type RepairTotals,
  type RunCounters,
  type Totals,
  type TotalsBySource,
} from '@influx-backup/queue';

/** A configured source by its name, and the name its runs and totals are kept under in Redis (storedSourceName). */
export interface NamedSource {
  readonly name: string;
  readonly stored: string;
}

/**
 * The totals under the names /metrics labels them with: each configured source
 * (zeros before its first chunk, so its counters exist from the start), then any
 * other source its runs named (one since left out of the configuration), and ""
 * for what a version counting one total for the installation counted (and what
 * the single databases.source counted, should the configuration now list its
 * sources instead).
 */
export function sourceTotals(sources: readonly NamedSource[], totals: TotalsBySource): (Totals & { source: string })[] {
  const out = new Map<string, Totals>(sources.map((s) => [s.name, addTotals()]));
  const add = (name: string, t: Totals): void => void out.set(name, addTotals(out.get(name), t));
  const byStored = new Map(sources.map((s) => [s.stored, s.name]));
  for (const [stored, t] of totals.bySource) add(byStored.get(stored) ?? stored, t);
  if (totals.before) add('', totals.before);
  return [...out].map(([source, t]) => ({ source, ...t }));
}

/** The repair totals under the names /metrics labels them with: each configured source (zeros before its first check), then any other. */
export function sourceRepairTotals(
  sources: readonly NamedSource[],
  repairs: TotalsBySource['repairs'],
): (RepairTotals & { source: string })[] {
  const out = new Map<string, RepairTotals>(sources.map((s) => [s.name, { compared: 0, different: 0, repaired: 0 }]));
  const byStored = new Map(sources.map((s) => [s.stored, s.name]));
  for (const [stored, r] of repairs) {
    const name = byStored.get(stored) ?? stored;
    const t = out.get(name) ?? { compared: 0, different: 0, repaired: 0 };
    out.set(name, { compared: t.compared + r.compared, different: t.different + r.different, repaired: t.repaired + r.repaired });
  }
  return [...out].map(([source, t]) => ({ source, ...t }));
}

export function addTotals(...list: (Totals | undefined)[]): Totals {
  const sum = { values: 0, done: 0, failed: 0, retried: 0 };
  for (const t of list) {
    if (!t) continue;
    sum.values += t.values;
    sum.done += t.done;
    sum.failed += t.failed;
    sum.retried += t.retried;
  }
  return sum;
}

/** The run keys whose counters passWithCounters reads: the record's own, or each part's. */
export function passRuns(recorded: PassRecord): string[] {
  return (recorded.sources ? recorded.sources.map((p) => p.run) : [recorded.run]).filter((r): r is string => r !== undefined);
}

/**
 * A pass as recorded, with its runs' counters (by run key; a run missing there kept
 * as recorded): while it goes on, the counts so far and inProgress; a pass recorded
 * before its runs ended (plan without --wait, a scheduled tick) ends, and is ok or
 * not, when its counters say so. `shown`: only these sources' parts (--source).
 */
export function passWithCounters(
  recorded: PassRecord,
  counters: ReadonlyMap<string, RunCounters>,
  shown?: ReadonlySet<string>,
  nowMs = Date.now(),
): PassRecord {
  // The time spent copying so far, or in all, from the runs' own stamps (the rule of every rate: copyingSeconds).
  const copying = (runs: readonly (string | undefined)[]): { copyingSeconds?: number } => {
    const cs = runs.map((r) => (r === undefined ? undefined : counters.get(r))).filter((c): c is RunCounters => c?.exists === true);
    const secs = cs.length > 0 ? copyingSeconds(cs, nowMs) : undefined;
    return secs === undefined ? {} : { copyingSeconds: secs };
  };
  if (!recorded.sources) {
    const now = liveOf(counters, recorded.run);
    if (!now) return recorded;
    const { endedAt, ...counts } = now;
    const finishedAt = recorded.finishedAt ?? endedAt;
    return { ...recorded, ...counts, ...copying([recorded.run]), finishedAt, ok: recorded.ok ?? (finishedAt ? counts.failed === 0 : null) };
  }
  const mine = recorded.sources
    .filter((p) => !shown || shown.has(p.source))
    .map((p): PassPart & { endedAt?: string | null } => {
      const now = liveOf(counters, p.run);
      return now ? { ...p, ...now, ok: p.error === undefined && now.failed === 0 } : p;
    });
  const sum = (k: 'chunks' | 'completed' | 'failed' | 'values'): number => mine.reduce((n, p) => n + p[k], 0);
  const inProgress = mine.some((p) => p.inProgress === true);
  const ends = mine.map((p) => p.endedAt).filter((t): t is string => typeof t === 'string');
  const finishedAt = recorded.finishedAt ?? (inProgress || ends.length === 0 ? null : ends.sort().at(-1)!);
  return {
    ...recorded,
    chunks: sum('chunks'),
    completed: sum('completed'),
    failed: sum('failed'),
    values: sum('values'),
    inProgress,
    finishedAt,
    ...copying(mine.map((p) => p.run)),
    ok: recorded.ok ?? (finishedAt ? mine.every((p) => p.ok) : null),
    failures: recorded.failures.filter((f) => !shown || (f.source !== undefined && shown.has(f.source))),
    sources: mine.map(({ endedAt: _, ...p }) => p),
  };
}

/** A run's counters as a pass shows them, and when it ended (null: not yet); undefined when its record is not there. */
function liveOf(
  counters: ReadonlyMap<string, RunCounters>,
  run: string | undefined,
): { chunks: number; completed: number; failed: number; values: number; inProgress: boolean; endedAt: string | null } | undefined {
  const c = run === undefined ? undefined : counters.get(run);
  if (!c?.exists) return undefined;
  const inProgress = !(c.planned && c.done + c.failed >= c.total);
  return {
    chunks: c.total,
    completed: c.done,
    failed: c.failed,
    values: c.values,
    inProgress,
    endedAt: inProgress || c.finishedAt === undefined ? null : new Date(c.finishedAt).toISOString(),
  };
}
