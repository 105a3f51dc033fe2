import { counted, formatAge, formatCount, formatRate, formatSeconds } from '@influx-backup/core';
import type { PassRecord } from '@influx-backup/queue';
import type { StatusReport } from '@influx-backup/runtime';
import { behindCell } from './fields-page.js';
import type { Handler } from './handlers.js';
import { esc, renderPage } from './page.js';

const NO_STORE = { 'Cache-Control': 'no-store' };

/** A table; `classes` gives a column its cell class (num: right-aligned, time and name: on one line). */
function table(head: readonly string[], rows: readonly (readonly string[])[], classes: Readonly<Record<number, string>> = {}): string {
  return (
    `<section class="card"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c, i) => `<td${classes[i] ? ` class="${classes[i]}"` : ''}>${c}</td>`).join('')}</tr>`).join('') +
    '</tbody></table></section>'
  );
}

/** A pass as status prints it: its state, its one rate (over the time spent copying) and its failures. */
function passLines(r: PassRecord | null): string {
  if (!r) return '<p class="muted">None yet.</p>';
  const running = r.inProgress === true || r.finishedAt === null;
  const state = running
    ? '<span class="warn">in progress</span>'
    : r.ok === false || r.failed > 0
      ? '<span class="bad">FAILED</span>'
      : '<span class="ok">done</span>';
  const took = r.finishedAt ? formatSeconds((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000) : undefined;
  const rate =
    r.copyingSeconds !== undefined ? `${formatRate(r.values, r.copyingSeconds)} over ${formatSeconds(r.copyingSeconds)} of copying` : '';
  const items: [string, string][] = [
    ['run', `<span class="mono">${esc(r.runId)}</span> (${esc(r.mode)}): ${state}`],
    ['started', `${esc(r.startedAt)}${took ? `, took ${took}` : ''}`],
    ['chunks', `${formatCount(r.chunks)}: ${formatCount(r.completed)} done, ${formatCount(r.failed)} failed`],
    [
      'values',
      `${formatCount(r.values)}${rate ? ` (${rate})` : ''}${(r.overlapValues ?? 0) > 0 ? `, ${formatCount(r.overlapValues ?? 0)} of them from the overlap` : ''}`,
    ],
    ...r.failures
      .slice(0, 5)
      .map((f): [string, string] => ['failed', esc(`${f.measurement ? `${f.measurement}.${f.field ?? '?'}: ` : ''}${f.reason}`)]),
  ];
  return `<section class="card"><dl>${items.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl></section>`;
}

/** The status page: what `influx-backup status` prints, in Bull Board's look; /api/status has it all as JSON. */
export function renderStatusPage(s: StatusReport, title: string, now = Date.now()): string {
  const states = Object.keys(s.queues.copy);
  const queues = table(
    ['queue', ...states],
    (['copy', 'schedule'] as const).map((q) => [q, ...states.map((k) => formatCount(s.queues[q][k] ?? 0))]),
    Object.fromEntries(states.map((_, i) => [i + 1, 'num'])),
  );
  const m = s.metrics.performance;
  const checkpoints = s.checkpoints.length
    ? table(
        ['source', 'policy', 'field', 'checkpoint', 'age', 'behind the source', 'moved'],
        s.checkpoints.map((c) => [
          esc(c.sourceName ?? c.source),
          esc(c.retentionPolicy ?? '(default)'),
          esc(`${c.measurement}.${c.field}`),
          esc(c.checkpoint),
          esc(formatAge(Math.max(0, now / 1000 - Number(BigInt(c.checkpointNs) / 1_000_000n) / 1000))),
          behindCell(c),
          esc(c.updatedAt ?? ''),
        ]),
        { 0: 'name', 1: 'name', 2: 'name', 3: 'time', 4: 'num', 5: 'name', 6: 'time' },
      )
    : '<p class="muted">No checkpoints yet.</p>';
  const workers = s.workers.length
    ? table(
        ['worker', 'state', 'done', 'failed', 'memory'],
        s.workers.map((w) => [
          `<span class="mono">${esc(w.id)}</span>`,
          w.stoppedAt ? `stopped ${esc(w.stoppedAt)}` : `seen ${esc(formatAge(Math.max(0, (now - Date.parse(w.lastSeen)) / 1000)))} ago`,
          formatCount(w.jobsDone),
          formatCount(w.jobsFailed),
          w.rssMb === undefined ? '' : `${formatCount(w.rssMb)} MB`,
        ]),
        { 0: 'name', 2: 'num', 3: 'num', 4: 'num' },
      )
    : '<p class="muted">No worker has been seen: start <code>influx-backup worker</code>.</p>';
  return renderPage(
    `${title}: status`,
    'status',
    `<h1>Status</h1>
<p class="note">Redis ${esc(s.redis)}. ${counted(m.active_workers, 'chunk')} copying, ${counted(m.queue_size, 'chunk')} waiting.
What <code>influx-backup status</code> prints; <a href="api/status">JSON</a> has it all.</p>
<h2>Queues</h2>${queues}
<h2>Last run</h2>${passLines(s.lastRun)}
${s.lastRestore ? `<h2>Last restore</h2>${passLines(s.lastRestore)}` : ''}
<h2>Checkpoints</h2>${checkpoints}
<h2>Workers</h2>${workers}
${
  s.schedules.length
    ? `<h2>Schedules</h2>${table(
        ['id', 'pattern', 'zone', 'next'],
        s.schedules.map((x) => [esc(x.id), esc(x.pattern ?? ''), esc(x.tz ?? ''), esc(x.next ?? '-')]),
      )}`
    : ''
}`,
  );
}

/** The status page; 503 naming the reason when Redis cannot give it. */
export function statusPageHandler(status: () => Promise<StatusReport>, title: string): Handler {
  return async () => {
    try {
      return {
        status: 200,
        body: renderStatusPage(await status(), title),
        headers: { ...NO_STORE, 'Content-Type': 'text/html; charset=utf-8' },
      };
    } catch (err) {
      return { status: 503, body: { error: (err as Error).message }, headers: NO_STORE };
    }
  };
}
