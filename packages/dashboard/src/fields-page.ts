import type { FieldRow, FieldsReport } from '@influx-backup/runtime';
import type { Handler } from './handlers.js';

const NO_STORE = { 'Cache-Control': 'no-store' };

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function duration(secs: number | null): string {
  if (secs === null) return '';
  if (secs < 120) return `${secs} s`;
  if (secs < 7_200) return `${Math.round(secs / 60)} min`;
  if (secs < 172_800) return `${(secs / 3600).toFixed(1)} h`;
  return `${(secs / 86_400).toFixed(1)} d`;
}

/** A field's last check by a repair pass, in a few words: when, what it found and what became of it. */
function lastCheck(c: FieldRow['lastCheck']): string {
  if (!c) return '';
  const found =
    `${c.compared} compared, ${c.different} different` +
    (c.missing + c.changed > 0 ? ` (${c.missing + c.changed} values)` : '') +
    (c.extra > 0 ? `, ${c.extra} only in the backup (kept)` : '');
  const end =
    c.backupTypes.length > 0
      ? `<span class="bad">type conflict: ${esc(c.backupTypes.join(', '))} in the backup</span>`
      : c.ok === false
        ? `<span class="bad">${c.stillMissing ?? 0} values still missing</span>`
        : c.ok === null
          ? `${c.copied} values left to the workers`
          : c.different > 0
            ? `repaired: ${c.copied} values copied again`
            : 'equal';
  return `${esc(c.at)}${c.deep ? ' (deep)' : ''}<br><small>${esc(found)}</small><br>${end}`;
}

function cells(r: FieldRow, waitingMore: boolean): string {
  const failure = r.lastFailure
    ? `<span class="bad">${esc(r.lastFailure.at ?? '')}</span><br><small>${esc(`${r.lastFailure.start} .. ${r.lastFailure.end}`)}</small><br>${esc(r.lastFailure.reason)}`
    : '';
  return [
    esc(r.retentionPolicy ?? '(default)'),
    esc(r.measurement),
    esc(r.field),
    esc(r.checkpoint ?? 'none yet'),
    esc(duration(r.lagSeconds)),
    esc(r.lastSuccessAt ?? ''),
    String(r.active),
    `${r.waiting}${waitingMore && r.waiting > 0 ? '+' : ''}`,
    failure,
    lastCheck(r.lastCheck),
  ]
    .map((c) => `<td>${c}</td>`)
    .join('');
}

/** The fields page: one table row per policy, measurement and field. Plain HTML, nothing fetched from elsewhere. */
export function renderFieldsPage(report: FieldsReport, title: string): string {
  const more = report.waitingTotal > report.sampled;
  const groups = new Map<string, FieldRow[]>();
  for (const r of report.fields) {
    const key = `${r.sourceName === null ? '' : `source ${r.sourceName}: `}${r.database} on ${r.source}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const head = [
    'policy',
    'measurement',
    'field',
    'checkpoint',
    'lag',
    'checkpoint moved',
    'active',
    'waiting',
    'last failure',
    'last verified',
  ];
  const tables = [...groups].map(
    ([where, rows]) =>
      `<h2>${esc(where)}</h2><table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>` +
      `<tbody>${rows.map((r) => `<tr>${cells(r, more)}</tr>`).join('')}</tbody></table>`,
  );
  const note = more
    ? `<p>Waiting chunks per field are counted among the first ${report.sampled} of ${report.waitingTotal} waiting.</p>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}: fields</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1f2937}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #e5e7eb;padding:.35rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}td:nth-child(-n+8){white-space:nowrap}td:nth-child(7),td:nth-child(8){text-align:right}
.bad{color:#b91c1c}nav a{margin-right:1rem}
</style></head><body>
<nav><a href="/">Queues (Bull Board)</a><a href="/api/fields">JSON</a><a href="/api/status">Status</a><a href="/metrics">Metrics</a></nav>
<h1>Fields</h1>
<p>${report.fields.length} ${report.fields.length === 1 ? 'field' : 'fields'}. A field's checkpoint is its newest value in the backup with every older one; lag is how far it is behind now. Last verified: the field's last check by <code>verify --repair</code> or a scheduled check.</p>
${note}${tables.join('\n') || '<p>No checkpoints and no chunks yet: run <code>influx-backup plan</code> or start the planner.</p>'}
</body></html>`;
}

/** The fields page (`html`) or its JSON; 503 naming the reason when Redis cannot give it. */
export function fieldsHandler(fields: () => Promise<FieldsReport>, format: 'html' | 'json', title: string): Handler {
  return async () => {
    try {
      const report = await fields();
      return format === 'json'
        ? { status: 200, body: report, headers: NO_STORE }
        : { status: 200, body: renderFieldsPage(report, title), headers: { ...NO_STORE, 'Content-Type': 'text/html; charset=utf-8' } };
    } catch (err) {
      return { status: 503, body: { error: (err as Error).message }, headers: NO_STORE };
    }
  };
}
