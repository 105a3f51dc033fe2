import { formatTimeNs } from '@influx-backup/config';
import { sampleRun, sampleRuns, type MetricsBlock } from '@influx-backup/monitoring';
import {
  JOB_STATES,
  parseFieldId,
  type FieldVerification,
  type FiringAlert,
  type PassRecord,
  type RepairTotals,
  type RunCounters,
  type Totals,
  type WorkerSeen,
} from '@influx-backup/queue';
import { addTotals, passRuns, passWithCounters, sourceRepairTotals, sourceTotals } from './status-shape.js';
import type { Runtime, SourceRuntime } from './connections.js';
import {
  fieldComparator,
  newestRunBySource,
  sourceLag,
  sourceOfField,
  storedSourceName,
  type FieldIdentity,
  type SourceLag,
} from './sources.js';

export interface StatusReport {
  redis: string;
  queues: { copy: Record<string, number>; schedule: Record<string, number> };
  /** The sources shown (all, or those --source selected): where each is read from and written to. */
  sources: { name: string; server: string; database: string; backupDatabase: string; checkpoints: number }[];
  checkpoints: (FieldIdentity &
    SourceLag & {
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
  /**
   * Each field's last check by a repair pass (verify --repair, a scheduled check): when,
   * what it compared and found, what it copied again, and (when it followed the copies)
   * what was still missing after; in the order of the checkpoints.
   */
  verifications: (FieldIdentity & FieldVerification)[];
  /** Repair passes since the first, by source as totalsBySource: chunks compared, found different, values repaired. */
  repairTotalsBySource: (RepairTotals & { source: string })[];
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
  /** The last backup pass, with live counters while it goes on; null before the first. */
  lastRun: PassRecord | null;
  /** The last restore, kept apart so that lastRun stays the backup's. */
  lastRestore: PassRecord | null;
  /** The metrics block of the original design, of the run in progress or the last one (of whichever source). */
  metrics: MetricsBlock;
  /**
   * The block of each source shown, of that source's newest run (`run` null: none
   * yet). Its memory_usage_mb, active_workers and queue_size are the
   * installation's, as in `metrics`: the workers and the queue serve every source.
   */
  metricsBySource: Record<string, MetricsBlock>;
  /** The cluster-wide alerts firing now, oldest first (a process's own, memory_usage, are that process's). */
  alerts: FiringAlertRow[];
}

/** An alert firing now: since when, the run that crossed its rule last, and when it was last sent. */
export interface FiringAlertRow {
  alert: string;
  /** The configured source's name (the single databases.source's too). */
  source: string;
  /** The runs' kind: copy (run, plan, scheduled), restore, ... */
  kind: string;
  run: string;
  since: string;
  lastSent: string;
  metric: string;
  operator: string;
  threshold: number;
  value: number;
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
  const [
    copy,
    schedule,
    checkpoints,
    workers,
    lastRun,
    lastRestore,
    schedulers,
    failed,
    sample,
    totals,
    successes,
    newest,
    firing,
    checks,
    sourceNewest,
  ] = await Promise.all([
    rt.copyQueue.getJobCounts(...JOB_STATES.all),
    rt.scheduleQueue.getJobCounts(...JOB_STATES.all),
    rt.store.checkpoints.list(),
    rt.store.workers.list(),
    rt.store.lastRuns.get(),
    rt.store.lastRuns.get('restore'),
    rt.scheduleQueue.getJobSchedulers(0, -1).catch(() => []),
    rt.copyQueue.getJobs(['failed'], 0, 9, false),
    sampleRun(runSources(rt)),
    rt.store.runs.totals(),
    rt.store.checkpoints.lastSuccesses(),
    newestRunBySource(rt),
    rt.store.alerts.firing(),
    rt.store.verifications.list(),
    rt.store.checkpoints.sourceNewest(),
  ]);
  const bySource = await sampleRuns(
    runSources(rt),
    sources.map((s) => newest.get(s.name) ?? null),
  );
  const named = rt.sources.map((s) => ({ name: s.name, stored: storedSourceName(s) }));
  const byName = sourceTotals(named, totals);
  const rows = checkpoints
    .map((c) => ({ c, name: owner(c.source, c.database)?.name ?? null }))
    .filter(({ name }) => all || (name !== null && shown.has(name)));
  // The one order of fields (fieldComparator): status, verify and the fields page list them alike.
  const order = fieldComparator(rt.sources.map((s) => s.name));
  rows.sort((a, b) => order({ ...a.c, sourceName: a.name }, { ...b.c, sourceName: b.name }));
  const verified = [...checks]
    .map(([fid, v]) => {
      const id = parseFieldId(fid);
      return toRow(v, id, owner(id.source, id.database)?.name ?? null);
    })
    .filter((r) => all || (r.sourceName !== null && shown.has(r.sourceName)))
    .sort(order);
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
      ...sourceLag(c.timeNs, sourceNewest.get(c.fieldId)),
    })),
    totals: addTotals(...byName),
    totalsBySource: byName.filter((t) => all || shown.has(t.source)),
    verifications: verified,
    repairTotalsBySource: sourceRepairTotals(named, totals.repairs).filter((t) => all || shown.has(t.source)),
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
          .filter((j) => Boolean(j))
          .map(async (j) => {
            // Names live once per run in Redis, not in every job.
            const chunk = await rt.describer.describe(j).catch(() => undefined);
            return {
              jobId: j.id ?? '',
              kind: j.name,
              source: chunk ? (chunk.run.source ?? rt.sources.find((s) => !s.config.listed)?.name ?? null) : null,
              measurement: chunk?.fields[0]?.measurement ?? '?',
              // A group job (processing.fields_per_job) names every field it holds.
              field: chunk ? chunk.fields.map((f) => f.field).join(', ') : '?',
              start: chunk ? formatTimeNs(chunk.startNs) : '?',
              end: chunk ? formatTimeNs(chunk.endNs) : '?',
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
    alerts: alertRows(rt, firing).filter((a) => all || shown.has(a.source)),
  };
}

function alertRows(rt: Runtime, firing: readonly FiringAlert[]): FiringAlertRow[] {
  const named = new Map(rt.sources.map((s) => [storedSourceName(s), s.name]));
  return [...firing]
    .sort((a, b) => a.since - b.since)
    .map((a) => ({
      alert: a.alert,
      source: named.get(a.source) ?? a.source,
      kind: a.kind,
      run: a.run,
      since: new Date(a.since).toISOString(),
      lastSent: new Date(a.sentAt).toISOString(),
      metric: a.metric,
      operator: a.operator,
      threshold: a.threshold,
      value: a.value,
    }));
}

function toRow(v: FieldVerification, id: ReturnType<typeof parseFieldId>, name: string | null): FieldIdentity & FieldVerification {
  return {
    sourceName: name,
    source: id.source,
    database: id.database,
    retentionPolicy: id.retentionPolicy ?? null,
    measurement: id.measurement,
    field: id.field,
    ...v,
  };
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** What a run's metrics block is read from. */
function runSources(rt: Runtime): Parameters<typeof sampleRun>[0] {
  return { runs: rt.store.runs, workers: rt.store.workers, queue: rt.copyQueue };
}

/**
 * The last pass as recorded, with the counters the workers keep in Redis while it goes
 * on: one read per source, whatever the run's size (see passWithCounters).
 */
async function liveLastRun(
  rt: Pick<Runtime, 'store'>,
  recorded: PassRecord | undefined,
  shown?: ReadonlySet<string>,
): Promise<PassRecord | null> {
  if (!recorded) return null;
  const counters = new Map<string, RunCounters>();
  await Promise.all(
    passRuns(recorded).map(async (run) => {
      const c = await rt.store.runs.counters(run).catch(() => undefined);
      if (c) counters.set(run, c);
    }),
  );
  return passWithCounters(recorded, counters, shown);
}
