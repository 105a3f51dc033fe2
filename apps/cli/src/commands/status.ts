import { EXIT_OK, type ProcessContext } from '@influx-backup/process';
import type { MetricsBlock } from '@influx-backup/monitoring';
import { JOB_RESTORE, type PassRecord } from '@influx-backup/queue';
import { collectStatus, reachRedis, selectSources, withRuntime, type StatusReport } from '@influx-backup/runtime';
import { formatAge, formatCount, formatRate, formatSeconds } from '@influx-backup/core';

/** Rows of cells as columns: each column as wide as its widest cell; the last one unpadded. */
function table(rows: string[][], indent = '  '): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => `${indent}${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd());
}

/** How far `ns` lies behind now, as a person reads it. */
function age(ns: string, now: number): string {
  const secs = now / 1000 - Number(BigInt(ns) / 1_000_000n) / 1000;
  return secs < 0 ? 'ahead' : formatAge(secs);
}

/** How far the checkpoint is behind the source's newest value: "up to date" when the source had nothing newer. */
export function behindSource(seconds: number | null): string {
  if (seconds === null) return '?';
  return seconds === 0 ? 'up to date' : formatAge(seconds);
}

function lastRunLines(r: PassRecord | null): string[] {
  if (r === null) return ['  (none yet)'];
  const running = r.inProgress === true || r.finishedAt === null;
  const state = running ? 'in progress' : r.ok === false || r.failed > 0 ? 'FAILED' : 'done';
  const started = r.startedAt ? Date.parse(r.startedAt) : NaN;
  const ended = r.finishedAt ? Date.parse(r.finishedAt) : Date.now();
  const secs = Number.isNaN(started) ? undefined : (ended - started) / 1000;
  // The pass's one rate: over its time spent copying (see PassRecord.copyingSeconds), as its summary printed it.
  const rate =
    r.copyingSeconds !== undefined && r.values > 0
      ? ` in ${formatSeconds(r.copyingSeconds)} of copying (${formatRate(r.values, r.copyingSeconds)})`
      : '';
  const overlap = (r.overlapValues ?? 0) > 0 ? `, ${formatCount(r.overlapValues ?? 0)} of them from the overlap` : '';
  const lines = [
    `  ${r.runId} (${r.mode}): ${state}${r.startedAt ? `, started ${r.startedAt}` : ''}${secs === undefined ? '' : `, ${formatSeconds(secs)}`}`,
    `  chunks ${formatCount(r.chunks)}: ${formatCount(r.completed)} done, ${formatCount(r.failed)} failed; ${formatCount(r.values)} values${rate}${overlap}`,
  ];
  for (const p of r.sources ?? []) {
    const how = p.error
      ? `FAILED: ${p.error}`
      : `${p.inProgress ? 'in progress' : !p.ok || p.failed > 0 ? 'FAILED' : 'done'}, ${formatCount(p.completed)} of ${formatCount(p.chunks)} chunks, ${formatCount(p.failed)} failed`;
    lines.push(`  source ${p.source}: ${how}`);
  }
  for (const f of r.failures) {
    const what = f.measurement ? `${f.measurement}.${f.field ?? '?'}: ` : '';
    lines.push(`  failed: ${f.source && r.sources ? `${f.source} ` : ''}${what}${f.reason}`);
  }
  return lines;
}

/** What a field's last check came to. */
function checkResult(v: StatusReport['verifications'][number]): string {
  if (v.backupTypes.length > 0) return `TYPE CONFLICT (backup ${v.backupTypes.join(', ')})`;
  if (v.ok === false) return `FAILED: ${formatCount(v.stillMissing ?? 0)} values still missing`;
  if (v.ok === null) return `${formatCount(v.different)} chunks left to the workers`;
  return v.different > 0 ? `repaired ${formatCount(v.different)} chunks` : 'equal';
}

/** Each field's last check by a repair pass: when, what it compared and found, what it copied, how it ended. */
function checkLines(list: StatusReport['verifications'], several: boolean): string[] {
  return table([
    [...(several ? ['source'] : []), 'policy', 'field', 'verified', 'compared', 'different', 'copied', 'extra', 'result'],
    ...list.map((v) => [
      ...(several ? [v.sourceName ?? '(not configured)'] : []),
      v.retentionPolicy === null ? '(default)' : v.retentionPolicy,
      `${v.measurement}.${v.field}`,
      `${v.at}${v.deep ? ' (deep)' : ''}`,
      formatCount(v.compared),
      formatCount(v.different),
      formatCount(v.copied),
      formatCount(v.extra),
      checkResult(v),
    ]),
  ]);
}

function processLines(list: StatusReport['workers']): string[] {
  if (list.length === 0) return ['  (none)'];
  return table([
    ['id', 'state', 'done', 'failed'],
    ...list.map((w) => [
      w.id,
      w.stoppedAt ? `stopped ${w.stoppedAt}` : `last seen ${w.lastSeen}`,
      String(w.jobsDone),
      String(w.jobsFailed),
    ]),
  ]);
}

function installationLine(p: MetricsBlock['performance']): string {
  return `${p.active_workers} chunks copying, ${p.queue_size} waiting, workers ${p.memory_usage_mb} MB`;
}

/** What a run's own counters say: its errors, retries and progress. */
function runLine({ quality: q, progress: g }: MetricsBlock): string {
  return `error rate ${q.error_rate}, ${q.retry_count} retries, measurements ${g.measurements_completed}/${g.measurements_total}, ends ${g.estimated_completion ?? '(not known yet)'}`;
}

function metricsLines(m: MetricsBlock): string[] {
  if (m.run === null) return [];
  return [
    '',
    `metrics of ${m.run}:`,
    `  ${formatCount(m.performance.records_per_second)} values/s, ${installationLine(m.performance)}`,
    `  ${runLine(m)}`,
  ];
}

/** Several sources: a line per source shown, of its newest run; what the sources share (queue, workers) once. */
function sourceMetricsLines(status: StatusReport): string[] {
  const blocks = Object.entries(status.metricsBySource);
  if (blocks.length === 0) return [];
  return [
    '',
    `metrics by source (all sources: ${installationLine(status.metrics.performance)}):`,
    ...table(
      blocks.map(([name, m]) => [
        name,
        m.run === null ? '(no run yet)' : `${m.run}: ${formatCount(m.performance.records_per_second)} values/s, ${runLine(m)}`,
      ]),
    ),
  ];
}

/** The alerts firing now: since when, and the run that crossed the rule last. */
function alertLines(alerts: StatusReport['alerts'], several: boolean): string[] {
  if (alerts.length === 0) return [];
  return [
    '',
    'alerts firing:',
    ...table([
      ['alert', ...(several ? ['source'] : []), 'since', 'run', 'value', 'last sent'],
      ...alerts.map((a) => [
        a.alert,
        ...(several ? [a.source] : []),
        a.since,
        a.kind === 'copy' ? a.run : `${a.run} (${a.kind})`,
        `${a.metric} ${a.value} ${a.operator} ${a.threshold}`,
        a.lastSent,
      ]),
    ]),
  ];
}

export async function statusCommand(ctx: ProcessContext, opts: { json?: boolean; source?: string[] }): Promise<number> {
  return withRuntime(ctx, async (rt) => {
    const sources = selectSources(rt, opts.source);
    await reachRedis(rt);
    const status = await collectStatus(rt, { sources });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      return EXIT_OK;
    }
    const now = Date.now();
    const { copy, schedule } = status.queues;
    const states = Object.keys(copy);
    const out: string[] = [`Redis ${status.redis}`, ''];
    out.push(
      ...table(
        [
          ['queue', ...states],
          ['copy', ...states.map((k) => String(copy[k] ?? '-'))],
          ['schedule', ...states.map((k) => String(schedule[k] ?? '-'))],
        ],
        '',
      ),
    );
    const several = rt.sources.some((s) => s.config.listed);
    if (several) {
      out.push('', 'sources:');
      out.push(
        ...table([
          ['source', 'server', 'database', 'backup database', 'checkpoints'],
          ...status.sources.map((s) => [s.name, s.server, s.database, s.backupDatabase, String(s.checkpoints)]),
        ]),
      );
    }
    out.push('', "checkpoints (age: from the checkpoint to now; behind source: to the source's newest value when last planned):");
    if (status.checkpoints.length === 0) out.push('  (none yet)');
    else {
      out.push(
        ...table([
          [...(several ? ['source'] : []), 'policy', 'field', 'checkpoint', 'age', 'behind source', 'updated', 'database'],
          ...status.checkpoints.map((c) => [
            ...(several ? [c.sourceName ?? '(not configured)'] : []),
            c.retentionPolicy === null ? '(default)' : c.retentionPolicy,
            `${c.measurement}.${c.field}`,
            c.checkpoint,
            age(c.checkpointNs, now),
            behindSource(c.behindSourceSeconds),
            c.updatedAt ?? '?',
            `${c.database} on ${c.source}`,
          ]),
        ]),
      );
    }
    if (status.verifications.length > 0)
      out.push('', 'last checks (verify --repair, scheduled checks):', ...checkLines(status.verifications, several));
    out.push('', 'workers:', ...processLines(status.workers));
    if (status.runs.length > 0)
      out.push('', 'run processes (not workers: each copies its own run, then exits):', ...processLines(status.runs));
    if (status.schedules.length > 0) {
      out.push(
        '',
        'schedules:',
        ...table([['id', 'pattern', 'zone', 'next'], ...status.schedules.map((s) => [s.id, s.pattern ?? '', s.tz ?? '', s.next ?? '-'])]),
      );
    }
    if (status.failures.length > 0) {
      out.push('', 'chunks failed for good (newest first):');
      // A restore's chunk wrote the source, not the backup: say so.
      const what = (f: StatusReport['failures'][number]): string =>
        `${f.kind.startsWith(JOB_RESTORE) ? 'restore ' : ''}${f.measurement}.${f.field}`;
      out.push(
        ...table(
          status.failures.map((f) => [...(several ? [f.source ?? '?'] : []), what(f), `${f.start} .. ${f.end}`, f.at ?? '', f.reason]),
        ),
      );
    }
    out.push(...alertLines(status.alerts, several));
    out.push('', 'last run:', ...lastRunLines(status.lastRun));
    if (status.lastRestore) out.push('', 'last restore:', ...lastRunLines(status.lastRestore));
    out.push(...(several ? sourceMetricsLines(status) : metricsLines(status.metrics)));
    process.stdout.write(`${out.join('\n')}\n`);
    return EXIT_OK;
  });
}
