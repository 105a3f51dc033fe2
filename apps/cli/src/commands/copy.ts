import { followRun, planBackup, type PlanContext, type PlanResult, type PlanSelection, type RunResult } from '@influx-backup/queue';
import {
  checkSelection,
  clusterSample,
  monitorAlerts,
  planContext,
  preflight,
  rulesFor,
  sharedAlerts,
  startMemoryGovernor,
  startWorker,
  withRuntime,
  type Runtime,
} from '@influx-backup/runtime';
import { formatTimeNs } from '@influx-backup/config';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, onShutdownSignals, UsageError, type ProcessContext } from '@influx-backup/process';
import { runId, selection, type SelectorOptions } from '../context.js';
import { counted, fmtInt, fmtSecs, Progress } from '../progress.js';

export interface CopyCommandOptions extends SelectorOptions {
  wait?: boolean;
}

type Mode = 'run' | 'plan' | 'backfill' | 'restore';

/** run, plan and backfill: plan the jobs, then copy them here (run) or follow them (--wait). */
export async function copyCommand(ctx: ProcessContext, mode: Mode, opts: CopyCommandOptions): Promise<number> {
  const sel = selection(opts);
  if (mode === 'backfill') {
    if (!sel.measurements) throw new UsageError('backfill needs --measurement');
    if (sel.startNs === undefined) throw new UsageError('backfill needs --start-time');
    if (sel.endNs === undefined) throw new UsageError('backfill needs --end-time');
  }
  const id = runId(mode);
  return withRuntime(ctx, async (rt) => {
    const policies = await preflight(rt);
    await checkSelection(rt, { ...sel, anyMeasurement: mode === 'backfill', retentionPolicies: policies.policies.map((p) => p.name) });
    const started = Date.now();
    const plan = await planHere(ctx, rt, planContext(rt, policies), { kind: mode === 'backfill' ? 'backfill' : 'copy', runId: id, ...sel });
    for (const m of plan.missing) rt.logger.warn(`field ${m} is configured but the source has no such field (yet); nothing to copy`);
    return followPlan(rt, { id, mode, plan, started, follow: mode === 'run' || opts.wait === true });
  });
}

/** Plans (or, with `dryRun`, counts) in this process; its result goes to stdout, its log line to the log file only. */
export async function planHere(ctx: ProcessContext, rt: Runtime, planning: PlanContext, sel: PlanSelection): Promise<PlanResult> {
  // Planning a million chunks makes garbage fast; keep this process's heap near its budget.
  const governor = startMemoryGovernor(rt.config.processing.workerMemoryLimitMb, rt.logger);
  try {
    return await planBackup({ ...planning, logger: ctx.logger.quietConsole() }, sel);
  } finally {
    governor.stop();
  }
}

/**
 * After planning: prints the plan's line, records the run for status, then
 * (when `follow`) copies it in this process (run, restore) or follows whatever
 * workers copy it (--wait) with a progress bar, and prints the summary.
 * Returns the exit status.
 */
export async function followPlan(
  rt: Runtime,
  { id, mode, plan, started, follow }: { id: string; mode: Mode; plan: PlanResult; started: number; follow: boolean },
): Promise<number> {
  const of = mode === 'restore' ? 'restore' : 'backup';
  const verb = mode === 'restore' ? 'restore' : 'copy';
  const out = process.stdout;
  out.write(
    `${id}: ${counted(plan.fields.length, 'field')}, ${counted(plan.chunks, 'chunk')} (${plan.reused} already queued), ` +
      `${counted(plan.expectedValues, 'value')} to ${verb}\n`,
  );
  if (plan.chunks > 0) {
    // Until it ends, status reads this run's live counters through its key.
    await rt.store.setLastRun({ ...lastRun(id, mode, plan, undefined, started), finishedAt: null, ok: null, run: plan.run }, of);
  }
  if (!follow) return EXIT_OK;
  if (plan.chunks === 0) {
    await rt.store.setLastRun(lastRun(id, mode, plan, undefined, started), of);
    out.write(mode === 'restore' ? 'nothing to restore: the backup holds no value in the range\n' : 'nothing to copy: every field is up to date\n');
    return EXIT_OK;
  }
  const worker = mode === 'run' || mode === 'restore' ? startWorker(rt, { role: 'run' }) : undefined;
  // A run (or restore) in this process checks the alerts of its own run here (its worker
  // checks its memory), under the same lease as planners, so a planner running beside it
  // does not send them twice.
  const alerts = worker ? monitorAlerts(rt, rulesFor(rt, 'cluster'), { sample: () => clusterSample(rt, plan.run), shared: sharedAlerts(rt) }) : undefined;
  const progress = new Progress(plan.expectedValues, plan.chunks);
  // Ctrl-C stops waiting; chunks in flight go back to the queue (their locks
  // lapse) and the next run or any worker copies them. Nothing is lost. A
  // second Ctrl-C exits at once.
  const shutdown = onShutdownSignals();
  let result: RunResult;
  try {
    result = await followRun(rt.copyQueue, rt.store, plan.run, {
      onUpdate: (s) => progress.update(s.values, s.completed + s.failed, s.failed),
      signal: shutdown.signal,
    });
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
  const summary = lastRun(id, mode, plan, result, started);
  await rt.store.setLastRun(summary, of);
  printSummary(rt, plan, result, started);
  return result.failed > 0 ? EXIT_FAILED : EXIT_OK;
}

function lastRun(id: string, mode: Mode, plan: PlanResult, result: RunResult | undefined, started: number): Record<string, unknown> {
  return {
    runId: id,
    mode,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    fields: plan.fields.length,
    chunks: plan.chunks,
    completed: result?.completed ?? 0,
    failed: result?.failed ?? 0,
    values: result?.values ?? 0,
    ok: (result?.failed ?? 0) === 0,
    failures: (result?.failures ?? []).slice(0, 20),
  };
}

function printSummary(rt: Runtime, plan: PlanResult, r: RunResult, started: number): void {
  const secs = (Date.now() - started) / 1000;
  const lines = [
    `${r.failed === 0 ? 'done' : 'FAILED'} in ${fmtSecs(secs)}`,
    `  fields     ${plan.fields.length}`,
    `  chunks     ${r.total} (${r.completed} done, ${r.failed} failed)`,
    `  values     ${fmtInt(r.values)} (${fmtInt(r.values / Math.max(secs, 0.001))}/s)`,
  ];
  for (const f of r.failures) {
    const range = f.startNs && f.endNs ? ` ${formatTimeNs(BigInt(f.startNs))} .. ${formatTimeNs(BigInt(f.endNs))}` : '';
    const what = f.measurement ? `${f.measurement}.${f.field ?? '?'}${range}: ` : '';
    lines.push(`  failed     ${what}${f.reason}`);
  }
  if (r.failed > r.failures.length) lines.push(`  ... and ${r.failed - r.failures.length} more failures (see influx-backup status)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (r.failed > 0) rt.logger.error(`${r.failed} of ${counted(r.total, 'chunk')} failed for good`);
}
