// How Bull Board shows our jobs: a chunk's field and RFC 3339 range instead of a compact payload of base-36
// numbers. Only the view changes; Redis keeps the payloads as they are, and job ids stay what they are.

import type { Job, Queue } from 'bullmq';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { formatTimeNs } from '@influx-backup/config';
import {
  chunkRange,
  QUEUE_COPY,
  QUEUE_SCHEDULE,
  type ChunkJob,
  type CopyChunkPayload,
  type CopyChunkResultPayload,
  type JobDescriber,
  type ScheduledPlanPayload,
} from '@influx-backup/queue';

/**
 * What each queue is for, under its name (cut after about 100 characters, so what explains the "No workers"
 * badge comes first): the schedule queue's workers are planners, and none is needed without schedules.
 */
export const QUEUE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [QUEUE_COPY]:
    'Served by influx-backup worker processes (and run): "No workers" means none is running. ' +
    'One job per time chunk of a field (or of processing.fields_per_job fields): copy-chunk (planned), backfill-chunk (ad hoc), ' +
    'restore-chunk (backup to source).',
  [QUEUE_SCHEDULE]:
    'Served by influx-backup planner: "No workers" means no planner runs, as expected without scheduler.jobs. ' +
    'One scheduled-plan job per cron tick.',
};

/** A base-36 range of a payload in RFC 3339, or nothing when the payload holds none. */
function range(d: Partial<CopyChunkPayload> | undefined): { from: string; to: string } | undefined {
  if (typeof d?.s !== 'string' || typeof d.d !== 'string') return undefined;
  try {
    const { startNs, endNs } = chunkRange({ s: d.s, d: d.d });
    return { from: formatTimeNs(startNs), to: formatTimeNs(endNs) };
  } catch {
    return undefined;
  }
}

function scheduleName(job: { name?: string; data?: Partial<ScheduledPlanPayload> }): string {
  const d = job.data ?? {};
  return `${job.name ?? ''}${d.scheduleId ? ` ${d.scheduleId} (${d.full ? 'full' : 'incremental'})` : ''}`;
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
      const r = range(job.data);
      const first = plan?.fields[0];
      const policy = first?.retentionPolicy === undefined ? '' : ` in ${first.retentionPolicy}`;
      // A group job's name already lists its measurement and fields.
      const group = Array.isArray(job.data?.f) && job.data.f.length > 0;
      // A restore names the database it writes, since it may be another than the source's (--target-db).
      const into = plan?.run.reads === 'backup' ? ` into ${plan.run.backupDb}` : '';
      const what = first ? (group ? policy : ` ${first.measurement}.${first.field}${policy}`) + into : '';
      return `${job.name ?? ''}${what}${r ? ` ${r.from} .. ${r.to}` : ''}`;
    });
    // The readable keys first, then the payload unchanged (Bull Board's "update data" edits what it shows).
    this.setFormatter('data', (d: Partial<CopyChunkPayload> | undefined) => {
      if (d === null || typeof d !== 'object') return d;
      const plan = this.planOf.get(d);
      const f = plan?.fields[0];
      const others = Array.isArray(d.f) ? d.f.length / 2 : 0;
      const copies = f
        ? `${f.measurement}.${f.field}${others > 0 ? ` and ${others} more ${others === 1 ? 'field' : 'fields'} (named in the job's name)` : ''}`
        : '';
      const restore = plan?.run.reads === 'backup';
      const readable = f
        ? {
            [restore ? 'restores' : 'copies']: copies,
            ...(restore ? { reads: `${plan.run.sourceDb} on the backup server`, writes: `${plan.run.backupDb} on the source server` } : {}),
            policy: f.retentionPolicy,
            type: f.type,
            run: plan?.run.runId,
          }
        : {};
      return { ...readable, ...range(d), ...d };
    });
    this.setFormatter('returnValue', (r: Partial<CopyChunkResultPayload> | undefined | null) => {
      if (r === null || typeof r !== 'object') return r;
      return { values: r.values, batches: r.batches, last: typeof r.lastTimeNs === 'string' ? formatTimeNs(BigInt(r.lastTimeNs)) : null };
    });
  }

  override async getJobs(...args: Parameters<BullMQAdapter['getJobs']>): Promise<Job[]> {
    const jobs = await super.getJobs(...args);
    await this.readPlans(jobs);
    return jobs;
  }

  override async getJob(id: string): Promise<Job | undefined> {
    const job = await super.getJob(id);
    if (job) await this.readPlans([job]);
    return job;
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

/** Bull Board's adapter of one of our queues: its description, and formatters that make its jobs readable. */
export function queueAdapter(queue: Queue, describer: JobDescriber | undefined, readOnlyMode: boolean): BullMQAdapter {
  const description = QUEUE_DESCRIPTIONS[queue.name] ?? '';
  if (queue.name === QUEUE_COPY) return new CopyQueueAdapter(queue, describer, { readOnlyMode, description });
  const adapter = new BullMQAdapter(queue, { readOnlyMode, description });
  if (queue.name === QUEUE_SCHEDULE) adapter.setFormatter('name', scheduleName);
  return adapter;
}
