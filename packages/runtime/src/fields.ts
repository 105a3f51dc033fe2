import type { Job } from 'bullmq';
import { formatTimeNs } from '@influx-backup/config';
import { chunkRange, parseChunkJobId, type CopyChunkPayload, type FieldPlanMeta } from '@influx-backup/queue';
import { sourceOfField, type FieldIdentity, type Runtime } from './runtime.js';

/** One field of one retention policy, as the dashboard's fields page shows it. */
export interface FieldRow extends FieldIdentity {
  checkpoint: string | null;
  /** Seconds from the checkpoint to now. */
  lagSeconds: number | null;
  /** When a chunk last moved the checkpoint. */
  lastSuccessAt: string | null;
  active: number;
  /** Waiting (or delayed) chunks among the first `FieldsReport.sampled` in the queue. */
  waiting: number;
  lastFailure: { at: string | null; start: string; end: string; reason: string } | null;
}

export interface FieldsReport {
  fields: FieldRow[];
  /** Waiting chunks in the whole queue; `waiting` per field counts among the first `sampled` of them. */
  waitingTotal: number;
  sampled: number;
}

/** Waiting jobs read per report: the page costs the same with a million queued. */
const WAITING_SAMPLE = 2_000;
const FAILED_SAMPLE = 200;

/**
 * Per policy, measurement and field: the checkpoint and its lag, when a chunk last
 * moved it, the chunks active and waiting, and the newest failure with the server's
 * reason. Reads a bounded number of jobs, whatever the queue holds.
 */
export async function collectFields(rt: Runtime, now = Date.now()): Promise<FieldsReport> {
  const q = rt.copyQueue;
  const [checkpoints, active, waiting, failed, counts] = await Promise.all([
    rt.store.checkpoints(),
    q.getJobs(['active'], 0, 999) as Promise<Job<CopyChunkPayload>[]>,
    q.getJobs(['waiting', 'prioritized', 'delayed'], 0, WAITING_SAMPLE - 1) as Promise<Job<CopyChunkPayload>[]>,
    q.getJobs(['failed'], 0, FAILED_SAMPLE - 1) as Promise<Job<CopyChunkPayload>[]>,
    q.getJobCounts('waiting', 'prioritized', 'delayed'),
  ]);
  const rows = new Map<string, FieldRow>();
  const owner = sourceOfField(rt);
  const blank = (fieldId: string): FieldRow => {
    const [source = '?', database = '?', measurement = '?', field = '?', retentionPolicy] = JSON.parse(fieldId) as string[];
    return {
      sourceName: owner(source, database)?.name ?? null,
      source,
      database,
      retentionPolicy: retentionPolicy ?? null,
      measurement,
      field,
      checkpoint: null,
      lagSeconds: null,
      lastSuccessAt: null,
      active: 0,
      waiting: 0,
      lastFailure: null,
    };
  };
  const row = (fieldId: string): FieldRow => {
    let r = rows.get(fieldId);
    if (!r) rows.set(fieldId, (r = blank(fieldId)));
    return r;
  };
  for (const c of checkpoints) {
    const r = row(c.fieldId);
    r.checkpoint = formatTimeNs(c.timeNs);
    r.lagSeconds = Math.max(0, Math.round(now / 1000 - Number(c.timeNs / 1_000_000n) / 1000));
    r.lastSuccessAt = c.updatedAt ?? null;
  }

  // A job names its run and its field's position in it; the names live once per run.
  const plans = new Map<string, Promise<FieldPlanMeta | undefined>>();
  const fieldOf = (run: string, k: number): Promise<FieldPlanMeta | undefined> => {
    const key = `${run}.${k}`;
    let p = plans.get(key);
    // The page shows the backup's fields: a restore's chunks are not theirs.
    if (!p)
      plans.set(
        key,
        (p = rt.store.runPlan(run, k).then(
          (x) => (x?.run.kind === 'restore' ? undefined : x?.field),
          () => undefined,
        )),
      );
    return p;
  };
  /** Every field a job copies: its first (k) and, for a group job, the others (f holds k, i pairs). */
  const fieldsOf = async (job: Job<CopyChunkPayload> | undefined): Promise<FieldPlanMeta[]> => {
    const id = parseChunkJobId(job?.id ?? '');
    if (!job || !id || typeof job.data?.k !== 'number') return [];
    const ks = [job.data.k, ...(job.data.f ?? []).filter((_, n) => n % 2 === 0)];
    return (await Promise.all(ks.map((k) => fieldOf(id.run, k)))).filter((f): f is FieldPlanMeta => f !== undefined);
  };
  for (const job of active) for (const f of await fieldsOf(job)) row(f.fieldId).active++;
  for (const job of waiting) for (const f of await fieldsOf(job)) row(f.fieldId).waiting++;
  // Newest first: the first failure seen of a field is its last. A group that
  // failed for good was split, so its fields' own jobs carry their failures.
  const newest = [...failed].filter(Boolean).sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0));
  for (const job of newest) {
    const [f] = await fieldsOf(job);
    if (!f) continue;
    const r = row(f.fieldId);
    if (r.lastFailure) continue;
    const range = chunkRange(job.data);
    r.lastFailure = {
      at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      start: formatTimeNs(range.startNs),
      end: formatTimeNs(range.endNs),
      reason: job.failedReason,
    };
  }
  const order = (r: FieldRow): string => JSON.stringify([r.source, r.database, r.retentionPolicy ?? '', r.measurement, r.field]);
  return {
    fields: [...rows.values()].sort((a, b) => order(a).localeCompare(order(b))),
    waitingTotal: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
    sampled: Math.min(WAITING_SAMPLE, waiting.length),
  };
}
