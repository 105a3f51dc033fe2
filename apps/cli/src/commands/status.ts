import { EXIT_OK, type ProcessContext } from '@influx-backup/process';
import { collectStatus, withRuntime } from '@influx-backup/runtime';

export async function statusCommand(ctx: ProcessContext, opts: { json?: boolean }): Promise<number> {
  return withRuntime(ctx, async (rt) => {
    const status = await collectStatus(rt);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      return EXIT_OK;
    }
    const { copy, schedule } = status.queues;
    const states = Object.keys(copy);
    const cell = (v: unknown): string => String(v ?? '-').padStart(13);
    const out: string[] = [`Redis ${status.redis}`, ''];
    out.push(`${'queue'.padEnd(10)}${states.map(cell).join('')}`);
    out.push(`${'copy'.padEnd(10)}${states.map((k) => cell(copy[k])).join('')}`);
    out.push(`${'schedule'.padEnd(10)}${states.map((k) => cell(schedule[k])).join('')}`);
    out.push('', 'checkpoints:');
    if (status.checkpoints.length === 0) out.push('  (none yet)');
    for (const c of status.checkpoints) {
      const policy = c.retentionPolicy === null ? '(default)' : JSON.stringify(c.retentionPolicy);
      out.push(`  ${policy} ${c.measurement}.${c.field}  ${c.checkpoint}  (${c.database} on ${c.source}, updated ${c.updatedAt ?? '?'})`);
    }
    out.push('', 'workers seen:');
    if (status.workers.length === 0) out.push('  (none)');
    for (const w of status.workers) {
      const state = w.stoppedAt ? `stopped ${w.stoppedAt}` : `last seen ${w.lastSeen}`;
      out.push(`  ${w.id}  ${state}  done ${w.jobsDone}  failed ${w.jobsFailed}`);
    }
    if (status.schedules.length > 0) {
      out.push('', 'schedules:');
      for (const s of status.schedules) out.push(`  ${s.id}  ${s.pattern ?? ''} ${s.tz ?? ''}  next ${s.next ?? '-'}`);
    }
    if (status.failures.length > 0) {
      out.push('', 'chunks failed for good (newest first):');
      for (const f of status.failures) out.push(`  ${f.measurement}.${f.field}  ${f.start} .. ${f.end}  ${f.at ?? ''}  ${f.reason}`);
    }
    out.push('', 'last run:', status.lastRun ? `  ${JSON.stringify(status.lastRun)}` : '  (none yet)');
    process.stdout.write(`${out.join('\n')}\n`);
    return EXIT_OK;
  });
}
