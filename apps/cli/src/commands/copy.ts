import { formatDuration, formatTimeNs } from '@influx-backup/config';
import { followPass, planPass, selectSources, withRuntime, type PassOutcome, type Runtime, type SourcePart } from '@influx-backup/runtime';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, onShutdownSignals, UsageError, type ProcessContext } from '@influx-backup/process';
import { runId, selection, type SelectorOptions } from '../context.js';
import { counted, formatCount, formatRate, formatSeconds } from '@influx-backup/core';
import { Progress } from '../progress.js';

export interface CopyCommandOptions extends SelectorOptions {
  wait?: boolean;
  source?: string[];
}

type Mode = 'run' | 'plan' | 'backfill';

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
    const started = Date.now();
    // The plan is printed here; its log line goes to the log file only.
    const parts = await planPass(rt, {
      id,
      mode,
      selection: sel,
      sources: selectSources(rt, opts.source),
      planLogger: ctx.logger.quietConsole(),
    });
    return followHere(rt, { id, mode, parts, started, follow: mode === 'run' || opts.wait === true });
  });
}

/**
 * Prints each source's plan line, then (when `follow`) copies or follows the pass with
 * one progress bar, and prints the summary, each source's result and each failed
 * source. Returns the exit status: 1 when any source's part failed, 130 on Ctrl-C.
 */
export async function followHere(
  rt: Runtime,
  req: { id: string; mode: Mode | 'restore' | 'repair'; parts: SourcePart[]; started: number; follow: boolean; copyHere?: boolean },
): Promise<number> {
  const verb = req.mode === 'restore' ? 'restore' : 'copy';
  const planned = req.parts.flatMap((p) => (p.plan ? [p.plan] : []));
  const overlap = rt.config.backup.timeChunks.overlapMs;
  for (const plan of planned) {
    // An incremental plan starts each field at its checkpoint minus the overlap: say how much of it is already there.
    const again =
      plan.overlapValues > 0
        ? ` (${formatCount(plan.overlapValues)} of them already in the backup: the overlap up to each field's checkpoint, backup.time_chunks.overlap ${formatDuration(overlap)})`
        : '';
    process.stdout.write(
      `${plan.runId}: ${counted(plan.fields.length, 'field')}, ${counted(plan.chunks, 'chunk')} (${formatCount(plan.reused)} already queued), ` +
        `${counted(plan.expectedValues, 'value')} to ${verb}${again}\n`,
    );
  }
  const chunks = planned.reduce((n, p) => n + p.chunks, 0);
  const progress =
    req.follow && chunks > 0
      ? new Progress(
          planned.reduce((n, p) => n + p.expectedValues, 0),
          chunks,
        )
      : undefined;
  // Ctrl-C stops waiting; chunks in flight go back to the queue (their locks lapse)
  // and the next run or any worker copies them. Nothing is lost. A second Ctrl-C exits at once.
  const shutdown = onShutdownSignals();
  let outcome: PassOutcome;
  try {
    outcome = await followPass(rt, {
      ...req,
      signal: shutdown.signal,
      ...(progress
        ? { onProgress: (p: { values: number; finished: number; failed: number }) => progress.update(p.values, p.finished, p.failed) }
        : {}),
    });
  } finally {
    shutdown.dispose();
  }
  // The last progress line, terminal or not: where the pass ended, at its own rate.
  const r = outcome.record;
  progress?.done(
    outcome.interrupted
      ? undefined
      : {
          values: r.values,
          finished: r.completed + r.failed,
          failed: r.failed,
          ...(r.copyingSeconds === undefined ? {} : { copyingSeconds: r.copyingSeconds }),
        },
  );
  if (outcome.interrupted) {
    process.stderr.write(
      (req.copyHere ?? (req.mode === 'run' || req.mode === 'restore'))
        ? 'interrupted: chunks in flight go back to the queue; run again (or start a worker) to finish\n'
        : 'interrupted: the jobs stay queued; the workers go on copying them\n',
    );
    return EXIT_INTERRUPTED;
  }
  if (req.follow && chunks === 0) {
    process.stdout.write(
      req.mode === 'restore'
        ? 'nothing to restore: the backup holds no value in the range\n'
        : req.mode === 'repair'
          ? 'nothing to copy again: no chunk of the backup lacks a value of the source\n'
          : 'nothing to copy: every field is up to date\n',
    );
  } else if (req.follow) {
    printSummary(outcome, req.started, overlap);
  }
  reportLeftOut(outcome.failed);
  return outcome.failed.length > 0 ? EXIT_FAILED : EXIT_OK;
}

function printSummary(outcome: PassOutcome, started: number, overlapMs: number): void {
  const secs = (Date.now() - started) / 1000;
  const { record } = outcome;
  const ok = record.failed === 0 && outcome.parts.every((p) => !p.error);
  // One rate for the pass: its values over the time spent copying (planning left out), as status shows it too.
  const copying = record.copyingSeconds;
  const planning = copying === undefined ? undefined : Math.max(0, secs - copying);
  const lines = [
    `${ok ? 'done' : 'FAILED'} in ${formatSeconds(secs)}${copying === undefined || planning === undefined ? '' : ` (copying ${formatSeconds(copying)}, planning and setup ${formatSeconds(planning)})`}`,
    `  fields     ${formatCount(record.fields)}`,
    `  chunks     ${formatCount(record.chunks)} (${formatCount(record.completed)} done, ${formatCount(record.failed)} failed)`,
    `  values     ${formatCount(record.values)}${copying === undefined ? '' : ` (${formatRate(record.values, copying)})`}`,
  ];
  if ((record.overlapValues ?? 0) > 0) {
    lines.push(
      `  overlap    ${counted(record.overlapValues ?? 0, 'value')} of them were in the backup already: the overlap up to each field's checkpoint (backup.time_chunks.overlap ${formatDuration(overlapMs)}), copied again`,
    );
  }
  const several = outcome.parts.length > 1 || outcome.parts.some((p) => p.source.config.listed);
  for (const { source, plan, result: r } of outcome.parts) {
    if (!plan || !r) continue;
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
}

/** One line per source whose part failed, naming it: what the exit status 1 is about. */
function reportLeftOut(failed: readonly SourcePart[]): void {
  if (!failed.some((p) => p.source.config.listed)) return;
  for (const p of failed) {
    const why = p.error ?? `${counted(p.result?.failed ?? 0, 'chunk')} failed for good`;
    process.stderr.write(`source ${p.source.name} FAILED: ${why}\n`);
  }
}
