import { clusterSampler, monitorAlerts, rulesFor, sharedAlerts } from '@influx-backup/monitoring';
import type { Logger } from '@influx-backup/core';
import { UsageError } from '@influx-backup/errors';
import {
  copyingSeconds,
  followRun,
  planBackup,
  type PassMode,
  type PassPart,
  type PassRecord,
  type PlanContext,
  type PlanResult,
  type PlanSelection,
  type RunResult,
} from '@influx-backup/queue';
import type { Runtime, SourceRuntime } from './connections.js';
import { startMemoryGovernor } from './memory-governor.js';
import { preflight, type SourceCheck } from './preflight.js';
import { checkSelection } from './selection.js';
import { clusterSources, monitorSettings, planContext, workerIdentity } from './settings.js';
import { sourceRunId } from './sources.js';
import { startWorker } from './worker-role.js';

/** One source's part of a pass: its plan and result, or why it was left out. */
export interface SourcePart {
  readonly source: SourceRuntime;
  plan?: PlanResult;
  result?: RunResult;
  /** Down, refused the credentials, or failed while planning: its own part failed, the others go on. */
  error?: string;
}

/** What a pass copies: the command line's selectors. */
export type PassSelection = Omit<PlanSelection, 'kind' | 'runId' | 'dryRun' | 'deep' | 'windowNs'>;

export interface PassRequest {
  /** The pass's id; each source's run id is this, followed by a listed source's name. */
  readonly id: string;
  readonly mode: Exclude<PassMode, 'restore'>;
  readonly selection: PassSelection;
  /** The sources to plan (--source); default every configured source. */
  readonly sources?: readonly SourceRuntime[];
  /** A repair pass (verify --repair, a tick of a schedule with repair): compare, and copy only what differs. */
  readonly repair?: { readonly deep: boolean; readonly windowNs?: bigint };
  /** Where each plan's own log line goes (the CLI: the log file only, as it prints the plan); default the runtime's logger. */
  readonly planLogger?: Logger;
}

/** Chunks, values and failures finished so far, summed over a pass's runs. */
export interface PassProgress {
  readonly values: number;
  readonly finished: number;
  readonly failed: number;
}

export interface FollowRequest {
  readonly id: string;
  readonly mode: PassMode;
  readonly parts: SourcePart[];
  /** When the pass began (ms). */
  readonly started: number;
  /** Wait for the runs to end (run, restore and plan --wait); run and restore copy in this process. */
  readonly follow: boolean;
  /** Copy in this process while following (default: run and restore do). */
  readonly copyHere?: boolean;
  /** Stops following (Ctrl-C): the chunks in flight go back to the queue. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: PassProgress) => void;
}

export interface PassOutcome {
  readonly record: PassRecord;
  readonly parts: readonly SourcePart[];
  /** Stopped by `signal` before its runs ended. */
  readonly interrupted: boolean;
  /** The parts that failed: left out, or a chunk failed for good (what exit status 1 is about). */
  readonly failed: readonly SourcePart[];
}

/**
 * Plans the jobs of each selected source, one run per source. A source that is down
 * or refuses the credentials fails its own part only: the others are planned, and it
 * is returned with its error. With several sources, --measurement and --field select
 * among them: a source without any of the names is left alone, and a name no source
 * has is bad usage.
 */
export async function planPass(rt: Runtime, req: PassRequest): Promise<SourcePart[]> {
  const selected = req.sources ?? rt.sources;
  const parts: SourcePart[] = [];
  const ready: Extract<SourceCheck, { policies: unknown }>[] = [];
  for (const check of await preflight(rt, { sources: selected })) {
    if ('error' in check) parts.push({ source: check.source, error: check.error.message });
    else ready.push(check);
  }
  const usable: typeof ready = [];
  let unused: UsageError | undefined;
  for (const c of ready) {
    const flags = { ...req.selection, anyMeasurement: req.mode === 'backfill', retentionPolicies: c.policies.policies.map((p) => p.name) };
    try {
      await checkSelection(c.source, flags);
      usable.push(c);
    } catch (err) {
      if (!(err instanceof UsageError) || selected.length === 1) throw err;
      unused ??= err;
    }
  }
  if (usable.length === 0 && unused !== undefined) throw unused;
  const kind = req.repair ? 'repair' : req.mode === 'backfill' ? 'backfill' : 'copy';
  const repair = req.repair
    ? { deep: req.repair.deep, ...(req.repair.windowNs === undefined ? {} : { windowNs: req.repair.windowNs }) }
    : {};
  for (const { source, policies } of usable) {
    try {
      const sel: PlanSelection = { kind, runId: sourceRunId(req.id, source), ...req.selection, ...repair };
      const plan = await planSource(rt, planContext(rt, source, policies), sel, req.planLogger);
      parts.push({ source, plan });
    } catch (err) {
      if (selected.length === 1 || err instanceof UsageError) throw err;
      rt.logger.error(`source ${source.name}: planning failed: ${(err as Error).message}`);
      parts.push({ source, error: `planning failed: ${(err as Error).message}` });
    }
  }
  parts.sort((a, b) => rt.sources.indexOf(a.source) - rt.sources.indexOf(b.source));
  for (const { source, plan } of parts) {
    const of = source.config.listed ? `source ${source.name}` : 'the source';
    for (const m of plan?.missing ?? []) rt.logger.warn(`field ${m} is configured but ${of} has no such field (yet); nothing to copy`);
  }
  return parts;
}

/** Plans one source (or, with `dryRun`, counts), keeping this process's heap near its budget. */
export async function planSource(rt: Runtime, planning: PlanContext, sel: PlanSelection, logger: Logger = rt.logger): Promise<PlanResult> {
  // Planning a million chunks makes garbage fast. Checked every 100 ms, not a worker's
  // 200: planning allocates fast enough to pass the budget by several MB between
  // checks (plan peak RSS 144 to 154 MB at 200 ms, 145 at 100, in the scale bench).
  const governor = startMemoryGovernor(rt.config.processing.workerMemoryLimitMb, rt.logger, { intervalMs: 100 });
  try {
    return await planBackup({ ...planning, logger }, sel);
  } finally {
    governor.stop();
  }
}

/**
 * After planning: records the pass for status, then (when `follow`) copies its runs
 * in this process (run, restore) or follows whatever workers copy them (plan --wait),
 * and records how it ended. The cluster-wide alerts of the runs are checked here
 * while this process follows them, under the same lease as planners (a pass left to
 * the workers, as `plan` and a scheduled tick leave it, is the planners' to check).
 */
export async function followPass(rt: Runtime, req: FollowRequest): Promise<PassOutcome> {
  const { id, mode, parts, started, follow } = req;
  const planned = parts.filter((p): p is SourcePart & { plan: PlanResult } => p.plan !== undefined);
  const chunks = planned.reduce((n, p) => n + p.plan.chunks, 0);
  const outcome = (interrupted: boolean): PassOutcome => ({
    record: passRecord(id, mode, parts, started),
    parts,
    interrupted,
    failed: parts.filter((p) => p.error !== undefined || (p.result?.failed ?? 0) > 0),
  });
  // Until it ends, status reads these runs' live counters through their keys.
  if (chunks > 0) await rt.store.lastRuns.set({ ...passRecord(id, mode, parts, started), finishedAt: null, ok: null });
  if (!follow) return outcome(false);
  // The cluster-wide rules on these runs, each on its own, under the same lease as planners.
  const rules = rulesFor(rt.config.monitoring.alerts, 'cluster');
  const alerts = monitorAlerts(monitorSettings(rt), rules, {
    sample: clusterSampler(
      clusterSources(rt),
      planned.map((p) => p.plan.run),
    ),
    shared: sharedAlerts(rt.store.alerts, workerIdentity().id),
  });
  if (chunks === 0) {
    // Nothing to copy is a run that ended well: it resolves what an earlier run of its sources started.
    await alerts?.check();
    await alerts?.stop();
    const done = outcome(false);
    await rt.store.lastRuns.set(done.record);
    return done;
  }
  const worker = (req.copyHere ?? (mode === 'run' || mode === 'restore')) ? startWorker(rt, { role: 'run' }) : undefined;
  const seen = new Map<string, PassProgress>();
  try {
    await Promise.all(
      planned.map(async (part) => {
        part.result = await followRun(rt.copyQueue, rt.store.runs, part.plan.run, {
          onUpdate: (s) => {
            seen.set(part.plan.run, { values: s.values, finished: s.completed + s.failed, failed: s.failed });
            const sum = (k: keyof PassProgress): number => [...seen.values()].reduce((n, x) => n + x[k], 0);
            req.onProgress?.({ values: sum('values'), finished: sum('finished'), failed: sum('failed') });
          },
          ...(req.signal ? { signal: req.signal } : {}),
        });
      }),
    );
  } catch (err) {
    if (!req.signal?.aborted) throw err;
    await worker?.stop(2_000);
    await alerts?.stop(2_000);
    return outcome(true);
  }
  await worker?.stop();
  // A run that ends with failures says so before it exits: one last check, then its notifications go out.
  await alerts?.check();
  await alerts?.stop();
  const done = outcome(false);
  await rt.store.lastRuns.set(done.record);
  if (done.record.failed > 0) rt.logger.error(`${done.record.failed} of ${done.record.chunks} chunks failed for good`);
  if (done.failed.some((p) => p.source.config.listed))
    rt.logger.error(`failed sources: ${done.failed.map((p) => p.source.name).join(', ')}`);
  return done;
}

/** A pass as status shows it: the sums, the newest failures, and with several sources each one's part. */
export function passRecord(id: string, mode: PassMode, parts: readonly SourcePart[], started: number, now = Date.now()): PassRecord {
  const sum = (f: (p: SourcePart) => number): number => parts.reduce((n, p) => n + f(p), 0);
  const one = (p: SourcePart): PassPart => ({
    source: p.source.name,
    ...(p.plan ? { runId: p.plan.runId, run: p.plan.run } : {}),
    fields: p.plan?.fields.length ?? 0,
    chunks: p.plan?.chunks ?? 0,
    completed: p.result?.completed ?? 0,
    failed: p.result?.failed ?? 0,
    values: p.result?.values ?? 0,
    ok: p.error === undefined && (p.result?.failed ?? 0) === 0,
    ...(p.error === undefined ? {} : { error: p.error }),
  });
  const failures = parts.flatMap((p) => [
    ...(p.error === undefined ? [] : [{ source: p.source.name, reason: p.error }]),
    ...(p.result?.failures ?? []).map((f) => ({ source: p.source.name, ...f })),
  ]);
  const single = parts.length === 1 && !parts[0]!.source.config.listed ? parts[0] : undefined;
  const copying = copyingSeconds(
    parts.flatMap((p) => (p.result ? [p.result] : [])),
    now,
  );
  const overlap = sum((p) => p.plan?.overlapValues ?? 0);
  return {
    runId: id,
    mode,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(now).toISOString(),
    fields: sum((p) => p.plan?.fields.length ?? 0),
    chunks: sum((p) => p.plan?.chunks ?? 0),
    completed: sum((p) => p.result?.completed ?? 0),
    failed: sum((p) => p.result?.failed ?? 0),
    values: sum((p) => p.result?.values ?? 0),
    ok: parts.every((p) => one(p).ok),
    ...(copying === undefined ? {} : { copyingSeconds: copying }),
    ...(overlap > 0 ? { overlapValues: overlap } : {}),
    failures: failures.slice(0, 20),
    // The single databases.source keeps the record it always had: its run key at the top.
    ...(single?.plan ? { run: single.plan.run } : { sources: parts.map(one) }),
  };
}
