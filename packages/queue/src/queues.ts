import { Queue, type ConnectionOptions } from 'bullmq';
import type { CopyChunkPayload, CopyChunkResultPayload, ScheduledPlanPayload, ScheduledPlanResult } from './catalog.js';
import { QUEUE_COPY, QUEUE_SCHEDULE } from './names.js';
import type { JobsGone } from './store/index.js';

/** The copy queue: copy, backfill, restore and repair chunks (JOBS), their names carrying what they copy. */
export type CopyQueue = Queue<CopyChunkPayload, CopyChunkResultPayload, string>;
/**
 * The schedule queue: one scheduled-plan job per cron tick. Its name type is string
 * because BullMQ types a job scheduler's id (the schedule's id) as a job name.
 */
export type ScheduleQueue = Queue<ScheduledPlanPayload, ScheduledPlanResult, string>;

export interface Queues {
  readonly copy: CopyQueue;
  readonly schedule: ScheduleQueue;
  close(): Promise<void>;
}

/**
 * The queues of the job catalog, typed by it. Their errors are left to the
 * connection's own listener (see createRuntime), which reports each once: without a
 * listener here, BullMQ prints every reconnect attempt of every queue.
 */
export function createQueues(connection: ConnectionOptions, prefix: string): Queues {
  const copy: CopyQueue = new Queue(QUEUE_COPY, { connection, prefix });
  const schedule: ScheduleQueue = new Queue(QUEUE_SCHEDULE, { connection, prefix });
  copy.on('error', () => undefined);
  schedule.on('error', () => undefined);
  return {
    copy,
    schedule,
    async close() {
      await Promise.allSettled([copy.close(), schedule.close()]);
    },
  };
}

/**
 * Which of these jobs are gone from the copy queue, by BullMQ's own account
 * (getJobState: 'unknown'): removed by hand in Bull Board, or the queue obliterated.
 */
export function jobsGone(queue: CopyQueue): JobsGone {
  return async (ids) => {
    const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
    return new Set(ids.filter((_, n) => states[n] === 'unknown'));
  };
}
