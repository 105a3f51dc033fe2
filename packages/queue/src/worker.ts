import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CopyChunkPayload, CopyChunkResultPayload, RetryPolicy } from './catalog.js';
import { BACKOFF_TYPE, chunkRange, FINISHED_JOBS_KEPT, jobFields, retryDelay } from './catalog.js';
import { chunkDedupeId, parseChunkJobId, QUEUE_COPY } from './names.js';
import { chunkFailure, createCopyProcessor, failedChunk, type ProcessorContext } from './processor.js';

export interface CopyWorkerOptions extends ProcessorContext {
  connection: Redis;
  prefix: string;
  concurrency: number;
  retry: RetryPolicy;
  /** Start without taking jobs (tests); `worker.run()` later. */
  autorun?: boolean;
  /** Shown as the job's `processedBy` in Bull Board and status. */
  name?: string;
}

/**
 * A BullMQ worker over the copy queue. Its lock is renewed while a chunk copies;
 * a worker that dies (SIGKILL, lost host) stops renewing, and BullMQ's stalled
 * check hands the chunk to another worker.
 */
export function createCopyWorker(opts: CopyWorkerOptions): Worker<CopyChunkPayload, CopyChunkResultPayload> {
  if (!(opts.concurrency >= 1)) throw new RangeError(`concurrency must be >= 1, got ${opts.concurrency}`);
  // Where a failed group's per-field jobs go, unless the caller gave a queue.
  const own = opts.queue ? undefined : new Queue(QUEUE_COPY, { connection: opts.connection, prefix: opts.prefix });
  const processor = createCopyProcessor({ ...opts, queue: opts.queue ?? own });
  const worker = new Worker<CopyChunkPayload, CopyChunkResultPayload>(QUEUE_COPY, (job: Job<CopyChunkPayload>) => processor(job), {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    autorun: opts.autorun ?? true,
    ...(opts.name ? { name: opts.name } : {}),
    // A killed worker's chunk comes back after at most lockDuration + stalledInterval.
    lockDuration: 15_000,
    stalledInterval: 10_000,
    maxStalledCount: 3,
    ...FINISHED_JOBS_KEPT,
    settings: {
      // 'influx-backup': the type's name in jobs queued by earlier versions.
      backoffStrategy: (attemptsMade: number, type?: string) =>
        type === BACKOFF_TYPE || type === 'influx-backup' ? retryDelay(opts.retry, attemptsMade) : 1_000,
    },
  });
  // A job failed by BullMQ itself (stalled more than maxStalledCount) never
  // reached the processor's catch: count it in its run here. Counting is
  // idempotent, so a chunk the processor counted already is not counted twice.
  worker.on('failed', (job, err) => {
    if (!job || !/stalled/i.test(err.message)) return;
    const id = parseChunkJobId(job.id ?? '');
    if (!id) return;
    void Promise.all(jobFields(job.data).map((m) => opts.store.runPlan(id.run, m.k)))
      .then((found) => {
        const plans = found.filter((p) => p !== undefined);
        const p = plans[0];
        if (!p || plans.length !== found.length) return;
        const { startNs, endNs } = chunkRange(job.data);
        const fields = plans.map((x) => x.field);
        const claim = {
          chunk: chunkDedupeId(
            p.run.kind,
            fields.map((f) => f.fieldId),
            startNs,
            endNs,
          ),
          jobId: job.id ?? '',
        };
        return opts.store.finishChunk({
          ...failedChunk(id, p.run, claim, fields),
          failure: chunkFailure(job, p.field, err.message, fields),
        });
      })
      .catch(() => undefined);
  });
  if (own) worker.on('closed', () => void own.close().catch(() => undefined));
  return worker;
}
