import { formatTimeNs } from '@influx-backup/config';
import { counted, formatCount, type ValueDifference } from '@influx-backup/core';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, type ProcessContext } from '@influx-backup/process';
import {
  concludeRepair,
  followPass,
  planPass,
  selectSources,
  withRuntime,
  type RepairReport,
  type SourcePart,
} from '@influx-backup/runtime';
import { runId, selection, type SelectorOptions } from '../context.js';
import { followHere } from './copy.js';

export interface RepairOptions extends SelectorOptions {
  deep?: boolean;
  enqueue?: boolean;
  wait?: boolean;
  source?: string[];
  json?: boolean;
}

type RepairField = RepairReport['fields'][number];

/** Differences printed per field; --json has the first few of each field. */
const EXAMPLES_SHOWN = 3;

/**
 * verify --repair: compares each field on both servers on the time_chunks.size grid
 * (counts; with --deep values), copies every chunk where the source holds a value the
 * backup lacks or holds differently (here like `run`, or with --enqueue by the
 * workers like `plan`), then checks those chunks again. Exit 0 when the backup then
 * holds everything the source holds in range (values only in the backup are kept and
 * reported); 1 naming what is still missing. With --enqueue alone it cannot know yet:
 * 0 once the copies are queued.
 */
export async function repairCommand(ctx: ProcessContext, opts: RepairOptions): Promise<number> {
  const sel = selection(opts);
  const deep = opts.deep ?? false;
  const enqueue = opts.enqueue ?? false;
  const follow = !enqueue || opts.wait === true;
  const id = runId('repair');
  return withRuntime(ctx, async (rt) => {
    const started = Date.now();
    const parts = await planPass(rt, {
      id,
      mode: 'repair',
      selection: sel,
      sources: selectSources(rt, opts.source),
      repair: { deep },
      planLogger: ctx.logger.quietConsole(),
    });
    const pass = { id, mode: 'repair' as const, parts, started, follow, copyHere: !enqueue };
    if (!opts.json) process.stdout.write(`${comparison(parts, deep).join('\n')}\n`);
    let code: number;
    if (opts.json) {
      const outcome = await followPass(rt, pass);
      code = outcome.failed.length > 0 ? EXIT_FAILED : EXIT_OK;
    } else {
      code = await followHere(rt, pass);
    }
    const interrupted = code === EXIT_INTERRUPTED;
    const report = await concludeRepair(rt, parts, { deep, recheck: follow && !interrupted });
    if (interrupted) return code;
    const down = parts.filter((p) => p.error !== undefined).map((p) => `source ${p.source.name}: ${p.error ?? ''}`);
    if (opts.json) {
      const text = JSON.stringify(
        { ok: report.ok, deep, enqueued: !follow, fields: report.fields.map(jsonField), ...(down.length ? { unreachable: down } : {}) },
        (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
        2,
      );
      process.stdout.write(`${text}\n`);
    } else {
      process.stdout.write(`${verdict(report, parts, follow).join('\n')}\n`);
      for (const d of down) process.stdout.write(`verify --repair: not compared: ${d}\n`);
    }
    return code !== EXIT_OK || report.ok === false ? EXIT_FAILED : EXIT_OK;
  });
}

/** A field as the output names it: its source (several), its policy, measurement.field. */
function fieldName(f: { sourceName?: string; retentionPolicy?: string; measurement: string; field: string }): string {
  return `${f.sourceName === undefined ? '' : `${f.sourceName} `}${f.retentionPolicy ?? '(default)'} ${f.measurement}.${f.field}`;
}

/** What the comparison found, per field: chunks compared and different, values missing, only in the backup, changed. */
function comparison(parts: readonly SourcePart[], deep: boolean): string[] {
  const rows = parts.flatMap((p) =>
    (p.plan?.fields ?? []).flatMap((f) =>
      f.check ? [{ name: fieldName({ ...(p.source.config.listed ? { sourceName: p.source.name } : {}), ...f }), check: f.check }] : [],
    ),
  );
  const nameW = Math.max(12, ...rows.map((r) => r.name.length));
  const cols = ['compared', 'different', 'missing', 'extra', ...(deep ? ['changed'] : [])];
  const out = [['field'.padEnd(nameW), ...cols.map((c) => c.padStart(10))].join('  ')];
  for (const { name, check: c } of rows) {
    const cells = [c.compared, c.different, c.missing, c.extra, ...(deep ? [c.changed] : [])].map((n) => formatCount(n).padStart(10));
    const note = c.backupTypes.length > 0 ? '  TYPE CONFLICT' : c.different > 0 ? '  REPAIR' : '';
    out.push([name.padEnd(nameW), ...cells].join('  ') + note);
    for (const d of c.examples.slice(0, EXAMPLES_SHOWN)) out.push(`    ${describe(d)}`);
  }
  const compared = rows.reduce((n, r) => n + r.check.compared, 0);
  const different = rows.reduce((n, r) => n + r.check.different, 0);
  out.push(
    `compared ${counted(compared, 'chunk')} of ${counted(rows.length, 'field')} (${deep ? 'value by value' : 'by count'}); ` +
      `${counted(different, 'chunk')} to copy again`,
  );
  return out;
}

function describe(d: ValueDifference): string {
  const at = `${d.series} ${formatTimeNs(d.timeNs)}`;
  if (d.kind === 'missing') return `${at}: missing in the backup (source ${d.source})`;
  if (d.kind === 'extra') return `${at}: in the backup only (backup ${d.backup}): kept`;
  return `${at}: source ${d.source}, backup ${d.backup}`;
}

/** After the copies: what is still missing, values only in the backup, and the one-line verdict. */
function verdict(report: RepairReport, parts: readonly SourcePart[], followed: boolean): string[] {
  const out: string[] = [];
  for (const f of report.fields) {
    if (f.check.backupTypes.length > 0)
      out.push(
        `type conflict: ${fieldName(f)} is ${f.check.backupTypes.join(', ')} in the backup: delete the backup's values of this field, then verify --repair again`,
      );
    for (const s of f.still)
      out.push(`still missing: ${fieldName(f)} ${formatTimeNs(s.startNs)} .. ${formatTimeNs(s.endNs)}: ${counted(s.values, 'value')}`);
  }
  const extra = report.fields.reduce((n, f) => n + f.check.extra, 0);
  const kept = extra > 0 ? ` (${counted(extra, 'value')} only in the backup, kept)` : '';
  const total = counted(report.fields.length, 'field');
  if (!followed) {
    const runs = parts.flatMap((p) => (p.plan && p.plan.chunks > 0 ? [p.plan.runId] : []));
    out.push(
      runs.length === 0
        ? `verify --repair: ${total}, nothing to copy again${kept}`
        : `verify --repair: chunks queued for the workers (${runs.join(', ')}); the next check confirms them${kept}`,
    );
  } else if (report.ok === true) {
    out.push(`verify --repair: ${total} hold every value of the source in range${kept}`);
  } else {
    const bad = report.fields.filter((f) => f.ok === false).length;
    out.push(`verify --repair: ${bad} of ${total} still ${bad === 1 ? 'differs' : 'differ'}${kept}`);
  }
  return out;
}

function jsonField(f: RepairField): Record<string, unknown> {
  return {
    ...(f.sourceName === undefined ? {} : { source: f.sourceName }),
    retentionPolicy: f.retentionPolicy ?? null,
    measurement: f.measurement,
    field: f.field,
    ...f.check,
    examples: f.check.examples.map(describe),
    chunks: f.chunks,
    copied: f.copied,
    stillMissing: f.stillMissing,
    still: f.still.map((s) => ({ start: formatTimeNs(s.startNs), end: formatTimeNs(s.endNs), values: s.values })),
    ok: f.ok,
  };
}
