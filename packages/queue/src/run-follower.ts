import { isRestoreRun } from './names.js';
import { JOB_STATES } from './catalog.js';
import type { CopyQueue } from './queues.js';
import type { ChunkFailure, RunCounters, RunLedger } from './store/index.js';

export interface RunSnapshot {
  total: number;
  completed: number;
  failed: number;
  /** Values of the chunks finished so far. */
  values: number;
  /** When its first chunk began, and when its last one finished (ms; see RunCounters). */
  copyingAt?: number;
  finishedAt?: number;
}

export interface RunResult extends RunSnapshot {
  /** The newest failures (at most 20); `failed` counts them all. */
  failures: ChunkFailure[];
}

export interface FollowOptions {
  onUpdate?: (s: RunSnapshot) => void;
  pollMs?: number;
  signal?: AbortSignal;
  /**
   * With no progress for this long, ask the queue whether anything is left in
   * flight at all; if nothing is, the run's missing chunks are gone (removed, or
   * Redis lost its data) and are reported as failed instead of waited for.
   */
  idleMs?: number;
}

/**
 * Follows a run until every chunk it planned has finished for good, whatever
 * worker ran it. It reads the run's counters, which workers update atomically as
 * chunks finish: one small read per poll however many chunks the run has, right
 * when finished jobs are removed, and across a Redis restart that keeps its data.
 */
export async function followRun(queue: CopyQueue, runs: RunLedger, run: string, opts: FollowOptions = {}): Promise<RunResult> {
  const { onUpdate, pollMs = 200, signal, idleMs = 5_000 } = opts;
  let last: RunCounters | undefined;
  let lastChange = Date.now();
  for (;;) {
    signal?.throwIfAborted();
    let c: RunCounters;
    try {
      // While Redis is away the read waits for it to come back: a Ctrl-C must not wait too.
      c = await abortable(runs.counters(run), signal);
    } catch (err) {
      // Redis away: ioredis reconnects; keep waiting unless asked to stop.
      if (signal?.aborted) throw err;
      await sleep(pollMs, signal);
      continue;
    }
    const snap: RunSnapshot = {
      total: c.total,
      completed: c.done,
      failed: c.failed,
      values: c.values,
      ...(c.copyingAt === undefined ? {} : { copyingAt: c.copyingAt }),
      ...(c.finishedAt === undefined ? {} : { finishedAt: c.finishedAt }),
    };
    if (!last || c.done !== last.done || c.failed !== last.failed || c.total !== last.total || c.planned !== last.planned)
      lastChange = Date.now();
    last = c;
    onUpdate?.(snap);
    if (c.planned && c.done + c.failed >= c.total) return { ...snap, failures: await runs.failures(run) };
    if (Date.now() - lastChange >= idleMs) {
      const counts = await queue.getJobCounts(...JOB_STATES.inFlight).catch(() => undefined);
      if (counts && Object.values(counts).every((n) => n === 0)) {
        // Nothing is in flight anywhere, so no worker will count the rest: say so.
        const again = await runs.counters(run);
        const missing = Math.max(0, again.total - again.done - again.failed);
        if (again.done + again.failed === last.done + last.failed) {
          const failures = await runs.failures(run);
          const reason = again.exists
            ? `${missing} chunks are gone from the queue (removed${isRestoreRun(run) ? ', refused by a worker older than restore' : ''}, or Redis lost its data)`
            : 'the run is gone from Redis (its record expired, or Redis lost its data)';
          return {
            total: again.total,
            completed: again.done,
            failed: again.failed + (again.exists ? missing : Math.max(1, missing)),
            values: again.values,
            failures: [{ reason }, ...failures],
          };
        }
      }
      lastChange = Date.now();
    }
    await sleep(pollMs, signal);
  }
}

/** `p`, or a rejection as soon as `signal` is aborted, whichever comes first. */
function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error(`stopped: ${String(signal.reason)}`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
