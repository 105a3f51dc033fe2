import { formatTimeNs } from '@influx-backup/config';
import type { Runtime } from '@influx-backup/runtime';
import { withRuntime, type CommandContext } from '../context.js';
import { EXIT_OK } from '../errors.js';

export async function statusCommand(ctx: CommandContext, opts: { json?: boolean }): Promise<number> {
  return withRuntime(ctx, async (rt: Runtime) => {
    const [copy, schedule, checkpoints, workers, lastRun, schedulers] = await Promise.all([
      rt.copyQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'paused'),
      rt.scheduleQueue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
      rt.store.checkpoints(),
      rt.store.workers(),
      rt.store.lastRun(),
      rt.scheduleQueue.getJobSchedulers(0, -1).catch(() => []),
    ]);
    const status = {
      redis: rt.redisEndpoint,
      queues: { copy, schedule },
      checkpoints: checkpoints.map((c) => ({
        source: c.source,
        database: c.database,
        measurement: c.measurement,
        field: c.field,
        checkpoint: formatTimeNs(c.timeNs),
        checkpointNs: c.timeNs.toString(),
        updatedAt: c.updatedAt ?? null,
      })),
      workers,
      schedules: schedulers.map((s) => ({ id: s.key, pattern: s.pattern ?? null, tz: s.tz ?? null, next: s.next ? new Date(s.next).toISOString() : null })),
      lastRun: lastRun ?? null,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      return EXIT_OK;
    }
    const out: string[] = [];
    out.push(`Redis ${status.redis}`);
    const states = Object.keys(copy);
    const cell = (v: unknown): string => String(v ?? '-').padStart(13);
    out.push('', `${'queue'.padEnd(10)}${states.map(cell).join('')}`);
    out.push(`${'copy'.padEnd(10)}${states.map((k) => cell(copy[k])).join('')}`);
    out.push(`${'schedule'.padEnd(10)}${states.map((k) => cell((schedule as Record<string, number>)[k])).join('')}`);
    out.push('', 'checkpoints:');
    if (checkpoints.length === 0) out.push('  (none yet)');
    for (const c of status.checkpoints) out.push(`  ${c.measurement}.${c.field}  ${c.checkpoint}  (${c.database} on ${c.source}, updated ${c.updatedAt ?? '?'})`);
    out.push('', 'workers seen:');
    if (workers.length === 0) out.push('  (none)');
    for (const w of workers) out.push(`  ${w.id}  last seen ${w.lastSeen}  done ${w.jobsDone}  failed ${w.jobsFailed}`);
    if (status.schedules.length > 0) {
      out.push('', 'schedules:');
      for (const s of status.schedules) out.push(`  ${s.id}  ${s.pattern ?? ''} ${s.tz ?? ''}  next ${s.next ?? '-'}`);
    }
    out.push('', 'last run:');
    out.push(lastRun ? `  ${JSON.stringify(lastRun)}` : '  (none yet)');
    process.stdout.write(`${out.join('\n')}\n`);
    return EXIT_OK;
  });
}
