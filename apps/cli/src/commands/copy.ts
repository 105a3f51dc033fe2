import { followRun, planBackup, type PlanContext, type PlanResult, type PlanSelection, type RunResult } from '@influx-backup/queue';
import {
  checkSelection,
  clusterSampler,
  monitorAlerts,
  planContext,
  preflight,
  rulesFor,
  selectSources,
  sharedAlerts,
  sourceRunId,
  startMemoryGovernor,
  startWorker,
  withRuntime,
  type Runtime,
  type SourceCheck,
  type SourceRuntime,
} from '@influx-backup/runtime';
import { formatTimeNs } from '@influx-backup/config';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, onShutdownSignals, UsageError, type ProcessContext } from '@influx-backup/process';
import { runId, selection, type SelectorOptions } from '../context.js';
import { counted, fmtInt, fmtSecs, Progress } from '../progress.js';

export interface CopyCommandOptions extends SelectorOptions {
  wait?: boolean;
  source?: string[];
}

type Mode = 'run' | 'plan' | 'backfill' | 'restore';

/** One source's part of a pass: its plan and result, or why it was left out. */
export interface SourcePart {
  source: SourceRuntime;
  plan?: PlanResult;
  result?: RunResult;
  /** Down, refused the credentials, or failed while planning: its own part failed, the others go on. */
  error?: string;
}

/**
 * run, plan and backfill: plan the jobs of each selected source (one run per
 * source), then copy them here (run) or follow them (--wait). A source that is
 * down or refuses the credentials fails its own part only: the others are planned
 * and copied, and the command exits 1 naming it.
 */
export async function copyCommand(ctx: ProcessContext, mode: Mode, opts: CopyCommandOptions): Promise<number> {
  const sel = selection(opts);
  if (mode === 'backfill') {
    if (!sel.measurements) throw new UsageError('backfill needs --measurement');
    if (sel.startNs === undefined) throw new UsageError('backfill needs --start-time');
    if (sel.endNs === undefined) throw new UsageError('backfill needs --end-time');
  }
  const id = runId(mode);
  return withRuntime(ctx, async (rt) => {
    const selected = selectSources(rt, opts.source);
    const parts: SourcePart[] = [];
    const ready: Extract<SourceCheck, { policies: unknown }>[] = [];
    for (const check of await preflight(rt, { sources: selected })) {
      if ('error' in check) parts.push({ source: check.source, error: check.error.message });
      else ready.push(check);
    }
    // With several sources, --measurement and --field select among them: a source
    // without any of the names is left alone; a name no source has is bad usage.
    const usable: typeof ready = [];
    let unused: UsageError | undefined;
    for (const c of ready) {
      const flags = { ...sel, anyMeasurement: mode === 'backfill', retentionPolicies: c.policies.policies.map((p) => p.name) };
      try {
        await checkSelection(c.source, flags);
        usable.push(c);
      } catch (err) {
        if (!(err instanceof UsageError) || selected.length === 1) throw err;
        unused ??= err;
      }
    }
    if (usable.length === 0 && unused !== undefined) throw unused;
    const started = Date.now();
    for (const { source, policies } of usable) {
      try {
        const plan = await planHere(ctx, rt, planContext(rt, source, policies), {
          kind: mode === 'backfill' ? 'backfill' : 'copy',
          runId: sourceRunId(id, source),
          ...sel,
        });
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
    return followParts(rt, { id, mode, parts, started, follow: mode === 'run' || opts.wait === true });
  });
}

/** Plans (or, with `dryRun`, counts) in this process; its result goes to stdout, its log line to the log file only. */
export async function planHere(ctx: ProcessContext, rt: Runtime, planning: PlanContext, sel: PlanSelection): Promise<PlanResult> {
  // Planning a million chunks makes garbage fast; keep this process's heap near its budget.
  // Checked every 100 ms, not a worker's 200: planning allocates fast enough to pass
  // the budget by several MB between checks (plan peak RSS 144 to 154 MB at 200 ms,
  // 145 at 100, in the scale bench).
  const governor = startMemoryGovernor(rt.config.processing.workerMemoryLimitMb, rt.logger, { intervalMs: 100 });
  try {
    return await planBackup({ ...planning, logger: ctx.logger.quietConsole() }, sel);
  } finally {
    governor.stop();
  }
}

/**
 * After planning: prints each source's plan line, records the pass for status,
 * then (when `follow`) copies its runs in this process (run, restore) or follows
 * whatever workers copy them (--wait) with one progress bar, and prints the
 * summary, each source's result and each failed source. Returns the exit status:
 * 1 when any source's part failed (left out, or a chunk failed for good).
 */
export async function followParts(
  rt: Runtime,
  { id, mode, parts, started, follow }: { id: string; mode: Mode; parts: SourcePart[]; started: number; follow: boolean },
): Promise<number> {
  const of = mode === 'restore' ? 'restore' : 'backup';
  const verb = mode === 'restore' ? 'restore' : 'copy';
  const planned = parts.filter((p): p is SourcePart & { plan: PlanResult } => p.plan !== undefined);
  const out = process.stdout;
  for (const { plan } of planned) {
    out.write(
      `${plan.runId}: ${counted(plan.fields.length, 'field')}, ${counted(plan.chunks, 'chunk')} (${plan.reused} already queued), ` +
        `${counted(plan.expectedValues, 'value')} to ${verb}\n`,
    );
  }
  const chunks = planned.reduce((n, p) => n + p.plan.chunks, 0);
  const failedParts = (): SourcePart[] => parts.filter((p) => p.error !== undefined || (p.result?.failed ?? 0) > 0);
  if (chunks > 0) {
    // Until it ends, status reads these runs' live counters through their keys.
    await rt.store.setLastRun({ ...lastRun(id, mode, parts, started), finishedAt: null, ok: null }, of);
  }
  if (!follow || chunks === 0) {
    if (follow) {
      await rt.store.setLastRun(lastRun(id, mode, parts, started), of);
      out.write(
        mode === 'restore'
          ? 'nothing to restore: the backup holds no value in the range\n'
          : 'nothing to copy: every field is up to date\n',
      );
    }
    reportLeftOut(rt, failedParts());
    return failedParts().length > 0 ? EXIT_FAILED : EXIT_OK;
  }
  const worker = mode === 'run' || mode === 'restore' ? startWorker(rt, { role: 'run' }) : undefined;
  // A run (or restore) in this process checks the alerts of its own runs here (its worker
  // checks its memory), under the same lease as planners, so a planner running beside it
  // does not send them twice. With several sources, each rule tests the worst of their runs.
  const runs = new Map(planned.map((p) => [p.source.name, p.plan.run]));
  const alerts = worker ? monitorAlerts(rt, rulesFor(rt, 'cluster'), { ...clusterSampler(rt, runs), shared: sharedAlerts(rt) }) : undefined;
  const progress = new Progress(
    planned.reduce((n, p) => n + p.plan.expectedValues, 0),
    chunks,
  );
  // Ctrl-C stops waiting; chunks in flight go back to the queue (their locks
  // lapse) and the next run or any worker copies them. Nothing is lost. A
  // second Ctrl-C exits at once.
  const shutdown = onShutdownSignals();
  const seen = new Map<string, { values: number; finished: number; failed: number }>();
  const update = (): void => {
    const sum = (k: 'values' | 'finished' | 'failed'): number => [...seen.values()].reduce((n, s) => n + s[k], 0);
    progress.update(sum('values'), sum('finished'), sum('failed'));
  };
  try {
    await Promise.all(
      planned.map(async (part) => {
        part.result = await followRun(rt.copyQueue, rt.store, part.plan.run, {
          onUpdate: (s) => {
            seen.set(part.plan.run, { values: s.values, finished: s.completed + s.failed, failed: s.failed });
            update();
          },
          signal: shutdown.signal,
        });
      }),
    );
  } catch (err) {
    if (!shutdown.signal.aborted) throw err;
    progress.done();
    await worker?.stop(2_000);
    await alerts?.stop(2_000);
    process.stderr.write(
      worker
        ? 'interrupted: chunks in flight go back to the queue; run again (or start a worker) to finish\n'
        : 'interrupted: the jobs stay queued; the workers go on copying them\n',
    );
    return EXIT_INTERRUPTED;
  } finally {
    shutdown.dispose();
  }
  progress.done();
  await worker?.stop();
  // A run that ends with failures says so before it exits: one last check, then its notifications go out.
  await alerts?.check();
  await alerts?.stop();
  await rt.store.setLastRun(lastRun(id, mode, parts, started), of);
  printSummary(rt, parts, started);
  reportLeftOut(rt, failedParts());
  return failedParts().length > 0 ? EXIT_FAILED : EXIT_OK;
}

/** The pass as `status` shows it; with several sources, each one's part too. */
function lastRun(id: string, mode: Mode, parts: readonly SourcePart[], started: number): Record<string, unknown> {
  const sum = (f: (p: SourcePart) => number): number => parts.reduce((n, p) => n + f(p), 0);
  const one = (p: SourcePart): Record<string, unknown> => ({
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
  return {
    runId: id,
    mode,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    fields: sum((p) => p.plan?.fields.length ?? 0),
    chunks: sum((p) => p.plan?.chunks ?? 0),
    completed: sum((p) => p.result?.completed ?? 0),
    failed: sum((p) => p.result?.failed ?? 0),
    values: sum((p) => p.result?.values ?? 0),
    ok: parts.every((p) => one(p).ok === true),
    failures: failures.slice(0, 20),
    // The single databases.source keeps the record it always had: its run key at the top.
    ...(single?.plan ? { run: single.plan.run } : { sources: parts.map(one) }),
  };
}

function printSummary(rt: Runtime, parts: readonly SourcePart[], started: number): void {
  const secs = (Date.now() - started) / 1000;
  const results = parts.flatMap((p) => (p.plan && p.result ? [{ ...p, plan: p.plan, result: p.result }] : []));
  const sum = (f: (r: RunResult) => number): number => results.reduce((n, p) => n + f(p.result), 0);
  const failed = sum((r) => r.failed);
  const total = sum((r) => r.total);
  const lines = [
    `${failed === 0 && parts.every((p) => !p.error) ? 'done' : 'FAILED'} in ${fmtSecs(secs)}`,
    `  fields     ${results.reduce((n, p) => n + p.plan.fields.length, 0)}`,
    `  chunks     ${total} (${sum((r) => r.completed)} done, ${failed} failed)`,
    `  values     ${fmtInt(sum((r) => r.values))} (${fmtInt(sum((r) => r.values) / Math.max(secs, 0.001))}/s)`,
  ];
  const several = parts.length > 1 || parts.some((p) => p.source.config.listed);
  for (const { source, result: r } of results) {
    if (several)
      lines.push(
        `  source     ${source.name}: ${r.failed === 0 ? 'done' : 'FAILED'}, ${r.completed} of ${counted(r.total, 'chunk')}, ${counted(r.values, 'value')}`,
      );
    for (const f of r.failures) {
      const range = f.startNs && f.endNs ? ` ${formatTimeNs(BigInt(f.startNs))} .. ${formatTimeNs(BigInt(f.endNs))}` : '';
      const what = f.measurement ? `${f.measurement}.${f.field ?? '?'}${range}: ` : '';
      lines.push(`  failed     ${several ? `${source.name} ` : ''}${what}${f.reason}`);
    }
    if (r.failed > r.failures.length) lines.push(`  ... and ${r.failed - r.failures.length} more failures (see influx-backup status)`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (failed > 0) rt.logger.error(`${failed} of ${counted(total, 'chunk')} failed for good`);
}

/** One line per source whose part failed, naming it: what the exit status 1 is about. */
function reportLeftOut(rt: Runtime, failed: readonly SourcePart[]): void {
  if (failed.length === 0 || !failed.some((p) => p.source.config.listed)) return;
  for (const p of failed) {
    const why = p.error ?? `${counted(p.result?.failed ?? 0, 'chunk')} failed for good`;
    process.stderr.write(`source ${p.source.name} FAILED: ${why}\n`);
  }
  rt.logger.error(`failed sources: ${failed.map((p) => p.source.name).join(', ')}`);
}
