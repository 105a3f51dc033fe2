import { formatTimeNs } from '@influx-backup/config';
import { planRestore, previewRestore, selectSources, withRuntime, type RestorePlan } from '@influx-backup/runtime';
import { EXIT_OK, UsageError, type ProcessContext } from '@influx-backup/process';
import { runId, selection, type SelectorOptions } from '../context.js';
import { counted, formatCount } from '@influx-backup/core';
import { followHere } from './copy.js';

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
    const planLogger = ctx.logger.quietConsole();
    const plans = await previewRestore(rt, {
      id,
      selection: sel,
      sources: selectSources(rt, opts.source),
      ...(opts.targetDb === undefined ? {} : { targetDb: opts.targetDb }),
      planLogger,
    });
    for (const p of plans) printPreview(p, opts.dryRun === true);
    if (opts.dryRun) return EXIT_OK;
    if (plans.every((p) => p.preview.chunks === 0)) {
      process.stdout.write('nothing to restore: the backup holds no value of the selection in the range\n');
      return EXIT_OK;
    }
    const started = Date.now();
    const parts = await planRestore(rt, plans, planLogger);
    return followHere(rt, { id, mode: 'restore', parts, started, follow: true });
  });
}

/** What the restore reads and writes, field by field, with the backup's count of values in each field's range. */
function printPreview({ route, preview }: RestorePlan, dryRun: boolean): void {
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
    `${counted(preview.fields.length, 'field')}, ${counted(preview.chunks, 'chunk')}, ${formatCount(preview.expectedValues)} values in the backup` +
      (dryRun ? ' (dry run: nothing written)' : ' to restore'),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
