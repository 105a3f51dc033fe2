import {
  copyingSeconds,
  JOB_STATES,
  type CopyQueue,
  type RunCounters,
  type RunLedger,
  type WorkerRegistry,
  type WorkerSeen,
} from '@influx-backup/queue';

/** The metrics block of the original design, for the run in progress or the last one (`run` null: none yet). */
export interface MetricsBlock {
  run: string | null;
  performance: { records_per_second: number; memory_usage_mb: number; active_workers: number; queue_size: number };
  quality: { error_rate: number; retry_count: number; success_rate: number | null };
  progress: { measurements_completed: number; measurements_total: number; estimated_completion: string | null };
}

/** What the cluster-wide alerts test, besides the block: the run's duration, and its counters as read. */
export interface RunSample {
  block: MetricsBlock;
  /** Seconds the run has taken so far, or took (0 before it started). */
  duration: number;
  /** Chunk attempts ended so far (done, failed for good, retried). */
  attempts: number;
  counters: RunCounters;
}

/** A worker whose heartbeat is older than this is not counted as running (it beats every 5 s). */
const LIVE_MS = 20_000;

/**
 * Failed attempts over all attempts of the run so far: each chunk finished counts
 * one attempt, each retried failure one more. 0 before the first attempt ends.
 */
export function errorRate(c: Pick<RunCounters, 'done' | 'failed' | 'retried'>): number {
  const attempts = c.done + c.failed + c.retried;
  return attempts === 0 ? 0 : (c.failed + c.retried) / attempts;
}

/**
 * When the run should end, at the pace of its chunks so far: its finish time once
 * it finished, null before the plan is complete or a chunk has finished.
 */
export function estimatedCompletion(c: RunCounters, now: number): number | null {
  if (c.finishedAt !== undefined) return c.finishedAt;
  const finished = c.done + c.failed;
  // The pace of copying: from its first chunk (from the run's opening for a run of an older version).
  const from = c.copyingAt ?? c.startedAt;
  if (!c.planned || from === undefined || finished === 0) return null;
  const perChunk = (now - from) / finished;
  return Math.round(now + perChunk * Math.max(0, c.total - finished));
}

/** The block from the run's counters (they cover every host), the queue and the workers' heartbeats. */
export function metricsBlock(
  run: string | null,
  c: RunCounters,
  left: Record<string, number>,
  live: { workers: readonly WorkerSeen[]; active: number; queued: number },
  now: number,
): MetricsBlock {
  // Over the time spent copying (planning left out), as every rate of a run: see copyingSeconds.
  const elapsed = copyingSeconds([c], now) ?? 0;
  const running = live.workers.filter((w) => !w.stoppedAt && now - Date.parse(w.lastSeen) < LIVE_MS);
  const eta = estimatedCompletion(c, now);
  const measurements = Object.values(left);
  return {
    run,
    performance: {
      records_per_second: elapsed > 0 ? Math.round(c.values / elapsed) : 0,
      memory_usage_mb: Math.round(running.reduce((sum, w) => sum + (w.rssMb ?? 0), 0)),
      active_workers: live.active,
      queue_size: live.queued,
    },
    quality: {
      error_rate: round(errorRate(c)),
      retry_count: c.retried,
      success_rate: c.done + c.failed === 0 ? null : round(c.done / (c.done + c.failed)),
    },
    progress: {
      measurements_completed: measurements.filter((n) => n <= 0).length,
      measurements_total: measurements.length,
      estimated_completion: eta === null ? null : new Date(eta).toISOString(),
    },
  };
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** A run's block and duration (the newest run's when none is named), in one round of Redis calls whatever its size. */
/** What a run's block is read from: its counters, the workers' heartbeats and the copy queue's counts. */
export interface RunSources {
  readonly runs: Pick<RunLedger, 'newest' | 'counters' | 'measurementsLeft'>;
  readonly workers: Pick<WorkerRegistry, 'list'>;
  readonly queue: Pick<CopyQueue, 'getJobCounts'>;
}

export async function sampleRun(from: RunSources, named?: string, now = Date.now()): Promise<RunSample> {
  const run = named ?? (await from.runs.newest()) ?? null;
  const [sample] = await sampleRuns(from, [run], now);
  return sample!;
}

/**
 * The samples of several runs (null: no run, an empty block), in one round of
 * Redis calls: the workers and the queue's counts are read once and shared, as
 * they are the installation's (one queue, whichever source a chunk is of).
 */
export async function sampleRuns(from: RunSources, runs: readonly (string | null)[], now = Date.now()): Promise<RunSample[]> {
  const none: RunCounters = { total: 0, done: 0, failed: 0, values: 0, retried: 0, planned: false, exists: false };
  const [workers, counts, ...read] = await Promise.all([
    from.workers.list(),
    from.queue.getJobCounts(...JOB_STATES.inFlight),
    ...runs.map((run) =>
      run === null
        ? Promise.resolve([none, {}] as const)
        : Promise.all([from.runs.counters(run), from.runs.measurementsLeft(run)] as const),
    ),
  ]);
  const queued = JOB_STATES.queued.reduce((n, state) => n + (counts[state] ?? 0), 0);
  return read.map(([c, left], i) => {
    const block = metricsBlock(c.runId ?? runs[i] ?? null, c, left, { workers, active: counts.active ?? 0, queued }, now);
    const duration = c.startedAt === undefined ? 0 : ((c.finishedAt ?? now) - c.startedAt) / 1000;
    return { block, duration, attempts: c.done + c.failed + c.retried, counters: c };
  });
}
