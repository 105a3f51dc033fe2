import { formatTimeNs } from '@influx-backup/config';
import type { Job } from 'bullmq';
import {
  chunkRange,
  jobFields,
  parseChunkJobId,
  type CopyChunkPayload,
  type Totals,
  type TotalsBySource,
  type WorkerSeen,
} from '@influx-backup/queue';
import { sampleRun, sampleRuns, type MetricsBlock } from './run-metrics.js';
import { newestRunBySource, sourceOfField, storedSourceName, type FieldIdentity, type Runtime, type SourceRuntime } from './runtime.js';

export interface StatusReport {
  redis: string;
  queues: { copy: Record<string, number>; schedule: Record<string, number> };
  /** The sources shown (all, or those --source selected): where each is read from and written to. */
  sources: { name: string; server: string; database: string; backupDatabase: string; checkpoints: number }[];
  checkpoints: (FieldIdentity & {
    checkpoint: string;
    checkpointNs: string;
    updatedAt: string | null;
    /** When a chunk of the field was last copied (whether or not it moved the checkpoint). */
    lastSuccessAt: string | null;
  })[];
  /** Since the first run: values copied, chunks done and failed for good (once each), attempts retried; the installation's, whatever --source. */
  totals: Totals;
  /**
   * The same by source (see sourceTotals): each source shown, then (all shown)
   * sources no longer configured, and `source: ""` for what was counted before
   * totals were kept per source.
   */
  totalsBySource: (Totals & { source: string })[];
  /** Long-running `worker` processes. */
  workers: WorkerSeen[];
  /** `run` processes (they copy their own run, then exit): not workers. */
  runs: WorkerSeen[];
  schedules: { id: string; pattern: string | null; tz: string | null; next: string | null }[];
  /** The newest chunks that failed for good, with the server's reason. */
  failures: {
    jobId: string;
    kind: string;
    source: string | null;
    measurement: string;
    field: string;
    start: string;
    end: string;
    reason: string;
    at: string | null;
  }[];
  lastRun: unknown;
  /** The last restore, kept apart so that lastRun stays the backup's. */
  lastRestore: unknown;
  /** The seed's metrics block, of the run in progress or the last one (of whichever source). */
  metrics: MetricsBlock;
  /**
   * The block of each source shown, of that source's newest run (`run` null: none
   * yet). Its memory_usage_mb, active_workers and queue_size are the
   * installation's, as in `metrics`: the workers and the queue serve every source.
   */
  metricsBySource: Record<string, MetricsBlock>;
}

/**
 * What `status` prints and the dashboard's /api/status serves; with `sources`
 * (--source), only their checkpoints, failures and part of the last run (the
 * queues are shared by all sources and shown whole).
 */
export async function collectStatus(
  rt: Runtime,
  { sources = rt.sources }: { sources?: readonly SourceRuntime[] } = {},
): Promise<StatusReport> {
  const owner = sourceOfField(rt);
  const shown = new Set(sources.map((s) => s.name));
  const all = sources.length === rt.sources.length;
  const [copy, schedule, checkpoints, workers, lastRun, lastRestore, schedulers, failed, sample, totals, successes, newest] =
    await Promise.all([
      rt.copyQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'paused'),
      rt.scheduleQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'paused'),
      rt.store.checkpoints(),
      rt.store.workers(),
      rt.store.lastRun(),
      rt.store.lastRun('restore'),
      rt.scheduleQueue.getJobSchedulers(0, -1).catch(() => []),
      rt.copyQueue.getJobs(['failed'], 0, 9, false) as Promise<Job<CopyChunkPayload>[]>,
      sampleRun(rt.store, rt.copyQueue),
      rt.store.totals(),
      rt.store.lastSuccesses(),
      newestRunBySource(rt),
    ]);
  const bySource = await sampleRuns(
    rt.store,
    rt.copyQueue,
    sources.map((s) => newest.get(s.name) ?? null),
  );
  const byName = sourceTotals(rt, totals);
  const rows = checkpoints
    .map((c) => ({ c, name: owner(c.source, c.database)?.name ?? null }))
    .filter(({ name }) => all || (name !== null && shown.has(name)));
  // In the order of the configuration's sources (stable: each source's rows stay in the store's order).
  const rank = (name: string | null): number => (name === null ? rt.sources.length : rt.sources.findIndex((s) => s.name === name));
  rows.sort((a, b) => rank(a.name) - rank(b.name));
  return {
    redis: rt.redisEndpoint,
    queues: { copy, schedule },
    sources: sources.map((s) => ({
      name: s.name,
      server: s.client.endpoint,
      database: s.config.database,
      backupDatabase: s.config.backupDatabase,
      checkpoints: rows.filter((r) => r.name === s.name).length,
    })),
    checkpoints: rows.map(({ c, name }) => ({
      sourceName: name,
      source: c.source,
      database: c.database,
      retentionPolicy: c.retentionPolicy ?? null,
      measurement: c.measurement,
      field: c.field,
      checkpoint: formatTimeNs(c.timeNs),
      checkpointNs: c.timeNs.toString(),
      updatedAt: c.updatedAt ?? null,
      lastSuccessAt: iso(successes.get(c.fieldId)),
    })),
    totals: addTotals(...byName),
    totalsBySource: byName.filter((t) => all || shown.has(t.source)),
    workers: workers.filter((w) => w.role !== 'run'),
    runs: workers.filter((w) => w.role === 'run'),
    schedules: schedulers.map((s) => ({
      id: s.key,
      pattern: s.pattern ?? null,
      tz: s.tz ?? null,
      next: s.next ? new Date(s.next).toISOString() : null,
    })),
    failures: (
      await Promise.all(
        failed
          .filter((j): j is Job<CopyChunkPayload> => Boolean(j))
          .map(async (j) => {
            // Names live once per run in Redis, not in every job.
            const id = parseChunkJobId(j.id ?? '');
            const plans = id ? await Promise.all(jobFields(j.data).map((f) => rt.store.runPlan(id.run, f.k).catch(() => undefined))) : [];
            const plan = plans[0];
            const range = plan ? chunkRange(j.data) : undefined;
            return {
              jobId: j.id ?? '',
              kind: j.name,
              source: plan ? (plan.run.source ?? rt.sources.find((s) => !s.config.listed)?.name ?? null) : null,
              measurement: plan?.field.measurement ?? '?',
              // A group job (processing.fields_per_job) names every field it holds.
              field: plan ? plans.map((p) => p?.field.field ?? '?').join(', ') : '?',
              start: range ? formatTimeNs(range.startNs) : '?',
              end: range ? formatTimeNs(range.endNs) : '?',
              reason: j.failedReason,
              at: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
            };
          }),
      )
    ).filter((f) => all || (f.source !== null && shown.has(f.source))),
    lastRun: await liveLastRun(rt, lastRun, all ? undefined : shown),
    lastRestore: await liveLastRun(rt, lastRestore, all ? undefined : shown),
    metrics: sample.block,
    metricsBySource: Object.fromEntries(sources.map((s, i) => [s.name, bySource[i]!.block])),
  };
}

/**
 * The totals under the names /metrics labels them with: each configured source
 * (zeros before its first chunk, so its counters exist from the start), then any
 * other source its runs named (one since left out of the configuration), and ""
 * for what a version counting one total for the installation counted (and what
 * the single databases.source counted, should the configuration now list its
 * sources instead).
 */
function sourceTotals(rt: Runtime, totals: TotalsBySource): (Totals & { source: string })[] {
  const out = new Map<string, Totals>(rt.sources.map((s) => [s.name, addTotals()]));
  const add = (name: string, t: Totals): void => void out.set(name, addTotals(out.get(name), t));
  const byStored = new Map(rt.sources.map((s) => [storedSourceName(s), s.name]));
  for (const [stored, t] of totals.bySource) add(byStored.get(stored) ?? stored, t);
  if (totals.before) add('', totals.before);
  return [...out].map(([source, t]) => ({ source, ...t }));
}

function addTotals(...list: (Totals | undefined)[]): Totals {
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

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/**
 * The last run as recorded; while it is still going (it names its run key, or
 * each source's part names its own), with the counters the workers keep in
 * Redis: one read per source, whatever the run's size. `shown`: only these
 * sources' parts (--source).
 */
async function liveLastRun(rt: Runtime, recorded: unknown, shown?: ReadonlySet<string>): Promise<unknown> {
  if (!recorded || typeof recorded !== 'object') return recorded ?? null;
  const { sources: parts, ...pass } = recorded as { sources?: Record<string, unknown>[] };
  if (!Array.isArray(parts)) return live(rt, recorded as Record<string, unknown>);
  const mine = await Promise.all(parts.filter((p) => !shown || shown.has(String(p.source))).map((p) => live(rt, p)));
  const sum = (k: string): number => mine.reduce((n, p) => n + (typeof p[k] === 'number' ? p[k] : 0), 0);
  const inProgress = mine.some((p) => p.inProgress === true);
  const failures = (pass as { failures?: { source?: string }[] }).failures?.filter((f) => !shown || shown.has(String(f.source)));
  return {
    ...pass,
    chunks: sum('chunks'),
    completed: sum('completed'),
    failed: sum('failed'),
    values: sum('values'),
    inProgress,
    ok: mine.every((p) => p.ok !== false),
    failures,
    sources: mine,
  };
}

async function live(rt: Runtime, recorded: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (typeof recorded.run !== 'string') return recorded;
  const c = await rt.store.runCounters(recorded.run).catch(() => undefined);
  if (!c?.exists) return recorded;
  return {
    ...recorded,
    chunks: c.total,
    completed: c.done,
    failed: c.failed,
    values: c.values,
    inProgress: !(c.planned && c.done + c.failed >= c.total),
  };
}
