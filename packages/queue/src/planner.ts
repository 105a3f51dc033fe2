import type { Queue } from 'bullmq';
import {
  discoverFields,
  incrementalRange,
  planFieldChunks,
  type EngineLogger,
  type FieldTarget,
  type SourceReader,
} from '@influx-backup/core';
import { copyJobOptions, JOBS, type CopyChunkPayload, type RetryPolicy } from './catalog.js';
import { chunkJobId, fieldId, fieldPlanKey, type CopyKind } from './names.js';
import type { StateStore } from './state-store.js';

export interface MeasurementPlanConfig {
  name: string;
  fields?: readonly string[] | undefined;
  startNs: bigint;
  /** Absent: up to the time of planning. */
  endNs?: bigint | undefined;
}

export interface PlanSelection {
  kind: CopyKind;
  /** Only these measurements (default: all configured). */
  measurements?: readonly string[];
  /** Only these fields (default: configured, or every field). */
  fields?: readonly string[];
  startNs?: bigint;
  endNs?: bigint;
  /** Copy the whole configured range, ignoring checkpoints. */
  full?: boolean;
  runId: string;
}

export interface PlanContext {
  source: SourceReader;
  queue: Queue;
  store: StateStore;
  sourceDb: string;
  backupDb: string;
  measurements: readonly MeasurementPlanConfig[];
  chunkSizeNs: bigint;
  overlapNs: bigint;
  retry: RetryPolicy;
  logger: EngineLogger;
  now?: () => bigint;
}

export interface PlannedField {
  measurement: string;
  field: string;
  type: FieldTarget['type'];
  startNs: bigint;
  endNs: bigint;
  chunks: number;
  expected: number;
  /** Whether finishing these chunks may move the field's checkpoint. */
  advancesCheckpoint: boolean;
}

export interface PlanResult {
  runId: string;
  jobIds: string[];
  /** Jobs already waiting or running for the same chunk: not enqueued again. */
  reused: number;
  fields: PlannedField[];
  /** `measurement.field` named in the configuration but absent from the source. */
  missing: string[];
  expectedValues: number;
}

export class SelectionError extends Error {
  override readonly name = 'SelectionError';
}

const IN_FLIGHT = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * Plans a backup: for every selected field, its own range (from its own
 * checkpoint for incremental runs), the chunks of that range that hold data, and
 * one job per chunk. Job ids are deterministic, so a chunk already waiting or
 * running is not enqueued twice, by this planner or any other.
 */
export async function planBackup(ctx: PlanContext, sel: PlanSelection): Promise<PlanResult> {
  const now = (ctx.now ?? nowNs)();
  const known = new Set(ctx.measurements.map((m) => m.name));
  for (const name of sel.measurements ?? []) {
    if (!known.has(name) && sel.kind === 'copy') {
      throw new SelectionError(`--measurement ${JSON.stringify(name)} is not in backup.measurements`);
    }
  }
  let selected: MeasurementPlanConfig[] = ctx.measurements.filter((m) => !sel.measurements || sel.measurements.includes(m.name));
  if (sel.kind === 'backfill') {
    // A backfill may name a measurement the configuration does not list.
    for (const name of sel.measurements ?? []) {
      if (!known.has(name)) selected.push({ name, startNs: sel.startNs ?? 0n });
    }
    selected = selected.filter((m, i, all) => all.findIndex((x) => x.name === m.name) === i);
  }

  const result: PlanResult = { runId: sel.runId, jobIds: [], reused: 0, fields: [], missing: [], expectedValues: 0 };
  const jobs: { id: string; payload: CopyChunkPayload }[] = [];
  let matchedField = false;

  for (const m of selected) {
    let wanted: readonly string[] | undefined = m.fields;
    if (sel.fields) {
      // A backfill takes the fields it is given, configured or not.
      wanted = sel.kind === 'backfill' || !m.fields ? sel.fields : m.fields.filter((f) => sel.fields?.includes(f));
    }
    if (wanted && wanted.length === 0) continue;
    const { targets, missing } = await discoverFields(ctx.source, ctx.sourceDb, m.name, wanted);
    result.missing.push(...missing.map((f) => `${m.name}.${f}`));
    if (targets.length === 0 && missing.length === 0) {
      ctx.logger.warn(`measurement ${JSON.stringify(m.name)} has no fields in ${ctx.sourceDb} on ${ctx.source.endpoint} (yet); nothing to copy`);
    }
    const configStart = m.startNs;
    const configEnd = m.endNs ?? now;

    for (const target of targets) {
      matchedField = true;
      const fid = fieldId(ctx.source.endpoint, ctx.sourceDb, target.measurement, target.field);
      const checkpoint = await ctx.store.checkpoint(fid);
      let range: { startNs: bigint; endNs: bigint } | undefined;
      if (sel.kind === 'backfill') {
        range = { startNs: sel.startNs ?? configStart, endNs: sel.endNs ?? configEnd };
        if (range.endNs < range.startNs) range = undefined;
      } else {
        const lo = sel.startNs !== undefined && sel.startNs > configStart ? sel.startNs : configStart;
        const hi = sel.endNs !== undefined && sel.endNs < configEnd ? sel.endNs : configEnd;
        range = sel.full ? (hi >= lo ? { startNs: lo, endNs: hi } : undefined) : incrementalRange(lo, hi, checkpoint, ctx.overlapNs);
      }
      if (!range) continue;
      // A plan may move the checkpoint only if it starts where every older value
      // is already known to be in the backup; otherwise it would jump a gap.
      const advances = checkpoint === undefined ? range.startNs <= configStart : range.startNs <= checkpoint + 1n;
      const chunks = await planFieldChunks(ctx.source, ctx.sourceDb, target, range.startNs, range.endNs, ctx.chunkSizeNs);
      const expected = chunks.reduce((n, c) => n + c.expected, 0);
      result.fields.push({ ...target, ...range, chunks: chunks.length, expected, advancesCheckpoint: advances });
      result.expectedValues += expected;
      if (chunks.length === 0) continue;
      let planKey: string | undefined;
      if (advances) {
        planKey = fieldPlanKey(fid, chunks);
        await ctx.store.openPlan(planKey, chunks.length);
      }
      for (const c of chunks) {
        jobs.push({
          id: chunkJobId(sel.kind, fid, c.startNs, c.endNs),
          payload: {
            kind: sel.kind,
            fieldId: fid,
            ...(planKey ? { planKey } : {}),
            index: c.index,
            chunks: chunks.length,
            sourceDb: ctx.sourceDb,
            backupDb: ctx.backupDb,
            measurement: target.measurement,
            field: target.field,
            type: target.type,
            startNs: c.startNs.toString(),
            endNs: c.endNs.toString(),
            expected: c.expected,
            runId: sel.runId,
          },
        });
      }
    }
  }
  if (sel.fields && !matchedField && result.missing.length === 0) {
    throw new SelectionError(`--field ${sel.fields.map((f) => JSON.stringify(f)).join(', ')} matches no configured field of the selected measurements`);
  }

  const { enqueued, reused } = await enqueueUnique(ctx.queue, jobs, sel.kind, ctx.retry);
  result.jobIds = jobs.map((j) => j.id);
  result.reused = reused;
  ctx.logger.info('planned', {
    run: sel.runId,
    fields: result.fields.length,
    jobs: jobs.length,
    enqueued,
    reused,
    expectedValues: result.expectedValues,
  });
  return result;
}

/**
 * Adds jobs whose ids are not already in flight. A finished job of the same id
 * (completed or failed) is replaced, so planning a range again copies it again.
 */
async function enqueueUnique(
  queue: Queue,
  jobs: { id: string; payload: CopyChunkPayload }[],
  kind: CopyKind,
  retry: RetryPolicy,
): Promise<{ enqueued: number; reused: number }> {
  const name = kind === 'copy' ? JOBS.copy.name : JOBS.backfill.name;
  const opts = copyJobOptions(retry);
  let enqueued = 0;
  let reused = 0;
  const BATCH = 500;
  for (let i = 0; i < jobs.length; i += BATCH) {
    const slice = jobs.slice(i, i + BATCH);
    const states = await Promise.all(slice.map((j) => queue.getJobState(j.id)));
    const toAdd: typeof slice = [];
    for (let k = 0; k < slice.length; k++) {
      const job = slice[k]!;
      const state = states[k]!;
      if (IN_FLIGHT.has(state)) {
        reused++;
        continue;
      }
      if (state === 'completed' || state === 'failed') {
        // A job still locked by a worker cannot be removed; it is in flight then.
        const removed = await queue.remove(job.id).catch(() => 0);
        if (!removed) {
          reused++;
          continue;
        }
      }
      toAdd.push(job);
    }
    if (toAdd.length > 0) {
      await queue.addBulk(toAdd.map((j) => ({ name, data: j.payload, opts: { ...opts, jobId: j.id } })));
      enqueued += toAdd.length;
    }
  }
  return { enqueued, reused };
}
