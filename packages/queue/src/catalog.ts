import { backoffDelay, type FieldType } from '@influx-backup/influx';
import { JOB_BACKFILL, JOB_COPY, JOB_SCHEDULED_PLAN, QUEUE_COPY, QUEUE_SCHEDULE } from './names.js';

/** Payload of a copy job: one field of one measurement over one chunk. Times are ns as decimal strings. */
export interface CopyChunkPayload {
  kind: 'copy' | 'backfill';
  fieldId: string;
  /** Progress record of the field plan this chunk belongs to; absent for backfills. */
  planKey?: string;
  index: number;
  chunks: number;
  sourceDb: string;
  backupDb: string;
  measurement: string;
  field: string;
  type: FieldType;
  startNs: string;
  endNs: string;
  expected: number;
  /** The run (plan, backfill, schedule tick) that asked for it. */
  runId: string;
}

export interface CopyChunkResultPayload {
  values: number;
  batches: number;
  lastTimeNs: string | null;
}

export interface ScheduledPlanPayload {
  scheduleId: string;
  full: boolean;
}

/** Every job the system knows: its queue, name and payload type in one place. */
export const JOBS = {
  copy: { queue: QUEUE_COPY, name: JOB_COPY },
  backfill: { queue: QUEUE_COPY, name: JOB_BACKFILL },
  scheduledPlan: { queue: QUEUE_SCHEDULE, name: JOB_SCHEDULED_PLAN },
} as const;

export interface JobPayloads {
  copy: CopyChunkPayload;
  backfill: CopyChunkPayload;
  scheduledPlan: ScheduledPlanPayload;
}

export interface RetryPolicy {
  maxAttempts: number;
  backoffFactor: number;
  maxBackoffMs: number;
}

/** Name of the custom backoff that applies `backup.retry`. */
export const BACKOFF_TYPE = 'influx-backup';
const FIRST_DELAY_MS = 1_000;

/** Delay before the next attempt after `attemptsMade` failures: 1 s × factor^(n-1), capped. */
export function retryDelay(policy: RetryPolicy, attemptsMade: number): number {
  return backoffDelay({ baseMs: FIRST_DELAY_MS, factor: policy.backoffFactor, maxMs: policy.maxBackoffMs }, attemptsMade);
}

export function copyJobOptions(policy: RetryPolicy): {
  attempts: number;
  backoff: { type: string };
  removeOnComplete: { age: number; count: number };
  removeOnFail: { age: number };
} {
  return {
    attempts: policy.maxAttempts,
    backoff: { type: BACKOFF_TYPE },
    // Kept a day for status and Bull Board; correctness never depends on them.
    removeOnComplete: { age: 24 * 3600, count: 20_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
