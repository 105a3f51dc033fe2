import { formatTimeNs } from '@influx-backup/config';
import {
  JOB_STATES,
  parseFieldId,
  type CheckpointInfo,
  type ChunkJob,
  type FieldPlanMeta,
  type FieldVerification,
  type JobLike,
} from '@influx-backup/queue';
import type { Runtime } from './connections.js';
import { fieldComparator, sourceLag, sourceOfField, type FieldIdentity, type SourceLag, type SourceNewest } from './sources.js';

/** One field of one retention policy, as the dashboard's fields page shows it. */
export interface FieldRow extends FieldIdentity, SourceLag {
  checkpoint: string | null;
  /** Seconds from the checkpoint to now: the checkpoint's age (a field the source writes rarely is old, not behind). */
  lagSeconds: number | null;
  /** When a chunk last moved the checkpoint. */
  lastSuccessAt: string | null;
  active: number;
  /** Waiting (or delayed) chunks among the first `FieldsReport.sampled` in the queue. */
  waiting: number;
  lastFailure: { at: string | null; start: string; end: string; reason: string } | null;
  /** The field's last check by a repair pass (its `at`: when it was last verified); null: never checked. */
  lastCheck: FieldVerification | null;
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

/** A failed job as the fields page reads it: what it copied, when it failed and why. */
export interface FailedChunk {
  readonly chunk: { readonly fields: readonly Pick<FieldPlanMeta, 'fieldId'>[]; readonly startNs: bigint; readonly endNs: bigint };
  readonly finishedOn?: number | undefined;
  readonly reason: string;
}

/** What the fields page is made of, once read. */
export interface FieldsInput {
  readonly checkpoints: readonly CheckpointInfo[];
  /** The fields of each active job, and of each waiting job sampled. */
  readonly active: readonly (readonly Pick<FieldPlanMeta, 'fieldId'>[])[];
  readonly waiting: readonly (readonly Pick<FieldPlanMeta, 'fieldId'>[])[];
  readonly failed: readonly FailedChunk[];
  /** Each field's last check by a repair pass, by field id. */
  readonly verifications?: ReadonlyMap<string, FieldVerification>;
  /** The configured source a field's server and database belong to, if any. */
  readonly owner: (endpoint: string, database: string) => { readonly name: string } | undefined;
  /** The configured sources' names, in the configuration's order (the order of the rows: fieldComparator). */
  readonly sourceNames?: readonly string[];
  /** Per field id, the source's newest value as the last plan found it (CheckpointStore.sourceNewest). */
  readonly sourceNewest?: ReadonlyMap<string, SourceNewest>;
  readonly now: number;
}

/**
 * The rows of the fields page: one per field that has a checkpoint or a chunk in
 * the queue, with its lag behind `now`, its chunks active and waiting, and its newest
 * failure (a group that failed for good was split, so its first field's own jobs carry
 * their failures), in the one order of fields (fieldComparator: source, database, policy, measurement, field).
 */
export function fieldRows(input: FieldsInput): FieldRow[] {
  const rows = new Map<string, FieldRow>();
  const row = (fieldId: string): FieldRow => {
    let r = rows.get(fieldId);
    if (!r) {
      const { source, database, measurement, field, retentionPolicy } = parseFieldId(fieldId);
      r = {
        sourceName: input.owner(source, database)?.name ?? null,
        source,
        database,
        retentionPolicy: retentionPolicy ?? null,
        measurement,
        field,
        checkpoint: null,
        lagSeconds: null,
        ...sourceLag(undefined, input.sourceNewest?.get(fieldId)),
        lastSuccessAt: null,
        active: 0,
        waiting: 0,
        lastFailure: null,
        lastCheck: null,
      };
      rows.set(fieldId, r);
    }
    return r;
  };
  for (const c of input.checkpoints) {
    const r = row(c.fieldId);
    r.checkpoint = formatTimeNs(c.timeNs);
    r.lagSeconds = Math.max(0, Math.round(input.now / 1000 - Number(c.timeNs / 1_000_000n) / 1000));
    Object.assign(r, sourceLag(c.timeNs, input.sourceNewest?.get(c.fieldId)));
    r.lastSuccessAt = c.updatedAt ?? null;
  }
  for (const [fid, v] of input.verifications ?? []) row(fid).lastCheck = v;
  for (const fields of input.active) for (const f of fields) row(f.fieldId).active++;
  for (const fields of input.waiting) for (const f of fields) row(f.fieldId).waiting++;
  // Newest first: the first failure seen of a field is its last.
  for (const f of [...input.failed].sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0))) {
    const first = f.chunk.fields[0];
    if (!first) continue;
    const r = row(first.fieldId);
    if (r.lastFailure) continue;
    r.lastFailure = {
      at: f.finishedOn ? new Date(f.finishedOn).toISOString() : null,
      start: formatTimeNs(f.chunk.startNs),
      end: formatTimeNs(f.chunk.endNs),
      reason: f.reason,
    };
  }
  return [...rows.values()].sort(fieldComparator(input.sourceNames ?? []));
}

/**
 * Per policy, measurement and field: the checkpoint and its lag, when a chunk last
 * moved it, the chunks active and waiting, the newest failure with the server's
 * reason, and the last check by a repair pass. Reads a bounded number of jobs, whatever the queue holds.
 */
export async function collectFields(rt: Runtime, now = Date.now()): Promise<FieldsReport> {
  const q = rt.copyQueue;
  const [checkpoints, newest, active, waiting, failed, counts, verifications] = await Promise.all([
    rt.store.checkpoints.list(),
    rt.store.checkpoints.sourceNewest(),
    q.getJobs(['active'], 0, 999),
    q.getJobs([...JOB_STATES.queued], 0, WAITING_SAMPLE - 1),
    q.getJobs(['failed'], 0, FAILED_SAMPLE - 1),
    q.getJobCounts(...JOB_STATES.queued),
    rt.store.verifications.list(),
  ]);
  /** What a job copies; undefined for a restore's (the page shows the backup's fields) or a job not ours. */
  const chunkOf = async (job: JobLike): Promise<ChunkJob | undefined> => {
    const chunk = await rt.describer.describe(job).catch(() => undefined);
    return chunk?.run.kind === 'restore' ? undefined : chunk;
  };
  const fieldsOf = async (jobs: readonly JobLike[]): Promise<(readonly FieldPlanMeta[])[]> =>
    Promise.all(jobs.map(async (j) => (await chunkOf(j))?.fields ?? []));
  const failures = await Promise.all(
    failed.filter(Boolean).map(async (j) => {
      const chunk = await chunkOf(j);
      return chunk ? [{ chunk, finishedOn: j.finishedOn, reason: j.failedReason }] : [];
    }),
  );
  return {
    fields: fieldRows({
      checkpoints,
      active: await fieldsOf(active),
      waiting: await fieldsOf(waiting),
      failed: failures.flat(),
      verifications,
      owner: sourceOfField(rt),
      sourceNames: rt.sources.map((s) => s.name),
      sourceNewest: newest,
      now,
    }),
    waitingTotal: JOB_STATES.queued.reduce((n, state) => n + (counts[state] ?? 0), 0),
    sampled: Math.min(WAITING_SAMPLE, waiting.length),
  };
}
