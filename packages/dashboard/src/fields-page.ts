import { formatAge, formatCount } from '@influx-backup/core';
import type { FieldRow, FieldsReport } from '@influx-backup/runtime';
import type { Handler } from './handlers.js';
import { esc, renderPage } from './page.js';

const NO_STORE = { 'Cache-Control': 'no-store' };

/** An RFC 3339 time as a cell: the date and the time apart, so a narrow column breaks between them. */
function time(iso: string | null): string {
  if (!iso) return '';
  const [date, rest] = iso.split('T');
  return rest === undefined ? esc(iso) : `${esc(date ?? '')} ${esc(rest)}`;
}

/** How far the backup of a field is behind its source: what tells "behind" from "the source has nothing newer". */
export function behindCell(r: Pick<FieldRow, 'behindSourceSeconds' | 'sourceNewestSeenAt'>): string {
  if (r.behindSourceSeconds === null) return '<span class="muted">not known yet</span>';
  const at = r.sourceNewestSeenAt ? ` title="the source's newest value as the plan of ${esc(r.sourceNewestSeenAt)} found it"` : '';
  return r.behindSourceSeconds === 0
    ? `<span class="ok"${at}>up to date</span>`
    : `<span class="warn"${at}>${esc(formatAge(r.behindSourceSeconds))} behind</span>`;
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

/** How long ago an RFC 3339 time was, the time itself on hover. */
function ago(iso: string | null, now: number): string {
  if (!iso) return '';
  return `<span title="${esc(iso)}">${esc(formatAge(Math.max(0, (now - Date.parse(iso)) / 1000)))} ago</span>`;
}

function cells(r: FieldRow, waitingMore: boolean, now: number): string {
  const failure = r.lastFailure
    ? `<span class="bad">${time(r.lastFailure.at)}</span><br><small class="mono">${esc(`${r.lastFailure.start} .. ${r.lastFailure.end}`)}</small><br>${esc(r.lastFailure.reason)}`
    : '';
  const row: [string, string][] = [
    ['name', esc(r.retentionPolicy ?? '(default)')],
    ['name', esc(r.measurement)],
    ['name', esc(r.field)],
    ['time', r.checkpoint ? time(r.checkpoint) : '<span class="muted">none yet</span>'],
    ['num', r.lagSeconds === null ? '' : esc(formatAge(r.lagSeconds))],
    ['name', behindCell(r)],
    ['time', time(r.sourceNewest)],
    ['num', ago(r.lastSuccessAt, now)],
    ['num', formatCount(r.active)],
    ['num', `${formatCount(r.waiting)}${waitingMore && r.waiting > 0 ? '+' : ''}`],
    ['', failure],
    ['', lastCheck(r.lastCheck)],
  ];
  return row.map(([cls, c]) => `<td${cls ? ` class="${cls}"` : ''}>${c}</td>`).join('');
}

const HEAD = [
  'policy',
  'measurement',
  'field',
  'checkpoint',
  'age',
  'behind the source',
  "source's newest",
  'checkpoint moved',
  'active',
  'waiting',
  'last failure',
  'last verified',
];

/** The fields page: one table row per policy, measurement and field, in Bull Board's look. Nothing fetched from elsewhere. */
export function renderFieldsPage(report: FieldsReport, title: string, now = Date.now()): string {
  const more = report.waitingTotal > report.sampled;
  const groups = new Map<string, FieldRow[]>();
  for (const r of report.fields) {
    const key = `${r.sourceName === null ? '' : `source ${r.sourceName}: `}${r.database} on ${r.source}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const tables = [...groups].map(
    ([where, rows]) =>
      `<h2>${esc(where)}</h2><section class="card"><table><thead><tr>${HEAD.map((h) => `<th>${h}</th>`).join('')}</tr></thead>` +
      `<tbody>${rows.map((r) => `<tr>${cells(r, more, now)}</tr>`).join('')}</tbody></table></section>`,
  );
  const note = more
    ? `<p class="note">Waiting chunks per field are counted among the first ${formatCount(report.sampled)} of ${formatCount(report.waitingTotal)} waiting.</p>`
    : '';
  const n = report.fields.length;
  return renderPage(
    `${title}: fields`,
    'fields',
    `<h1>Fields</h1>
<p class="note">${formatCount(n)} ${n === 1 ? 'field' : 'fields'}. A field's checkpoint is its newest value in the backup with every older one.
<b>Age</b> is how old the checkpoint is; <b>behind the source</b> is how far it is from the source's own newest value as the last plan found it:
"up to date" means the backup holds everything the source had, however old that is. <b>Last verified</b>: the field's last check by <code>verify --repair</code> or a scheduled check. <a href="api/fields">JSON</a></p>
${note}${tables.join('\n') || '<p>No checkpoints and no chunks yet: run <code>influx-backup plan</code> or start the planner.</p>'}`,
  );
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
