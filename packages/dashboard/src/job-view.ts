// How Bull Board shows our jobs: a chunk's field and RFC 3339 range in readable names instead of a compact payload of
// base-36 numbers, its whole count as its progress once it finished, its retry policy by name. Only the view changes:
// Redis keeps the payloads as they are (a plan may hold a million), and what Bull Board sends back (update data,
// duplicate) is turned into a payload again.

import type { Job, Queue } from 'bullmq';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { formatTimeNs, parseTime } from '@influx-backup/config';
import {
  BACKOFF_TYPE,
  chunkPayload,
  chunkRange,
  jobFields,
  QUEUE_COPY,
  QUEUE_SCHEDULE,
  type ChunkJob,
  type ChunkProgress,
  type CopyChunkPayload,
  type CopyChunkResultPayload,
  type JobDescriber,
  type ScheduledPlanPayload,
} from '@influx-backup/queue';

/**
 * What each queue is for, in a line short enough for the queue's card (Bull Board cuts longer ones with "…"). The
 * schedule queue's says whether a planner is needed at all: its workers are planners, and without scheduler.jobs
 * none is.
 */
export function queueDescription(queue: string, schedules: number | undefined): string {
  if (queue === QUEUE_COPY) return 'Chunk jobs (copy, backfill, restore), copied by influx-backup worker processes.';
  if (queue !== QUEUE_SCHEDULE) return '';
  if (schedules === 0) return 'Cron ticks of scheduler.jobs: none configured, so no planner is needed.';
  const n = schedules === undefined ? 'the' : `${schedules}`;
  return `Cron ticks of ${n} scheduler.jobs, planned by influx-backup planner: "No workers" = none runs.`;
}

/** What a chunk job's payload reads as, key by key: the view's names for `k`, `i`, `s`, `d` and `f`. */
export interface ChunkPayloadView {
  /** The range copied, RFC 3339 (`s`, and `s` + `d`). */
  from: string;
  to: string;
  /** The field's position in its run (`k`) and the chunk's in that field's plan (`i`). */
  fieldNumber: number;
  chunkNumber: number;
  /** A group job's further fields (`f`). */
  moreFields?: { fieldNumber: number; chunkNumber: number }[];
}

function payloadView(d: Partial<CopyChunkPayload>): ChunkPayloadView | undefined {
  if (typeof d.k !== 'number' || typeof d.i !== 'number' || typeof d.s !== 'string' || typeof d.d !== 'string') return undefined;
  let range: { startNs: bigint; endNs: bigint };
  try {
    range = chunkRange({ s: d.s, d: d.d });
  } catch {
    return undefined;
  }
  const [, ...more] = jobFields({ k: d.k, i: d.i, ...(Array.isArray(d.f) ? { f: d.f } : {}) });
  return {
    from: formatTimeNs(range.startNs),
    to: formatTimeNs(range.endNs),
    fieldNumber: d.k,
    chunkNumber: d.i,
    ...(more.length > 0 ? { moreFields: more.map((x) => ({ fieldNumber: x.k, chunkNumber: x.i })) } : {}),
  };
}

/**
 * The payload a view stands for: what Bull Board sends back when data is updated or a job duplicated. A payload
 * given as it is in Redis passes unchanged; anything else is an error naming what is missing.
 */
export function payloadOfView(v: unknown): CopyChunkPayload {
  const o = (v ?? {}) as Partial<ChunkPayloadView & CopyChunkPayload>;
  if (typeof o.k === 'number' && typeof o.i === 'number' && typeof o.s === 'string' && typeof o.d === 'string') {
    return { k: o.k, i: o.i, s: o.s, d: o.d, ...(Array.isArray(o.f) ? { f: o.f } : {}) };
  }
  if (typeof o.fieldNumber !== 'number' || typeof o.chunkNumber !== 'number' || typeof o.from !== 'string' || typeof o.to !== 'string') {
    throw new Error('a chunk job needs fieldNumber, chunkNumber, from and to (RFC 3339)');
  }
  const more = (o.moreFields ?? []).map((x) => ({ k: x.fieldNumber, i: x.chunkNumber }));
  return chunkPayload([{ k: o.fieldNumber, i: o.chunkNumber }, ...more], parseTime(o.from), parseTime(o.to));
}

function scheduleName(job: { name?: string; data?: Partial<ScheduledPlanPayload> }): string {
  const d = job.data ?? {};
  return `${job.name ?? ''}${d.scheduleId ? ` ${d.scheduleId} (${d.full ? 'full' : 'incremental'})` : ''}`;
}

/** What `backup.retry` means, shown beside the short backoff type every job carries. */
const BACKOFF_MEANS = 'backup.retry: 1 s, times backup.retry.backoff_factor after each failed attempt, at most max_backoff';

/**
 * A job as Bull Board serialises it (toJSON), for the view only: a finished chunk's progress is its whole count
 * (its result: a one-batch chunk never reports progress, a report being a round trip), and its backoff says what it
 * is. The job in Redis is not touched.
 */
function viewed(job: Job): Job {
  const json = job.toJSON.bind(job);
  job.toJSON = (): ReturnType<Job['toJSON']> => {
    const j = json();
    const result = j.returnvalue as Partial<CopyChunkResultPayload> | null | undefined;
    const progress: ChunkProgress | undefined =
      j.finishedOn && !j.failedReason && typeof result?.values === 'number'
        ? { values: result.values, batches: result.batches ?? 0 }
        : j.processedOn && typeof j.progress === 'number' && !j.finishedOn
          ? { values: 0, batches: 0 }
          : undefined;
    const backoff = j.opts.backoff;
    const opts =
      typeof backoff === 'object' && backoff.type === BACKOFF_TYPE ? { ...j.opts, backoff: { ...backoff, means: BACKOFF_MEANS } } : j.opts;
    return { ...j, opts, ...(progress ? { progress } : {}) };
  };
  return job;
}

/**
 * Bull Board's adapter of the copy queue, which knows each chunk's field. A payload names its field by its
 * position in the run (the run's plan in Redis has the names), and Bull Board's formatters cannot wait for
 * Redis: the plans of the jobs about to be shown are read when Bull Board reads the jobs, then formatted.
 */
export class CopyQueueAdapter extends BullMQAdapter {
  /** What each job being shown copies, by its payload (the formatters get the payload, not the job). */
  private readonly planOf = new WeakMap<object, ChunkJob>();

  constructor(
    queue: Queue,
    private readonly describer: JobDescriber | undefined,
    options: ConstructorParameters<typeof BullMQAdapter>[1],
  ) {
    super(queue, options);
    this.setFormatter('name', (job: { name?: string; data?: Partial<CopyChunkPayload> }) => {
      const plan = job.data ? this.planOf.get(job.data) : undefined;
      const r = job.data ? payloadView(job.data) : undefined;
      const first = plan?.fields[0];
      const policy = first?.retentionPolicy === undefined ? '' : ` in ${first.retentionPolicy}`;
      // A group job's name already lists its measurement and fields.
      const group = Array.isArray(job.data?.f) && job.data.f.length > 0;
      // A restore names the database it writes, since it may be another than the source's (--target-db).
      const into = plan?.run.reads === 'backup' ? ` into ${plan.run.backupDb}` : '';
      const what = first ? (group ? policy : ` ${first.measurement}.${first.field}${policy}`) + into : '';
      return `${job.name ?? ''}${what}${r ? ` ${r.from} .. ${r.to}` : ''}`;
    });
    // Readable names only: what the job copies (from its run's plan), then its payload key by key (payloadOfView
    // turns what Bull Board sends back into the payload again).
    this.setFormatter('data', (d: Partial<CopyChunkPayload> | undefined) => {
      if (d === null || typeof d !== 'object') return d;
      const view = payloadView(d);
      if (!view) return d;
      const plan = this.planOf.get(d);
      const f = plan?.fields[0];
      const others = view.moreFields?.length ?? 0;
      const copies = f
        ? `${f.measurement}.${f.field}${others > 0 ? ` and ${others} more ${others === 1 ? 'field' : 'fields'} (named in the job's name)` : ''}`
        : undefined;
      const restore = plan?.run.reads === 'backup';
      return {
        ...(copies ? { [restore ? 'restores' : 'copies']: copies } : {}),
        ...(restore ? { reads: `${plan.run.sourceDb} on the backup server`, writes: `${plan.run.backupDb} on the source server` } : {}),
        ...(f ? { policy: f.retentionPolicy ?? '(default)', type: f.type, run: plan.run.runId } : {}),
        ...view,
      };
    });
    this.setFormatter('returnValue', (r: Partial<CopyChunkResultPayload> | undefined | null) => {
      if (r === null || typeof r !== 'object') return r;
      return {
        values: r.values,
        batches: r.batches,
        newest: typeof r.lastTimeNs === 'string' ? formatTimeNs(BigInt(r.lastTimeNs)) : null,
        ...(r.splitInto ? { splitInto: r.splitInto } : {}),
      };
    });
  }

  override async getJobs(...args: Parameters<BullMQAdapter['getJobs']>): Promise<Job[]> {
    const jobs = await super.getJobs(...args);
    await this.readPlans(jobs);
    return jobs.map((j) => (j ? viewed(j) : j));
  }

  override async getJob(id: string): Promise<Job | undefined> {
    const job = await super.getJob(id);
    if (!job) return job;
    await this.readPlans([job]);
    // Bull Board's "update data" sends the view back: Redis gets the payload it stands for.
    const update = job.updateData.bind(job);
    job.updateData = (data: unknown): Promise<void> => update(payloadOfView(data));
    return viewed(job);
  }

  /** Bull Board's "duplicate" and "add" send a view: the job added carries the payload it stands for. */
  override addJob(name: string, data: unknown, options: Parameters<BullMQAdapter['addJob']>[2]): ReturnType<BullMQAdapter['addJob']> {
    return super.addJob(name, payloadOfView(data), options);
  }

  private async readPlans(jobs: readonly (Job | undefined)[]): Promise<void> {
    const describer = this.describer;
    if (!describer) return;
    await Promise.all(
      jobs.map(async (job) => {
        const chunk = job ? await describer.describe(job).catch(() => undefined) : undefined;
        if (job && chunk) this.planOf.set(job.data as object, chunk);
      }),
    );
  }
}

/**
 * The schedule queue's adapter. Without scheduler.jobs no planner is needed, and Bull Board's "No workers" badge
 * would be a false alarm: the workers are then "not known" (no badge); with schedules, a missing planner shows.
 */
class ScheduleQueueAdapter extends BullMQAdapter {
  constructor(
    queue: Queue,
    private readonly schedules: number | undefined,
    options: ConstructorParameters<typeof BullMQAdapter>[1],
  ) {
    super(queue, options);
    this.setFormatter('name', scheduleName);
  }

  override async getWorkers(): ReturnType<BullMQAdapter['getWorkers']> {
    if (this.schedules === 0) return null;
    return super.getWorkers();
  }
}

/** Bull Board's adapter of one of our queues: its description, and formatters that make its jobs readable. */
export function queueAdapter(queue: Queue, describer: JobDescriber | undefined, readOnlyMode: boolean, schedules?: number): BullMQAdapter {
  const description = queueDescription(queue.name, schedules);
  if (queue.name === QUEUE_COPY) return new CopyQueueAdapter(queue, describer, { readOnlyMode, description });
  if (queue.name === QUEUE_SCHEDULE) return new ScheduleQueueAdapter(queue, schedules, { readOnlyMode, description });
  return new BullMQAdapter(queue, { readOnlyMode, description });
}
