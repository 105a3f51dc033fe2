import { UnrecoverableError } from 'bullmq';
import { monitorAlerts, processSubject, rulesFor } from '@influx-backup/monitoring';
import { counted, formatRate, formatSeconds } from '@influx-backup/core';
import { createCopyWorker, type CopyWorker } from '@influx-backup/queue';
import type { Runtime } from './connections.js';
import { startMemoryGovernor } from './memory-governor.js';
import { preflight } from './preflight.js';
import { longRunningRole } from './role.js';
import { monitorSettings, processorContext, retryPolicy, workerIdentity } from './settings.js';
import { untilReady } from './readiness.js';

export interface RunningWorker {
  readonly worker: CopyWorker;
  readonly id: string;
  /** Stops taking jobs, waits for the active ones (or hands them back after `graceMs`), closes. */
  stop(graceMs?: number): Promise<void>;
}

const HEARTBEAT_MS = 5_000;

/**
 * Starts copy workers in this process (`processing.max_workers` jobs at once)
 * and records this process in Redis every few seconds, for `status`. A
 * long-running worker also logs at INFO, every `monitoring.metrics.interval`, what
 * it copied since the last line, so its logs show progress; `run` has its own
 * progress display.
 */
export function startWorker(rt: Runtime, { role = 'worker' }: { role?: 'worker' | 'run' } = {}): RunningWorker {
  const me = workerIdentity();
  const startedAt = new Date().toISOString();
  let jobsDone = 0;
  let jobsFailed = 0;
  const since = { at: Date.now(), chunks: 0, failed: 0, values: 0 };
  // The time spent copying: while at least one job is active (a worker waiting for jobs copies nothing).
  const busy = new BusyClock();
  const worker = createCopyWorker({
    ...processorContext(rt),
    connection: rt.redis,
    prefix: rt.prefix,
    concurrency: rt.config.processing.maxWorkers,
    retry: retryPolicy(rt.config),
    name: me.id,
  });
  worker.on('active', () => busy.start());
  worker.on('completed', (_job, result) => {
    busy.end();
    jobsDone++;
    since.chunks++;
    since.values += result?.values ?? 0;
  });
  worker.on('failed', (job, err) => {
    busy.end();
    jobsFailed++;
    since.failed++;
    const final = job && job.attemptsMade >= (job.opts.attempts ?? 1);
    const level = final || err instanceof UnrecoverableError ? 'error' : 'warn';
    rt.logger[level](final ? `chunk failed for good: ${err.message}` : `chunk failed, will retry: ${err.message}`, {
      job: job?.id,
      attempt: job?.attemptsMade,
    });
  });
  worker.on('error', (err) => rt.logger.warn(`worker: ${err.message}`));
  const governor = startMemoryGovernor(rt.config.processing.workerMemoryLimitMb, rt.logger);
  // This process's own alerts (memory_usage). reduce_workers halves how many jobs it
  // takes at once while one holds; BullMQ lets the chunks in flight finish.
  const full = rt.config.processing.maxWorkers;
  const alerts = monitorAlerts(monitorSettings(rt), rulesFor(rt.config.monitoring.alerts, 'process'), {
    sample: () => [processSubject(rt.config.processing.workerMemoryLimitMb)],
    onReduce: (held) => {
      worker.concurrency = held ? Math.max(1, Math.floor(full / 2)) : full;
      rt.logger.warn(
        held ? `reduce_workers: ${worker.concurrency} jobs at once until the alert ends` : `reduce_workers: back to ${full} jobs at once`,
      );
    },
  });
  let stoppedAt: string | undefined;
  const beat = (): Promise<void> =>
    rt.store.workers
      .heartbeat({
        ...me,
        role,
        startedAt,
        lastSeen: new Date().toISOString(),
        jobsDone,
        jobsFailed,
        rssMb: Math.round(process.memoryUsage.rss() / 1048576),
        ...(stoppedAt ? { stoppedAt } : {}),
      })
      .catch(() => undefined);
  void beat();
  const timer = setInterval(() => void beat(), HEARTBEAT_MS);
  timer.unref();
  const summary = (): void => {
    const secs = (Date.now() - since.at) / 1000;
    const copying = busy.take();
    if (since.chunks + since.failed > 0) {
      // The rate over the time spent copying, not over the interval: a copy of 1 s in a 30 s interval ran at 30 times the interval's average.
      rt.logger.info(
        `copied ${counted(since.chunks, 'chunk')}, ${counted(since.values, 'value')} in ${formatSeconds(copying)} of copying ` +
          `(${formatRate(since.values, copying)}) over the last ${formatSeconds(secs)}` +
          (since.failed > 0 ? `; ${counted(since.failed, 'failed attempt')}` : ''),
        { chunks: since.chunks, values: since.values, failed: since.failed, copyingSeconds: Math.round(copying * 1000) / 1000 },
      );
    }
    Object.assign(since, { at: Date.now(), chunks: 0, failed: 0, values: 0 });
  };
  const reporter = role === 'worker' ? setInterval(summary, rt.config.monitoring.metrics.intervalMs) : undefined;
  reporter?.unref();

  return {
    worker,
    id: me.id,
    async stop(graceMs = 30_000) {
      clearInterval(timer);
      if (reporter) {
        clearInterval(reporter);
        summary();
      }
      governor.stop();
      await alerts?.stop(5_000);
      // pause() takes no more jobs and waits for the active ones; past the grace period
      // the worker closes without them: their locks lapse and another worker takes them.
      // (Not close() then close(true): BullMQ answers a second close with the first one's
      // promise, which waits for the active jobs however long they take.)
      const drained = worker.pause().then(() => 'drained' as const);
      const forced = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      if ((await Promise.race([drained, forced])) === 'timeout') {
        rt.logger.warn(`active chunks did not finish within ${graceMs / 1000} s; handing them back`);
      }
      await worker.close(true);
      stoppedAt = new Date().toISOString();
      await beat();
    },
  };
}

/** Wall time during which at least one job was active: the union of the jobs' intervals, taken piece by piece. */
class BusyClock {
  private active = 0;
  private since = 0;
  private ms = 0;

  start(now = Date.now()): void {
    if (this.active++ === 0) this.since = now;
  }

  end(now = Date.now()): void {
    if (this.active === 0) return;
    if (--this.active === 0) this.ms += now - this.since;
  }

  /** Seconds busy since the last take (the job in flight counted up to now), and starts counting again. */
  take(now = Date.now()): number {
    let ms = this.ms;
    if (this.active > 0) {
      ms += now - this.since;
      this.since = now;
    }
    this.ms = 0;
    return ms / 1000;
  }
}

function startLoggedWorker(rt: Runtime): RunningWorker {
  const w = startWorker(rt);
  rt.logger.info(`worker ${w.id} started: ${rt.config.processing.maxWorkers} jobs at once, Redis ${rt.redisEndpoint}`);
  return w;
}

/** The `worker` role: `influx-backup worker` and `apps/worker`. Exits 0 after SIGINT or SIGTERM. */
export const workerRole = longRunningRole({
  name: 'worker',
  description: 'copy jobs until SIGINT or SIGTERM, then finish or hand back the active chunks',
  stopping: 'finishing active chunks, then exiting',
  async start(rt, stop) {
    // Started before Redis, its servers or the source database, a worker waits for them rather than exit.
    if (!(await untilReady(rt, stop, () => preflight(rt, { prepareBackup: false })))) return { stop: () => Promise.resolve() };
    return startLoggedWorker(rt);
  },
});
