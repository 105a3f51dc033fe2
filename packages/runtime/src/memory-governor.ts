import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '@influx-backup/core';

export interface MemoryGovernor {
  stop(): void;
  /** Full collections it asked for so far. */
  readonly collections: number;
}

let gcFn: (() => void) | undefined;

function fullGc(): () => void {
  if (!gcFn) {
    // The documented way to reach V8's gc() from a running process: turn the flag
    // on, then take the function from a fresh context, where it now exists.
    setFlagsFromString('--expose_gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  return gcFn;
}

/**
 * Keeps this process's heap near a budget derived from
 * processing.worker_memory_limit. A copy holds little live data (a piece of
 * rows and two batches per job) but makes a lot of short-lived garbage, and V8
 * lets its old generation grow far past the live data before it collects. A
 * heap cap can only be set when a process starts, so instead a full collection is
 * asked for whenever the heap passes the budget.
 */
export function startMemoryGovernor(
  workerMemoryLimitMb: number,
  logger: Logger,
  { intervalMs = 200 }: { intervalMs?: number } = {},
): MemoryGovernor {
  const budget = Math.max(32, Math.floor(workerMemoryLimitMb / 5)) * 1024 * 1024;
  const gc = fullGc();
  let collections = 0;
  let warnedAt = 0;
  // V8's own count of the heap in use: process.memoryUsage() would also read the RSS from the kernel on every tick.
  const heapUsed = (): number => getHeapStatistics().used_heap_size;
  const timer = setInterval(() => {
    if (heapUsed() <= budget) return;
    gc();
    collections++;
    const live = heapUsed();
    if (live > budget && Date.now() - warnedAt > 60_000) {
      warnedAt = Date.now();
      logger.warn(
        `live heap ${Math.round(live / 1048576)} MB is over the ${Math.round(budget / 1048576)} MB budget of processing.worker_memory_limit; lower processing.max_workers or batch_size, or raise the limit`,
      );
    }
  }, intervalMs);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get collections() {
      return collections;
    },
  };
}
