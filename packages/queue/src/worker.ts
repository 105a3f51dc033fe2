import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { CopyChunkPayload, CopyChunkResultPayload, RetryPolicy } from './catalog.js';
import { BACKOFF_TYPE, FINISHED_JOBS_KEPT, retryDelay } from './catalog.js';
import { JobDescriber } from './describe.js';
import { QUEUE_COPY } from './names.js';
import { chunkFailure, createCopyProcessor, failedChunk, type ProcessorContext } from './processor.js';
import { createQueues } from './queues.js';

export interface CopyWorkerOptions extends ProcessorContext {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  retry: RetryPolicy;
  /** Start without taking jobs (tests); `worker.run()` later. */
  autorun?: boolean;
  /** Shown as the job's `processedBy` in Bull Board and status. */
  name?: string;
}

export type CopyWorker = Worker<CopyChunkPayload, CopyChunkResultPayload>;

/**
 * A BullMQ worker over the copy queue. Its lock is renewed while a chunk copies;
 * a worker that dies (SIGKILL, lost host) stops renewing, and BullMQ's stalled
 * check hands the chunk to another worker.
 */
export function createCopyWorker(opts: CopyWorkerOptions): CopyWorker {
  if (!(opts.concurrency >= 1)) throw new RangeError(`concurrency must be >= 1, got ${opts.concurrency}`);
  // Where a failed group's per-field jobs go, unless the caller gave a queue.
  const own = opts.queue ? undefined : createQueues(opts.connection, opts.prefix);
  const describer = opts.describer ?? new JobDescriber(opts.runs);
  const processor = createCopyProcessor({ ...opts, describer, queue: opts.queue ?? own?.copy });
  const worker: CopyWorker = new Worker<CopyChunkPayload, CopyChunkResultPayload>(
    QUEUE_COPY,
    (job: Job<CopyChunkPayload>) => processor(job),
    {
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
    },
  );
  // A job failed by BullMQ itself (stalled more than maxStalledCount) never
  // reached the processor's catch: count it in its run here. Counting is
  // idempotent, so a chunk the processor counted already is not counted twice.
  worker.on('failed', (job, err) => {
    if (!job || !/stalled/i.test(err.message)) return;
    void describer
      .describe(job)
      .then((chunk) => chunk && opts.runs.finishChunk({ ...failedChunk(chunk), failure: chunkFailure(chunk, err.message) }))
      .catch(() => undefined);
  });
  if (own) worker.on('closed', () => void own.close().catch(() => undefined));
  return worker;
}
