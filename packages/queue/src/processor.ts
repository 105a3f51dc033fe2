import { UnrecoverableError, type Job } from 'bullmq';
import { copyChunk, type BackupWriter, type Logger, type SourceReader } from '@influx-backup/core';
import { InfluxError } from '@influx-backup/influx';
import { chunkRange, type CopyChunkPayload, type CopyChunkResultPayload, type FieldPlanMeta, type RunMeta } from './catalog.js';
import { chunkDedupeId, fieldPlanKey, parseChunkJobId } from './names.js';
import type { ChunkFailure, StateStore } from './state-store.js';

export interface ProcessorContext {
  source: SourceReader;
  backup: BackupWriter;
  store: StateStore;
  batchSize: number;
  batchIntervalMs: number;
  pieceRows: number;
  operationTimeoutMs: number;
  logger: Logger;
}

const PROGRESS_EVERY_MS = 1_000;
/** Field plans a worker remembers; a run has one per field, so this is many runs' worth. */
const PLAN_CACHE = 5_000;

/** Whether this attempt is the job's last: a permanent error, or no attempt left. */
export function isFinalAttempt(job: Job, err: unknown): boolean {
  return err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * The handler of copy and backfill jobs: copies the chunk, then (only after the
 * backup acknowledged every batch) records the chunk done, moves the field's low
 * watermark and counts it in its run, in one step. A last failed attempt is
 * counted too. Permanent failures become UnrecoverableError, so BullMQ fails the
 * job at once instead of retrying what cannot succeed.
 */
export function createCopyProcessor(ctx: ProcessorContext): (job: Job<CopyChunkPayload>) => Promise<CopyChunkResultPayload> {
  const plans = new Map<string, { run: RunMeta; field: FieldPlanMeta }>();
  const planOf = async (run: string, k: number): Promise<{ run: RunMeta; field: FieldPlanMeta }> => {
    const key = fieldPlanKey(run, k);
    let p = plans.get(key);
    if (!p) {
      p = await ctx.store.runPlan(run, k);
      if (!p) throw new UnrecoverableError(`the plan of run ${run} is gone from Redis (expired, or Redis lost its data); plan again`);
      if (plans.size >= PLAN_CACHE) plans.clear();
      plans.set(key, p);
    }
    return p;
  };

  return async (job) => {
    const d = job.data;
    const id = parseChunkJobId(job.id ?? '');
    if (!id) throw new UnrecoverableError(`job ${job.id} was not made by this version's planner; plan again`);
    const { run, field } = await planOf(id.run, d.k);
    const { startNs, endNs } = chunkRange(d);
    const claim = { chunk: chunkDedupeId(run.kind, field.fieldId, startNs, endNs), jobId: job.id ?? '' };
    const startedAt = Date.now();
    let lastProgressAt = 0;
    const signal = AbortSignal.timeout(ctx.operationTimeoutMs);
    const where = `${field.measurement}.${field.field} [${startNs}, ${endNs}]`;
    try {
      const result = await copyChunk({
        source: ctx.source,
        backup: ctx.backup,
        sourceDb: run.sourceDb,
        backupDb: run.backupDb,
        measurement: field.measurement,
        field: field.field,
        type: field.type,
        retentionPolicy: field.retentionPolicy,
        startNs,
        endNs,
        batchSize: ctx.batchSize,
        batchIntervalMs: ctx.batchIntervalMs,
        pieceRows: ctx.pieceRows,
        signal,
        onProgress: (written) => {
          const now = Date.now();
          if (now - lastProgressAt >= PROGRESS_EVERY_MS) {
            lastProgressAt = now;
            void job.updateProgress({ values: written }).catch(() => undefined);
          }
        },
      });
      await ctx.store.finishChunk({
        run: id.run,
        seq: id.seq,
        claim,
        outcome: 'done',
        values: result.values,
        ...(field.advances
          ? { watermark: { planKey: fieldPlanKey(id.run, d.k), fieldId: field.fieldId, index: d.i, lastTimeNs: result.lastTimeNs } }
          : {}),
      });
      ctx.logger.debug('chunk copied', {
        measurement: field.measurement,
        field: field.field,
        chunk: d.i + 1,
        values: result.values,
        ms: Date.now() - startedAt,
      });
      return { values: result.values, batches: result.batches, lastTimeNs: result.lastTimeNs?.toString() ?? null };
    } catch (err) {
      let failure: Error;
      if (signal.aborted && !(err instanceof InfluxError)) {
        failure = new Error(`${where}: no result within processing.operation_timeout (${ctx.operationTimeoutMs / 1000} s)`);
      } else {
        const message = err instanceof Error ? err.message : String(err);
        const retriable = (err as { retriable?: boolean }).retriable;
        failure =
          retriable === false || (err instanceof Error && (err.name === 'LineProtocolError' || err.name === 'TypeError'))
            ? new UnrecoverableError(`${where}: ${message}`)
            : new Error(`${where}: ${message}`, { cause: err });
      }
      if (isFinalAttempt(job, failure)) {
        await ctx.store
          .finishChunk({ run: id.run, seq: id.seq, claim, outcome: 'failed', values: 0, failure: chunkFailure(job, field, failure.message) })
          .catch((e: Error) => ctx.logger.warn(`could not count a failed chunk of run ${run.runId}: ${e.message}`));
      }
      throw failure;
    }
  };
}

export function chunkFailure(job: Job<CopyChunkPayload>, field: Pick<FieldPlanMeta, 'measurement' | 'field'>, reason: string): ChunkFailure {
  const { startNs, endNs } = chunkRange(job.data);
  return { jobId: job.id ?? '', measurement: field.measurement, field: field.field, startNs: startNs.toString(), endNs: endNs.toString(), reason };
}
