import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CopyChunkPayload, CopyChunkResultPayload } from './catalog.js';

export interface JobFailure {
  jobId: string;
  measurement: string;
  field: string;
  startNs: string;
  endNs: string;
  reason: string;
}

export interface TrackSnapshot {
  total: number;
  completed: number;
  failed: number;
  /** Values of completed jobs plus what running jobs reported so far. */
  values: number;
}

export interface TrackResult extends TrackSnapshot {
  failures: JobFailure[];
}

/**
 * Follows exactly the given jobs until each has finished for good (completed, or
 * failed with no attempts left), whatever worker runs them. It reads the job
 * hashes in one pipeline per round rather than listening to events, so it keeps
 * counting right across a Redis restart or a dropped event.
 */
export async function waitForJobs(
  queue: Queue,
  redis: Redis,
  jobIds: readonly string[],
  { onUpdate, pollMs = 100, signal }: { onUpdate?: (s: TrackSnapshot) => void; pollMs?: number; signal?: AbortSignal } = {},
): Promise<TrackResult> {
  const pending = new Set(jobIds);
  const failures: JobFailure[] = [];
  let completed = 0;
  let doneValues = 0;
  const running = new Map<string, number>();
  const result = (): TrackResult => {
    let values = doneValues;
    for (const v of running.values()) values += v;
    return { total: jobIds.length, completed, failed: failures.length, values, failures };
  };

  while (pending.size > 0) {
    signal?.throwIfAborted();
    const ids = [...pending];
    const pipe = redis.pipeline();
    for (const id of ids) pipe.hmget(queue.toKey(id), 'finishedOn', 'returnvalue', 'failedReason', 'progress', 'data');
    const replies = (await pipe.exec()) ?? [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const [err, fields] = replies[i] ?? [null, null];
      if (err) continue;
      const [finishedOn, returnvalue, failedReason, progress, data] = (fields as (string | null)[]) ?? [];
      if (data === null || data === undefined) {
        pending.delete(id);
        running.delete(id);
        failures.push({ jobId: id, measurement: '?', field: '?', startNs: '?', endNs: '?', reason: 'the job is gone from Redis (removed, or Redis lost its data)' });
        continue;
      }
      if (!finishedOn) {
        if (progress) {
          const values = (JSON.parse(progress) as { values?: number }).values;
          if (typeof values === 'number') running.set(id, values);
        }
        continue;
      }
      pending.delete(id);
      running.delete(id);
      // A job that failed an attempt and then succeeded keeps the old failedReason;
      // only a return value tells a completed job from one that failed for good.
      if (returnvalue !== null && returnvalue !== undefined && returnvalue !== 'null') {
        completed++;
        doneValues += (JSON.parse(returnvalue) as CopyChunkResultPayload).values ?? 0;
      } else {
        const d = JSON.parse(data) as CopyChunkPayload;
        failures.push({
          jobId: id,
          measurement: d.measurement,
          field: d.field,
          startNs: d.startNs,
          endNs: d.endNs,
          reason: failedReason ?? 'failed without a reason',
        });
      }
    }
    onUpdate?.(result());
    if (pending.size > 0) await new Promise((r) => setTimeout(r, Math.max(pollMs, Math.floor(pending.size / 20))));
  }
  return result();
}
