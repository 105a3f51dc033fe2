// How Bull Board shows our jobs: a chunk's field and RFC 3339 range instead of raw nanoseconds. Only the view
// changes; Redis keeps the payloads as they are, and job ids stay hashes.

import type { BaseAdapter } from '@bull-board/api/baseAdapter';
import { formatTimeNs } from '@influx-backup/config';
import { QUEUE_COPY, QUEUE_SCHEDULE, type CopyChunkPayload, type CopyChunkResultPayload, type ScheduledPlanPayload } from '@influx-backup/queue';

/**
 * What each queue is for, under its name (cut after about 100 characters, so what explains the "No workers"
 * badge comes first): the schedule queue's workers are planners, and none is needed without schedules.
 */
export const QUEUE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [QUEUE_COPY]:
    'Served by influx-backup worker processes (and run): "No workers" means none is running. ' +
    'One job per field and time chunk: copy-chunk (planned), backfill-chunk (ad hoc).',
  [QUEUE_SCHEDULE]:
    'Served by influx-backup planner: "No workers" means no planner runs, as expected without scheduler.jobs. ' +
    'One scheduled-plan job per cron tick.',
};

/** A time in ns (as the payload's decimal string) in RFC 3339, or the text as it is when it is no time. */
function time(ns: unknown): string | undefined {
  if (typeof ns !== 'string' || !/^-?\d+$/.test(ns)) return undefined;
  try {
    return formatTimeNs(BigInt(ns));
  } catch {
    return ns;
  }
}

function copyName(job: { name?: string; data?: Partial<CopyChunkPayload> }): string {
  const d = job.data ?? {};
  const field = d.measurement === undefined ? '' : ` ${d.measurement}.${d.field ?? '?'}`;
  const from = time(d.startNs);
  const to = time(d.endNs);
  return `${job.name ?? ''}${field}${from && to ? ` ${from} .. ${to}` : ''}`;
}

/** The readable keys first, then the payload unchanged (so "update data" in Bull Board still edits a valid payload). */
function copyData(d: Partial<CopyChunkPayload> | undefined): unknown {
  if (d === undefined || d === null || typeof d !== 'object') return d;
  const chunk = typeof d.index === 'number' && typeof d.chunks === 'number' ? `${d.index + 1} of ${d.chunks}` : undefined;
  const readable = { copies: `${d.measurement}.${d.field}`, from: time(d.startNs), to: time(d.endNs), values: d.expected, chunk };
  return { ...Object.fromEntries(Object.entries(readable).filter(([, v]) => v !== undefined)), ...d };
}

function copyResult(r: Partial<CopyChunkResultPayload> | undefined | null): unknown {
  if (r === undefined || r === null || typeof r !== 'object') return r;
  return { values: r.values, batches: r.batches, last: r.lastTimeNs ? time(r.lastTimeNs) : null };
}

function scheduleName(job: { name?: string; data?: Partial<ScheduledPlanPayload> }): string {
  const d = job.data ?? {};
  return `${job.name ?? ''}${d.scheduleId ? ` ${d.scheduleId} (${d.full ? 'full' : 'incremental'})` : ''}`;
}

/** Sets the description and the formatters of a queue's Bull Board adapter. */
export function describeQueue(adapter: BaseAdapter, queueName: string): void {
  if (queueName === QUEUE_COPY) {
    adapter.setFormatter('name', copyName);
    adapter.setFormatter('data', copyData);
    adapter.setFormatter('returnValue', copyResult);
  } else if (queueName === QUEUE_SCHEDULE) {
    adapter.setFormatter('name', scheduleName);
  }
}
