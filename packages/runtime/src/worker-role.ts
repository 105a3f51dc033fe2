import type { Worker } from 'bullmq';
import { createCopyWorker, type CopyChunkPayload, type CopyChunkResultPayload } from '@influx-backup/queue';
import { processorContext, retryPolicy, startMemoryGovernor, workerIdentity, type Runtime } from '@influx-backup/runtime';

export interface RunningWorker {
  readonly worker: Worker<CopyChunkPayload, CopyChunkResultPayload>;
  readonly id: string;
  /** Stops taking jobs, waits for the active ones (or hands them back after `graceMs`), closes. */
  stop(graceMs?: number): Promise<void>;
}

const HEARTBEAT_MS = 5_000;

/**
 * Starts copy workers in this process (`processing.max_workers` jobs at once)
 * and records this process in Redis every few seconds, for `status`.
 */
export function startWorker(rt: Runtime): RunningWorker {
  const me = workerIdentity();
  const startedAt = new Date().toISOString();
  let jobsDone = 0;
  let jobsFailed = 0;
  const worker = createCopyWorker({
    ...processorContext(rt),
    connection: rt.redis,
    prefix: rt.prefix,
    concurrency: rt.config.processing.maxWorkers,
    retry: retryPolicy(rt.config),
    name: me.id,
  });
  worker.on('completed', () => {
    jobsDone++;
  });
  worker.on('failed', (job, err) => {
    jobsFailed++;
    const final = job && job.attemptsMade >= (job.opts.attempts ?? 1);
    const level = final || err.name === 'UnrecoverableError' ? 'error' : 'warn';
    rt.logger[level](final ? `chunk failed for good: ${err.message}` : `chunk failed, will retry: ${err.message}`, {
      job: job?.id,
      attempt: job?.attemptsMade,
    });
  });
  worker.on('error', (err) => rt.logger.warn(`worker: ${err.message}`));
  const governor = startMemoryGovernor(rt.config.processing.workerMemoryLimitMb, rt.logger);
  let stoppedAt: string | undefined;
  const beat = (): Promise<void> =>
    rt.store
      .heartbeat({ ...me, startedAt, lastSeen: new Date().toISOString(), jobsDone, jobsFailed, ...(stoppedAt ? { stoppedAt } : {}) })
      .catch(() => undefined);
  void beat();
  const timer = setInterval(() => void beat(), HEARTBEAT_MS);
  timer.unref();

  return {
    worker,
    id: me.id,
    async stop(graceMs = 30_000) {
      clearInterval(timer);
      governor.stop();
      // close() waits for active jobs; past the grace period, force it: the
      // unfinished chunks' locks expire and another worker takes them.
      const closing = worker.close();
      const forced = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      if ((await Promise.race([closing, forced])) === 'timeout') {
        rt.logger.warn(`active chunks did not finish within ${graceMs / 1000} s; handing them back`);
        await worker.close(true);
      }
      stoppedAt = new Date().toISOString();
      await beat();
    },
  };
}

/**
 * The long-running `worker` role: runs until SIGINT or SIGTERM, then finishes or
 * hands back its active chunks and exits 0.
 */
export async function runWorkerProcess(rt: Runtime): Promise<void> {
  const w = startWorker(rt);
  rt.logger.info(`worker ${w.id} started: ${rt.config.processing.maxWorkers} jobs at once, Redis ${rt.redisEndpoint}`);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      rt.logger.info(`${signal}: finishing active chunks, then exiting`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      // A second signal forces the exit.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      void w.stop().then(resolve, resolve);
    };
    const onInt = (): void => shutdown('SIGINT');
    const onTerm = (): void => shutdown('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}
