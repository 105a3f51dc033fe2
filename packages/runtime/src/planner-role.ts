import { getNextMillis, Worker, type Job } from 'bullmq';
import { cronPattern, formatDuration } from '@influx-backup/config';
import { clusterSampler, monitorAlerts, rulesFor, sharedAlerts } from '@influx-backup/monitoring';
import { QUEUE_SCHEDULE, SCHEDULED_PLAN_OPTIONS, JOBS, type ScheduledPlanPayload, type ScheduledPlanResult } from '@influx-backup/queue';
import type { Runtime } from './connections.js';
import { followPass, planPass, type SourcePart } from './pass.js';
import { preflight } from './preflight.js';
import { concludeRepair } from './repair.js';
import { longRunningRole, type RunningRole } from './role.js';
import { clusterSources, monitorSettings, workerIdentity } from './settings.js';
import { untilReady } from './readiness.js';

export interface ScheduleSync {
  upserted: { id: string; pattern: string; full: boolean; repair: boolean; windowMs?: number }[];
  removed: string[];
}

/**
 * Makes the BullMQ job schedulers match `scheduler.jobs`. upsertJobScheduler is
 * keyed by the schedule's id, so restarting the planner, or running two, never
 * makes a second schedule; schedules gone from the file (or disabled) are removed.
 */
export async function syncSchedules(rt: Runtime): Promise<ScheduleSync> {
  const { scheduler } = rt.config;
  const wanted = scheduler.enabled ? scheduler.jobs.filter((j) => j.enabled) : [];
  const result: ScheduleSync = { upserted: [], removed: [] };
  for (const job of wanted) {
    const pattern = cronPattern(job);
    const data: ScheduledPlanPayload = {
      scheduleId: job.id,
      full: job.full,
      repair: job.repair,
      ...(job.windowMs === undefined ? {} : { windowMs: job.windowMs }),
    };
    await upsertSchedule(rt, job.id, pattern, data);
    result.upserted.push({
      id: job.id,
      pattern,
      full: job.full,
      repair: job.repair,
      ...(job.windowMs === undefined ? {} : { windowMs: job.windowMs }),
    });
  }
  const keep = new Set(wanted.map((j) => j.id));
  for (const existing of await rt.scheduleQueue.getJobSchedulers(0, -1)) {
    const id = existing.key;
    if (!keep.has(id)) {
      await rt.scheduleQueue.removeJobScheduler(id);
      result.removed.push(id);
    }
  }
  return result;
}

/**
 * One schedule's upsert. BullMQ refuses it ("job scheduler iteration - job ID already
 * exists") when the slot it computed is already taken by an iteration that is running
 * or has run: two planners starting together, or a planner restarted just as its own
 * schedule ticked. The next try computes a later slot, so a short retry settles it;
 * a schedule that another planner already keeps exactly as configured needs nothing.
 */
async function upsertSchedule(rt: Runtime, id: string, pattern: string, data: ScheduledPlanPayload): Promise<void> {
  const tz = rt.config.scheduler.timezone;
  for (let attempt = 1; ; attempt++) {
    try {
      await rt.scheduleQueue.upsertJobScheduler(id, { pattern, tz }, { name: JOBS.scheduledPlan.name, data, opts: SCHEDULED_PLAN_OPTIONS });
      return;
    } catch (err) {
      if (!/job scheduler iteration/.test((err as Error).message)) throw err;
      if (attempt < SCHEDULE_UPSERT_TRIES) {
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
        continue;
      }
      const kept = await rt.scheduleQueue.getJobScheduler(id);
      const keptData = kept?.template?.data;
      const same =
        keptData?.full === data.full && (keptData.repair ?? false) === (data.repair ?? false) && keptData.windowMs === data.windowMs;
      if (kept?.pattern === pattern && kept.tz === tz && same) return;
      // The slot BullMQ computes for the next tick, and so the id of the job in its way.
      const next = getNextMillis(Date.now(), { pattern, tz });
      const stale = next === undefined ? `repeat:${id}:<next tick in ms>` : `repeat:${id}:${next}`;
      throw new Error(
        `schedule ${id}: cannot set "${pattern}" ${tz}: BullMQ found its next tick's job id already taken ${SCHEDULE_UPSERT_TRIES} times (${(err as Error).message}); ` +
          `remove job ${stale} from the schedule queue (Bull Board), then start the planner again`,
      );
    }
  }
}
const SCHEDULE_UPSERT_TRIES = 5;

export interface RunningPlanner extends RunningRole {
  readonly worker: Worker<ScheduledPlanPayload, ScheduledPlanResult>;
}

/**
 * Takes the schedule's ticks: each tick plans a pass (incremental, a full pass for a
 * schedule marked `full`, or a repair pass for one marked `repair`) of every source the
 * schedule applies to (a source's `schedule_ids`, or all), one run per source, and
 * records it as the last run. A repair tick is `verify --repair --enqueue`: it compares,
 * leaves the chunks that differ to the workers and records each field's check. A tick
 * is one BullMQ job, so with several planners running exactly one of them plans it,
 * and a chunk already queued is followed, not enqueued twice. A source that cannot be
 * planned (down, credentials refused) does not keep the others from being planned; the
 * tick then fails naming it, and is retried.
 */
export function startPlanner(rt: Runtime): RunningPlanner {
  const worker = new Worker<ScheduledPlanPayload, ScheduledPlanResult>(
    QUEUE_SCHEDULE,
    async (job: Job<ScheduledPlanPayload>) => {
      const tick = new Date(job.timestamp).toISOString().replace(/[-:.]/g, '');
      const { scheduleId, full, repair = false, windowMs } = job.data;
      const id = `${scheduleId}-${tick}`;
      const sources = rt.sources.filter((s) => !s.config.scheduleIds || s.config.scheduleIds.includes(scheduleId));
      const what = repair
        ? `repair${windowMs === undefined ? '' : ` (the newest ${formatDuration(windowMs)})`}`
        : full
          ? 'full'
          : 'incremental';
      const article = /^[aeiou]/.test(what) ? 'an' : 'a';
      rt.logger.info(`schedule ${scheduleId}: planning ${article} ${what} pass of ${sources.map((s) => s.name).join(', ')}`, { run: id });
      const started = Date.now();
      const window = windowMs === undefined ? {} : { windowNs: BigInt(windowMs) * 1_000_000n };
      const parts = await planPass(rt, {
        id,
        mode: 'schedule',
        selection: { full },
        sources,
        ...(repair ? { repair: { deep: false, ...window } } : {}),
      });
      // The workers copy it: its record follows their counters (status reads them live).
      const { record, failed } = await followPass(rt, { id, mode: 'schedule', parts, started, follow: false });
      if (repair) logRepair(rt, scheduleId, parts, await concludeRepair(rt, parts, { deep: false, recheck: false }));
      for (const p of failed) rt.logger.error(`schedule ${scheduleId}: planning source ${p.source.name} failed: ${p.error ?? 'unknown'}`);
      if (failed.length > 0)
        throw new Error(`planning failed for source ${failed.map((p) => p.source.name).join(', ')}; the others are planned`);
      return { runId: id, expectedValues: parts.reduce((n, p) => n + (p.plan?.expectedValues ?? 0), 0), jobs: record.chunks };
    },
    { connection: rt.redis, prefix: rt.prefix, concurrency: 1 },
  );
  worker.on('failed', (job, err) => rt.logger.error(`schedule ${job?.data.scheduleId ?? '?'}: planning failed: ${err.message}`));
  worker.on('error', (err) => rt.logger.warn(`planner: ${err.message}`));
  // The cluster's alerts (the newest run of each source and kind: error rate, duration, ...):
  // every planner runs the monitor, the one holding the lease checks, and Redis keeps what fires.
  const rules = rulesFor(rt.config.monitoring.alerts, 'cluster');
  const alerts = monitorAlerts(monitorSettings(rt), rules, {
    sample: clusterSampler(clusterSources(rt)),
    shared: sharedAlerts(rt.store.alerts, workerIdentity().id),
  });
  return {
    worker,
    async stop() {
      await worker.close();
      await alerts?.stop(5_000);
    },
  };
}

/** What a repair tick found, in one line. */
function logRepair(
  rt: Runtime,
  scheduleId: string,
  parts: readonly SourcePart[],
  report: Awaited<ReturnType<typeof concludeRepair>>,
): void {
  const sum = (k: 'compared' | 'different' | 'extra'): number => report.fields.reduce((n, f) => n + f.check[k], 0);
  const chunks = parts.reduce((n, p) => n + (p.plan?.chunks ?? 0), 0);
  rt.logger.info(
    `schedule ${scheduleId}: compared ${sum('compared')} chunks of ${report.fields.length} fields; ${sum('different')} differ` +
      (chunks > 0 ? `, ${chunks} repair chunks queued for the workers` : '') +
      (sum('extra') > 0 ? `; ${sum('extra')} values only in the backup, kept` : ''),
  );
}

/** Makes the schedules match the configuration and logs them, then starts taking their ticks. */
async function startScheduling(rt: Runtime): Promise<RunningPlanner> {
  const sync = await syncSchedules(rt);
  if (!rt.config.scheduler.enabled) rt.logger.warn('scheduler.enabled is false: no schedule will tick');
  for (const s of sync.upserted)
    rt.logger.info(
      `schedule ${s.id}: "${s.pattern}" ${rt.config.scheduler.timezone}, ${s.repair ? `repair${s.windowMs === undefined ? '' : ` of the newest ${formatDuration(s.windowMs)}`}` : s.full ? 'full' : 'incremental'}`,
    );
  for (const id of sync.removed) rt.logger.info(`schedule ${id}: removed (no longer in the configuration, or disabled)`);
  return startPlanner(rt);
}

/** The `planner` role: `influx-backup planner` and `apps/planner`. Exits 0 after SIGINT or SIGTERM. */
export const plannerRole = longRunningRole({
  name: 'planner',
  description: 'keep the cron schedules of scheduler.jobs and plan on every tick',
  stopping: 'stopping the planner',
  async start(rt, stop) {
    // Started before Redis, its servers or the source database, a planner waits for them rather than exit.
    if (!(await untilReady(rt, stop, () => preflight(rt)))) return { stop: () => Promise.resolve() };
    return startScheduling(rt);
  },
});
