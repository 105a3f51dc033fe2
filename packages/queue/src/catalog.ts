import { backoffDelay, type FieldType } from '@influx-backup/influx';
import { JOB_BACKFILL, JOB_COPY, JOB_REPAIR, JOB_RESTORE, JOB_SCHEDULED_PLAN, QUEUE_COPY, QUEUE_SCHEDULE, type CopyKind } from './names.js';

/**
 * Payload of a copy job: one chunk of one field. Kept small, since a plan may
 * hold a million of them: what the run and the field share (databases, names,
 * type, checkpoint key) is stored once per run (see StateStore.runPlan) and
 * found through the job id's run key and `k`. Redis keeps a hash compact only
 * while each value is at most 64 bytes, so the times are base 36: `s` the start
 * in ns, `d` the end minus the start (chunkPayload, chunkRange).
 */
export interface CopyChunkPayload {
  /** The field's position in its run. */
  k: number;
  /** The chunk's position in its field plan. */
  i: number;
  s: string;
  d: string;
  /**
   * The further fields of a group job (processing.fields_per_job), as pairs of
   * field position and chunk position, flat: [k2, i2, k3, i3, ...]. Absent on a
   * job of one field.
   */
  f?: number[];
}

/** A field of a job: its position in the run and the chunk's position in that field's plan. */
export interface JobField {
  k: number;
  i: number;
}

export function chunkPayload(fields: readonly JobField[], startNs: bigint, endNs: bigint): CopyChunkPayload {
  const [first, ...more] = fields;
  if (!first) throw new RangeError('a chunk job needs at least one field');
  const p: CopyChunkPayload = { k: first.k, i: first.i, s: startNs.toString(36), d: (endNs - startNs).toString(36) };
  if (more.length > 0) p.f = more.flatMap((x) => [x.k, x.i]);
  return p;
}

/** Every field a job copies, the first one first. */
export function jobFields(p: Pick<CopyChunkPayload, 'k' | 'i' | 'f'>): JobField[] {
  const out = [{ k: p.k, i: p.i }];
  for (let n = 0; n + 1 < (p.f?.length ?? 0); n += 2) out.push({ k: p.f![n]!, i: p.f![n + 1]! });
  return out;
}

export function chunkRange(p: Pick<CopyChunkPayload, 's' | 'd'>): { startNs: bigint; endNs: bigint } {
  const startNs = parseBase36(p.s);
  return { startNs, endNs: startNs + parseBase36(p.d) };
}

function parseBase36(text: string): bigint {
  const negative = text.startsWith('-');
  let v = 0n;
  for (const ch of negative ? text.slice(1) : text) {
    const digit = parseInt(ch, 36);
    if (Number.isNaN(digit)) throw new RangeError(`not a base-36 number: ${JSON.stringify(text)}`);
    v = v * 36n + BigInt(digit);
  }
  return negative ? -v : v;
}

/**
 * What a run shares with all its jobs, stored once per run. `sourceDb` and
 * `backupDb` are named as the copy engine names its ends: the database read and
 * the database written. Which server each lives on is `reads`, so any worker
 * copies a job the right way round (see runServers).
 */
export interface RunMeta {
  runId: string;
  kind: CopyKind;
  /** The name of its source in databases.sources; absent: the single databases.source. */
  source?: string;
  /** The database read. */
  sourceDb: string;
  /** The database written. */
  backupDb: string;
  /** The server read: 'backup' for a restore (which writes the source server); absent, the source (which writes the backup). */
  reads?: 'backup';
}

/** What a field plan shares with all its chunks, stored once per field and run. */
export interface FieldPlanMeta {
  fieldId: string;
  measurement: string;
  field: string;
  type: FieldType;
  /** Read from and written into the policy of this name; absent: each server's default. */
  retentionPolicy?: string;
  /** Whether finishing these chunks may move the field's checkpoint (progress record fieldPlanKey(run, k)). */
  advances: boolean;
}

/** A chunk job's progress (Bull Board's Progress tab): the values the backup acknowledged so far, in how many batches. */
export interface ChunkProgress {
  values: number;
  batches: number;
}

export interface CopyChunkResultPayload {
  values: number;
  batches: number;
  lastTimeNs: string | null;
  /** A group job that failed for good and was split: the ids of its per-field jobs. */
  splitInto?: string[];
}

export interface ScheduledPlanPayload {
  scheduleId: string;
  full: boolean;
  /** A repair pass (verify --repair) instead of a copy; absent in a schedule set by a version before repair. */
  repair?: boolean;
  /** A repair pass of the newest part of the range only (scheduler.jobs[].window), in ms. */
  windowMs?: number;
}

/** What a scheduled tick planned, across its sources. */
export interface ScheduledPlanResult {
  runId: string;
  expectedValues: number;
  jobs: number;
}

/**
 * Every job the system knows, declared once: its queue, its name, and (through
 * JobTypes) its payload and result. The queues of createQueues are typed by it, so a
 * payload of the wrong shape does not compile. A copy job's name carries more after
 * its kind's (the source, a group's fields: chunkJobName).
 */
export const JOBS = {
  copy: { queue: QUEUE_COPY, name: JOB_COPY },
  backfill: { queue: QUEUE_COPY, name: JOB_BACKFILL },
  restore: { queue: QUEUE_COPY, name: JOB_RESTORE },
  repair: { queue: QUEUE_COPY, name: JOB_REPAIR },
  scheduledPlan: { queue: QUEUE_SCHEDULE, name: JOB_SCHEDULED_PLAN },
} as const;

export interface JobTypes {
  copy: { payload: CopyChunkPayload; result: CopyChunkResultPayload };
  backfill: { payload: CopyChunkPayload; result: CopyChunkResultPayload };
  restore: { payload: CopyChunkPayload; result: CopyChunkResultPayload };
  repair: { payload: CopyChunkPayload; result: CopyChunkResultPayload };
  scheduledPlan: { payload: ScheduledPlanPayload; result: ScheduledPlanResult };
}

/**
 * Job states, each set written once. `queued`: waiting to be taken; `inFlight`: not
 * finished (queued or being copied); `all`: every state a count is shown for.
 */
export const JOB_STATES = {
  queued: ['waiting', 'prioritized', 'delayed', 'paused', 'waiting-children'],
  inFlight: ['active', 'waiting', 'prioritized', 'delayed', 'paused', 'waiting-children'],
  all: ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'paused', 'waiting-children'],
} as const satisfies Record<string, readonly JobState[]>;

/** The states BullMQ counts jobs in (Queue.getJobCounts). */
export type JobState = 'waiting' | 'active' | 'delayed' | 'prioritized' | 'completed' | 'failed' | 'paused' | 'waiting-children';

export interface RetryPolicy {
  maxAttempts: number;
  backoffFactor: number;
  maxBackoffMs: number;
}

/** Name of the custom backoff that applies `backup.retry`. */
export const BACKOFF_TYPE = 'ib';
const FIRST_DELAY_MS = 1_000;

/** Delay before the next attempt after `attemptsMade` failures: 1 s × factor^(n-1), capped. */
export function retryDelay(policy: RetryPolicy, attemptsMade: number): number {
  return backoffDelay({ baseMs: FIRST_DELAY_MS, factor: policy.backoffFactor, maxMs: policy.maxBackoffMs }, attemptsMade);
}

export function copyJobOptions(policy: RetryPolicy): {
  attempts: number;
  backoff: { type: string };
} {
  // What every job must carry only: options live in each job's hash (compact
  // while at most 64 bytes), and a plan may hold a million jobs. How long
  // finished jobs are kept is the worker's (FINISHED_JOBS_KEPT).
  return { attempts: policy.maxAttempts, backoff: { type: BACKOFF_TYPE } };
}

/** A scheduled tick's options: a tick that failed is tried again twice, 5 s then 10 s later. */
export const SCHEDULED_PLAN_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { count: 200 },
  removeOnFail: { count: 200 },
} as const;

/** Finished copy jobs kept a day for status and Bull Board; correctness never depends on them. */
export const FINISHED_JOBS_KEPT = {
  removeOnComplete: { age: 24 * 3600, count: 20_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;
