import { formatTimeNs } from '@influx-backup/config';
import type { Job } from 'bullmq';
import { chunkRange, jobFields, parseChunkJobId, type CopyChunkPayload, type Totals, type WorkerSeen } from '@influx-backup/queue';
import { sampleRun, type MetricsBlock } from './run-metrics.js';
import type { Runtime } from './runtime.js';

export interface StatusReport {
  redis: string;
  queues: { copy: Record<string, number>; schedule: Record<string, number> };
  checkpoints: {
    source: string;
    database: string;
    /** null: saved by an older version, before policies were copied one by one; the default policy's. */
    retentionPolicy: string | null;
    measurement: string;
    field: string;
    checkpoint: string;
    checkpointNs: string;
    updatedAt: string | null;
    /** When a chunk of the field was last copied (whether or not it moved the checkpoint). */
    lastSuccessAt: string | null;
  }[];
  /** Since the first run: values copied, chunks done and failed for good (once each), attempts retried. */
  totals: Totals;
  /** Long-running `worker` processes. */
  workers: WorkerSeen[];
  /** `run` processes (they copy their own run, then exit): not workers. */
  runs: WorkerSeen[];
  schedules: { id: string; pattern: string | null; tz: string | null; next: string | null }[];
  /** The newest chunks that failed for good, with the server's reason. */
  failures: { jobId: string; kind: string; measurement: string; field: string; start: string; end: string; reason: string; at: string | null }[];
  lastRun: unknown;
  /** The last restore, kept apart so that lastRun stays the backup's. */
  lastRestore: unknown;
  /** The seed's metrics block, of the run in progress or the last one. */
  metrics: MetricsBlock;
}

/** What `status` prints and the dashboard's /api/status serves. */
export async function collectStatus(rt: Runtime): Promise<StatusReport> {
  const [copy, schedule, checkpoints, workers, lastRun, lastRestore, schedulers, failed, sample, totals, successes] = await Promise.all([
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
  ]);
  return {
    redis: rt.redisEndpoint,
    queues: { copy, schedule },
    checkpoints: checkpoints.map((c) => ({
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
    totals,
    workers: workers.filter((w) => w.role !== 'run'),
    runs: workers.filter((w) => w.role === 'run'),
    schedules: schedulers.map((s) => ({
      id: s.key,
      pattern: s.pattern ?? null,
      tz: s.tz ?? null,
      next: s.next ? new Date(s.next).toISOString() : null,
    })),
    failures: await Promise.all(
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
            measurement: plan?.field.measurement ?? '?',
            // A group job (processing.fields_per_job) names every field it holds.
            field: plan ? plans.map((p) => p?.field.field ?? '?').join(', ') : '?',
            start: range ? formatTimeNs(range.startNs) : '?',
            end: range ? formatTimeNs(range.endNs) : '?',
            reason: j.failedReason,
            at: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
          };
        }),
    ),
    lastRun: await liveLastRun(rt, lastRun),
    lastRestore: await liveLastRun(rt, lastRestore),
    metrics: sample.block,
  };
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/**
 * The last run as recorded; while it is still going (it names its run key), with
 * the counters the workers keep in Redis: one read, whatever the run's size.
 */
async function liveLastRun(rt: Runtime, recorded: unknown): Promise<unknown> {
  if (!recorded || typeof recorded !== 'object' || typeof (recorded as { run?: unknown }).run !== 'string') return recorded ?? null;
  const c = await rt.store.runCounters((recorded as { run: string }).run).catch(() => undefined);
  if (!c?.exists) return recorded;
  return { ...recorded, chunks: c.total, completed: c.done, failed: c.failed, values: c.values, inProgress: !(c.planned && c.done + c.failed >= c.total) };
}
