import { UnrecoverableError, type Job } from 'bullmq';
import { copyChunk, type BackupWriter, type Logger, type SourceReader } from '@influx-backup/core';
import { InfluxError, LineProtocolError } from '@influx-backup/influx';
import { chunkPayload, type ChunkProgress, type CopyChunkPayload, type CopyChunkResultPayload, type RunMeta } from './catalog.js';
import { JobDescriber, type ChunkJob } from './describe.js';
import { chunkJobId, chunkJobName, fieldPlanKey } from './names.js';
import type { CopyQueue } from './queues.js';
import { SourceBreaker } from './source-breaker.js';
import type { ChunkFailure, FinishChunk, RunLedger } from './store/index.js';

/** An InfluxDB server as the engine uses it: read from by a backup or a restore, written to by the other. */
export type InfluxServerPort = SourceReader & BackupWriter;

export interface ProcessorContext {
  /** The server of runs that name no source: the single databases.source. */
  source?: InfluxServerPort;
  /** The servers of the sources of databases.sources, by name: a run names its source. */
  sources?: ReadonlyMap<string, InfluxServerPort>;
  backup: InfluxServerPort;
  runs: RunLedger;
  /** Reads what a job copies; default one per processor. */
  describer?: JobDescriber;
  batchSize: number;
  batchIntervalMs: number;
  pieceRows: number;
  operationTimeoutMs: number;
  logger: Logger;
  /** The copy queue: a group job that fails for good is split into per-field jobs added here. Absent: it fails whole. */
  queue?: CopyQueue;
  /** Sources of databases.sources found unreachable; default one per processor. */
  breaker?: SourceBreaker;
}

/**
 * The servers a run's jobs read and write, from its record: the one place a
 * worker decides a chunk's direction (a restore reads the backup and writes the
 * source).
 */
export function runServers<T>(run: Pick<RunMeta, 'reads'>, servers: { source: T; backup: T }): { reader: T; writer: T } {
  return run.reads === 'backup' ? { reader: servers.backup, writer: servers.source } : { reader: servers.source, writer: servers.backup };
}

/** Whether this attempt is the job's last: a permanent error, or no attempt left. */
export function isFinalAttempt(job: Job, err: unknown): boolean {
  return err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * The handler of copy, backfill, restore and repair jobs: copies the chunk of its field
 * (or of its group of fields, with one query) the way its run goes, then (only after the backup
 * acknowledged every batch) records the job done, moves each field's low
 * watermark by that field's own plan and newest value, and counts the job in
 * its run, in one step. A last failed attempt is counted too. Permanent failures
 * become UnrecoverableError, so BullMQ fails the job at once instead of retrying
 * what cannot succeed.
 *
 * A group job that fails for good is split into one job per field in the same
 * run (StateStore.splitChunk): one bad field (a type conflict) then fails its
 * own chunk only, with the server's reason, and the healthy fields finish and
 * move their checkpoints.
 */
export function createCopyProcessor(ctx: ProcessorContext): (job: Job<CopyChunkPayload>) => Promise<CopyChunkResultPayload> {
  const breaker = ctx.breaker ?? new SourceBreaker();
  const describer = ctx.describer ?? new JobDescriber(ctx.runs);

  return async (job) => {
    const chunk = await describer.require(job);
    const { ref: id, run, members, fields, startNs, endNs, claim } = chunk;
    const source = run.source === undefined ? ctx.source : ctx.sources?.get(run.source);
    if (!source) {
      const which = run.source === undefined ? 'the single databases.source' : `source ${JSON.stringify(run.source)}`;
      throw new UnrecoverableError(`run ${run.runId} copies ${which}, which this worker's configuration does not have`);
    }
    const first = fields[0]!;
    const startedAt = Date.now();
    let batches = 0;
    const signal = AbortSignal.timeout(ctx.operationTimeoutMs);
    const { reader, writer } = runServers(run, { source, backup: ctx.backup });
    const where = `${first.measurement}.${fields.length === 1 ? first.field : `{${fields.map((f) => f.field).join(', ')}}`} [${startNs}, ${endNs}]`;
    try {
      // A source of several found down fails its chunks here, without a round trip, so they leave the slots to the others'.
      const down = run.source === undefined ? undefined : breaker.refuse(run.source);
      if (down !== undefined) throw new Error(`source ${run.source} is unreachable (${down}); not tried again for a few seconds`);
      const result = await copyChunk({
        source: reader,
        backup: writer,
        sourceDb: run.sourceDb,
        backupDb: run.backupDb,
        measurement: first.measurement,
        fields: fields.map((f) => ({ field: f.field, type: f.type })),
        retentionPolicy: first.retentionPolicy,
        startNs,
        endNs,
        batchSize: ctx.batchSize,
        batchIntervalMs: ctx.batchIntervalMs,
        // A row of a group holds up to one value per field: pieces shrink so a piece's memory stays what one field's would be.
        pieceRows: Math.max(100, Math.ceil(ctx.pieceRows / fields.length)),
        signal,
        onProgress: (written, more) => {
          batches++;
          // Each batch but the last, as the backup acknowledges it: a round trip per batch of batch_size values, not
          // per chunk. Most chunks are one batch (ten years of 1h chunks of a sparse field, 87,600 jobs, make no report at all),
          // and a chunk's last batch is reported by its result (below, and Bull Board's view of a finished job).
          if (more) void job.updateProgress({ values: written, batches } satisfies ChunkProgress).catch(() => undefined);
        },
      });
      // A job of several batches ends with its whole count, so what BullMQ holds as its progress is true at the end.
      if (result.batches > 1) {
        await job.updateProgress({ values: result.values, batches: result.batches } satisfies ChunkProgress).catch(() => undefined);
      }
      if (run.source !== undefined) breaker.succeeded(run.source);
      await ctx.runs.finishChunk({
        run: id.run,
        seq: id.seq,
        ...(run.source === undefined ? {} : { source: run.source }),
        ...(run.kind === 'repair' ? { repair: true } : {}),
        claim,
        outcome: 'done',
        startedMs: startedAt,
        values: result.values,
        measurement: first.measurement,
        fieldIds: fields.map((f) => f.fieldId),
        // Each field by its own rule: its own plan's low watermark, its own newest value.
        watermarks: members.flatMap((m, j) =>
          fields[j]!.advances
            ? [{ planKey: fieldPlanKey(id.run, m.k), fieldId: fields[j]!.fieldId, index: m.i, lastTimeNs: result.fields[j]!.lastTimeNs }]
            : [],
        ),
      });
      ctx.logger.debug('chunk copied', {
        measurement: first.measurement,
        field: fields.map((f) => f.field).join(', '),
        chunk: members[0]!.i + 1,
        values: result.values,
        ms: Date.now() - startedAt,
      });
      return { values: result.values, batches: result.batches, lastTimeNs: result.lastTimeNs?.toString() ?? null };
    } catch (err) {
      if (run.source !== undefined) breaker.failed(run.source, err);
      let failure: Error;
      if (signal.aborted && !(err instanceof InfluxError)) {
        failure = new Error(`${where}: no result within processing.operation_timeout (${ctx.operationTimeoutMs / 1000} s)`);
      } else {
        const message = err instanceof Error ? err.message : String(err);
        const retriable = (err as { retriable?: boolean }).retriable;
        failure =
          retriable === false || err instanceof LineProtocolError || err instanceof TypeError
            ? new UnrecoverableError(`${where}: ${message}`)
            : new Error(`${where}: ${message}`, { cause: err });
      }
      if (isFinalAttempt(job, failure)) {
        if (members.length > 1 && ctx.queue) {
          const ids = await splitGroup(ctx.queue, ctx.runs, job, chunk);
          if (ids) {
            ctx.logger.warn(`${where} failed for good; split into one job per field`, { reason: failure.message, jobs: ids.join(' ') });
            return { values: 0, batches: 0, lastTimeNs: null, splitInto: ids };
          }
        }
        await ctx.runs
          .finishChunk({ ...failedChunk(chunk), startedMs: startedAt, failure: chunkFailure(chunk, failure.message) })
          .catch((e: Error) => ctx.logger.warn(`could not count a failed chunk of run ${run.runId}: ${e.message}`));
      } else {
        // The error rate counts every failed attempt; one write per failure, none per success.
        await ctx.runs
          .countRetry(id.run, run.source)
          .catch((e: Error) => ctx.logger.warn(`could not count a retry of run ${run.runId}: ${e.message}`));
      }
      throw failure;
    }
  };
}

/**
 * Adds one job per field of a failed group at the positions splitChunk gives
 * (the same ones if this runs again, so a retried split adds nothing twice).
 * The group job then completes, its result naming the new jobs; undefined if the
 * group was counted as finished already.
 */
async function splitGroup(queue: CopyQueue, runs: RunLedger, job: Job<CopyChunkPayload>, chunk: ChunkJob): Promise<string[] | undefined> {
  const { ref, run, members, fields, startNs, endNs, claim } = chunk;
  const base = await runs.splitChunk(ref.run, ref.seq, members.length, claim, fields[0]!.measurement);
  if (base === undefined) return undefined;
  const jobs = members.map((m, n) => ({
    name: chunkJobName(run.kind, undefined, run.source),
    data: chunkPayload([m], startNs, endNs),
    opts: {
      attempts: job.opts.attempts ?? 1,
      ...(job.opts.backoff ? { backoff: job.opts.backoff } : {}),
      jobId: chunkJobId(ref.run, base + n),
    },
  }));
  await queue.addBulk(jobs);
  return jobs.map((j) => j.opts.jobId);
}

/** What finishChunk needs of a job that failed for good, but its reason. */
export function failedChunk(chunk: ChunkJob): Omit<FinishChunk, 'failure'> {
  return {
    run: chunk.ref.run,
    seq: chunk.ref.seq,
    ...(chunk.run.source === undefined ? {} : { source: chunk.run.source }),
    claim: chunk.claim,
    outcome: 'failed',
    values: 0,
    measurement: chunk.fields[0]?.measurement ?? '',
    fieldIds: chunk.fields.map((f) => f.fieldId),
  };
}

/** A chunk's failure as its run records it: its job, field (a group's fields), range and the reason. */
export function chunkFailure(chunk: ChunkJob, reason: string): ChunkFailure {
  const first = chunk.fields[0]!;
  const field = chunk.fields.length > 1 ? chunk.fields.map((f) => f.field).join(', ') : first.field;
  return {
    jobId: chunk.claim.jobId,
    measurement: first.measurement,
    field,
    startNs: chunk.startNs.toString(),
    endNs: chunk.endNs.toString(),
    reason,
  };
}
