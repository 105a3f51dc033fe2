import { UnrecoverableError, type Job } from 'bullmq';
import { copyChunk, type BackupWriter, type EngineLogger, type SourceReader } from '@influx-backup/core';
import { InfluxError } from '@influx-backup/influx';
import type { CopyChunkPayload, CopyChunkResultPayload } from './catalog.js';
import type { StateStore } from './state-store.js';

export interface ProcessorContext {
  source: SourceReader;
  backup: BackupWriter;
  store: StateStore;
  batchSize: number;
  batchIntervalMs: number;
  pieceRows: number;
  operationTimeoutMs: number;
  logger: EngineLogger;
}

const PROGRESS_EVERY_MS = 1_000;

/**
 * The handler of copy and backfill jobs: copies the chunk, then (only after the
 * backup acknowledged every batch) records the chunk done and moves the field's
 * low watermark. Permanent failures become UnrecoverableError, so BullMQ fails
 * the job at once instead of retrying what cannot succeed.
 */
export function createCopyProcessor(ctx: ProcessorContext): (job: Job<CopyChunkPayload>) => Promise<CopyChunkResultPayload> {
  return async (job) => {
    const d = job.data;
    const startedAt = Date.now();
    let lastProgressAt = 0;
    const signal = AbortSignal.timeout(ctx.operationTimeoutMs);
    try {
      const result = await copyChunk({
        source: ctx.source,
        backup: ctx.backup,
        sourceDb: d.sourceDb,
        backupDb: d.backupDb,
        measurement: d.measurement,
        field: d.field,
        type: d.type,
        startNs: BigInt(d.startNs),
        endNs: BigInt(d.endNs),
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
      if (d.planKey) {
        await ctx.store.completeChunk(d.planKey, d.fieldId, d.index, result.lastTimeNs);
      }
      ctx.logger.debug('chunk copied', {
        measurement: d.measurement,
        field: d.field,
        chunk: `${d.index + 1}/${d.chunks}`,
        values: result.values,
        ms: Date.now() - startedAt,
      });
      return { values: result.values, batches: result.batches, lastTimeNs: result.lastTimeNs?.toString() ?? null };
    } catch (err) {
      const where = `${d.measurement}.${d.field} [${d.startNs}, ${d.endNs}]`;
      if (signal.aborted && !(err instanceof InfluxError)) {
        throw new Error(`${where}: no result within processing.operation_timeout (${ctx.operationTimeoutMs / 1000} s)`);
      }
      const message = err instanceof Error ? err.message : String(err);
      const retriable = (err as { retriable?: boolean }).retriable;
      if (retriable === false || (err instanceof Error && (err.name === 'LineProtocolError' || err.name === 'TypeError'))) {
        throw new UnrecoverableError(`${where}: ${message}`);
      }
      throw new Error(`${where}: ${message}`, { cause: err });
    }
  };
}
