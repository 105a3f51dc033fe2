import { createHash } from 'node:crypto';

/**
 * Queue names, job names and job ids live here and nowhere else. BullMQ joins
 * its keys with ':', so neither a queue name nor a job id may hold one.
 */
export const QUEUE_COPY = 'copy';
export const QUEUE_SCHEDULE = 'schedule';

export const JOB_COPY = 'copy-chunk';
export const JOB_BACKFILL = 'backfill-chunk';
export const JOB_RESTORE = 'restore-chunk';
export const JOB_REPAIR = 'repair-chunk';
export const JOB_SCHEDULED_PLAN = 'scheduled-plan';

/**
 * A run's kind: copy, backfill and repair read the source and write the backup; restore goes the other way. A
 * repair copies again the chunks where the backup was found to lack or differ from the source (verify --repair).
 */
export type CopyKind = 'copy' | 'backfill' | 'restore' | 'repair';

const KIND_LETTER: Readonly<Record<CopyKind, string>> = { copy: 'c', backfill: 'b', restore: 'x', repair: 'p' };
const JOB_NAMES: Readonly<Record<CopyKind, string>> = { copy: JOB_COPY, backfill: JOB_BACKFILL, restore: JOB_RESTORE, repair: JOB_REPAIR };

/**
 * The identity of one field's checkpoint: one per (source server, database,
 * measurement, field, retention policy). JSON keeps it unambiguous whatever the
 * names hold. Without a policy it is the form checkpoints had before policies were
 * copied one by one; the planner adopts such a checkpoint as the default
 * policy's (CheckpointStore.adopt).
 */
export function fieldId(sourceEndpoint: string, sourceDb: string, measurement: string, field: string, retentionPolicy?: string): string {
  const id = [sourceEndpoint, sourceDb, measurement, field];
  return JSON.stringify(retentionPolicy === undefined ? id : [...id, retentionPolicy]);
}

/** What a field id (fieldId) names; '?' where an id of another shape has nothing. */
export interface FieldIdParts {
  /** host:port of the source server. */
  source: string;
  database: string;
  measurement: string;
  field: string;
  /** Absent in an id saved before policies were copied one by one. */
  retentionPolicy?: string;
}

/** The parts of a field id made by fieldId. */
export function parseFieldId(fid: string): FieldIdParts {
  const [source = '?', database = '?', measurement = '?', field = '?', retentionPolicy] = JSON.parse(fid) as string[];
  return { source, database, measurement, field, ...(retentionPolicy === undefined ? {} : { retentionPolicy }) };
}

/**
 * A field's identity in a restore: where it is read and the database it is
 * written into, so restores into different databases never share a chunk's
 * claim, and none shares one with a backup. It names no checkpoint: a restore
 * moves none.
 */
export function restoreFieldId(
  readEndpoint: string,
  readDb: string,
  measurement: string,
  field: string,
  retentionPolicy: string | undefined,
  writeDb: string,
): string {
  return JSON.stringify(['restore', readEndpoint, readDb, measurement, field, retentionPolicy ?? null, writeDb]);
}

export function shortHash(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

/**
 * A chunk's identity: the same field and range always get the same one. While a
 * job of the chunk is in flight, the run that queued it holds a claim on it
 * (RunLedger.claimChunks), so planning the same range again, or two planners at
 * once, enqueue it once; the claim goes when the job finishes for good, so a
 * finished chunk planned again is copied again.
 */
export function chunkDedupeId(kind: CopyKind, fid: string | readonly string[], startNs: bigint, endNs: bigint): string {
  // A group's identity is its fields' ids together; a group of one is the field's own.
  const who = typeof fid === 'string' ? fid : fid.length === 1 ? fid[0]! : JSON.stringify(fid);
  return `${KIND_LETTER[kind]}${shortHash(`${who}|${startNs}|${endNs}`)}`;
}

/**
 * The name of a copy job: the kind's, then the source's name for a source of
 * databases.sources; for a group job then the measurement and its fields, so
 * Bull Board shows what it holds (cut at about 200 characters; the run record
 * names every field).
 */
export function chunkJobName(kind: CopyKind, group?: { measurement: string; fields: readonly string[] }, source?: string): string {
  const base = `${JOB_NAMES[kind]}${source === undefined ? '' : ` ${source}`}`;
  if (!group || group.fields.length < 2) return base;
  let name = `${base} ${group.measurement}: `;
  for (let n = 0; n < group.fields.length; n++) {
    const next = `${n === 0 ? '' : ', '}${group.fields[n]!}`;
    if (name.length + next.length > 200) return `${name} and ${group.fields.length - n} more`;
    name += next;
  }
  return name;
}

/**
 * A run's short key (a letter + 8 base-36 digits): its records in Redis and its
 * jobs' ids start with it. Short because a job id is stored in every job's
 * options. A restore's key starts with x, not r: a worker of a version before
 * restore existed takes only r-ids for its own and fails any other job at once
 * ("not made by this version's planner") without touching a server, where it
 * would otherwise copy a restore's chunk the backup's way round.
 */
export function runKey(runId: string, kind: CopyKind = 'copy'): string {
  return `${kind === 'restore' ? 'x' : 'r'}${Number.parseInt(shortHash(runId).slice(0, 10), 16).toString(36).padStart(8, '0')}`;
}

/** Whether a run key (runKey) is a restore's. */
export function isRestoreRun(run: string): boolean {
  return run.startsWith('x');
}

/**
 * A job's id: its run and its position in the run (base 36). Never reused, so a
 * finished job kept for Bull Board never makes a new add a no-op; deterministic,
 * so a claim names exactly the job to follow.
 */
export function chunkJobId(run: string, seq: number): string {
  return `${run}.${seq.toString(36)}`;
}

/** The run key and position in a job id made by chunkJobId; undefined for any other id. */
export function parseChunkJobId(id: string): { run: string; seq: number } | undefined {
  const m = /^([rx][0-9a-z]{8})\.([0-9a-z]+)$/.exec(id);
  return m ? { run: m[1]!, seq: parseInt(m[2]!, 36) } : undefined;
}

/** One field's plan within a run: the progress record its low watermark lives in. */
export function fieldPlanKey(run: string, fieldSeq: number): string {
  return `${run}.${fieldSeq}`;
}

export function assertNoColon(what: string, value: string): string {
  if (value.includes(':')) throw new Error(`${what} ${JSON.stringify(value)} must not contain ':'`);
  return value;
}
