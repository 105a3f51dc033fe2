import { createHash } from 'node:crypto';

/**
 * Queue names, job names and job ids live here and nowhere else. BullMQ joins
 * its keys with ':', so neither a queue name nor a job id may hold one.
 */
export const QUEUE_COPY = 'copy';
export const QUEUE_SCHEDULE = 'schedule';

export const JOB_COPY = 'copy-chunk';
export const JOB_BACKFILL = 'backfill-chunk';
export const JOB_SCHEDULED_PLAN = 'scheduled-plan';

export type CopyKind = 'copy' | 'backfill';

/**
 * The identity of one field's checkpoint: one per (source server, database,
 * measurement, field). JSON keeps it unambiguous whatever the names hold.
 */
export function fieldId(sourceEndpoint: string, sourceDb: string, measurement: string, field: string): string {
  return JSON.stringify([sourceEndpoint, sourceDb, measurement, field]);
}

export function shortHash(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

/** Deterministic: the same field and range always get the same id, so planning twice enqueues once. */
export function chunkJobId(kind: CopyKind, fid: string, startNs: bigint, endNs: bigint): string {
  return `${kind === 'copy' ? 'c' : 'b'}_${shortHash(fid)}_${startNs}_${endNs}`;
}

/**
 * One plan of one field. Progress is recorded by chunk position, so the key covers
 * the chunk list itself: planners that plan the same chunks share one record, and
 * a plan of the same range whose chunks changed (data deleted or added since)
 * starts a record of its own instead of inheriting marks for other chunks.
 */
export function fieldPlanKey(fid: string, chunks: readonly { startNs: bigint; endNs: bigint }[]): string {
  const h = createHash('sha1').update(fid);
  for (const c of chunks) h.update(`|${c.startNs}|${c.endNs}`);
  return h.digest('hex').slice(0, 16);
}

export function assertNoColon(what: string, value: string): string {
  if (value.includes(':')) throw new Error(`${what} ${JSON.stringify(value)} must not contain ':'`);
  return value;
}
