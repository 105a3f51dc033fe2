import { formatTimeNs } from '@influx-backup/config';
import type { PlanResult, PlanSelection } from '@influx-backup/queue';
import {
  checkSelection,
  prepareRestoreTarget,
  restorePlanContext,
  restorePreflight,
  restoreRedisCheck,
  restoreRoute,
  selectSources,
  sourceRunId,
  withRuntime,
  type RestoreRoute,
} from '@influx-backup/runtime';
import { EXIT_OK, UsageError, type ProcessContext } from '@influx-backup/process';
import { runId, selection, type SelectorOptions } from '../context.js';
import { counted, fmtInt } from '../progress.js';
import { followParts, planHere, type SourcePart } from './copy.js';

export interface RestoreOptions extends SelectorOptions {
  all?: boolean;
  targetDb?: string;
  dryRun?: boolean;
  source?: string[];
}

/**
 * restore: counts what the backup holds of the selection and prints it, then
 * (unless --dry-run) creates the database written when missing, plans the
 * restore-chunk jobs and copies them in this process like `run`. It asks nothing
 * on stdin: what it overwrites is chosen by the flags alone.
 */
export async function restoreCommand(ctx: ProcessContext, opts: RestoreOptions): Promise<number> {
  const named = opts.measurement?.length ?? 0;
  if (named === 0 && !opts.all) {
    throw new UsageError(
      'restore needs --measurement NAME (repeatable) or --all: it overwrites points in the source, so it restores only what it is told to',
    );
  }
  if (named > 0 && opts.all) throw new UsageError('restore takes --measurement or --all, not both');
  if (opts.targetDb !== undefined && opts.targetDb.trim() === '') throw new UsageError('--target-db needs a database name');
  const sel = selection(opts);
  const id = runId('restore');
  return withRuntime(ctx, async (rt) => {
    const sources = selectSources(rt, opts.source);
    // One database name for several sources would write them all into it, each over the others.
    if (opts.targetDb !== undefined && sources.length > 1) {
      throw new UsageError(`--target-db writes one database: give it with one --source (of ${sources.map((s) => s.name).join(', ')})`);
    }
    await restoreRedisCheck(rt);
    // Every source is checked and counted before anything is written to any of them.
    const planned: {
      route: RestoreRoute;
      planning: ReturnType<typeof restorePlanContext>;
      wanted: PlanSelection;
      preview: PlanResult;
      policies: Awaited<ReturnType<typeof restorePreflight>>;
    }[] = [];
    for (const source of sources) {
      const route = restoreRoute(rt, source, opts.targetDb);
      const policies = await restorePreflight(route, sel.retentionPolicies);
      const measurements = sel.measurements ?? (await route.reader.measurements(route.readDb));
      await checkSelection(source, {
        ...sel,
        measurements,
        anyMeasurement: true,
        retentionPolicies: policies.policies.map((p) => p.name),
        on: { server: route.reader, db: route.readDb, what: 'backup' },
      });
      const planning = restorePlanContext(rt, route, policies);
      const wanted: PlanSelection = { kind: 'restore', runId: sourceRunId(id, source), ...sel, measurements };
      // Counted first and printed before anything is written; the plan below counts again as it enqueues.
      const preview = await planHere(ctx, rt, planning, { ...wanted, dryRun: true });
      for (const m of preview.missing) rt.logger.warn(`field ${m} is configured but the backup has no such field; nothing to restore`);
      printPreview(route, preview, opts.dryRun === true);
      planned.push({ route, planning, wanted, preview, policies });
    }
    if (opts.dryRun) return EXIT_OK;
    if (planned.every((p) => p.preview.chunks === 0)) {
      process.stdout.write('nothing to restore: the backup holds no value of the selection in the range\n');
      return EXIT_OK;
    }
    const started = Date.now();
    const parts: SourcePart[] = [];
    for (const { route, planning, wanted, preview, policies } of planned) {
      if (preview.chunks === 0) continue;
      await prepareRestoreTarget(rt, route, policies);
      parts.push({ source: route.source, plan: await planHere(ctx, rt, planning, wanted) });
    }
    return followParts(rt, { id, mode: 'restore', parts, started, follow: true });
  });
}

/** What the restore reads and writes, field by field, with the backup's count of values in each field's range. */
function printPreview(route: RestoreRoute, preview: PlanResult, dryRun: boolean): void {
  const lines = [
    `${route.source.config.listed ? `source ${route.source.name}: ` : ''}restore from database ${JSON.stringify(route.readDb)} on the ${route.reader.role ?? 'backup InfluxDB'} ${route.reader.endpoint}` +
      ` into database ${JSON.stringify(route.writeDb)} on the ${route.writer.role ?? 'source InfluxDB'} ${route.writer.endpoint}:`,
  ];
  for (const f of preview.fields) {
    const policy = f.retentionPolicy === undefined ? '' : `${f.retentionPolicy}  `;
    lines.push(
      `  ${policy}${f.measurement}.${f.field} (${f.type})  ${formatTimeNs(f.startNs)} .. ${formatTimeNs(f.endNs)}  ${counted(f.expected, 'value')}`,
    );
  }
  lines.push(
    `${counted(preview.fields.length, 'field')}, ${counted(preview.chunks, 'chunk')}, ${fmtInt(preview.expectedValues)} values in the backup` +
      (dryRun ? ' (dry run: nothing written)' : ' to restore'),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
