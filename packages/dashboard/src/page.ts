// The dashboard's own pages (fields, status) in Bull Board's look: its header, colours and type, from its own
// stylesheet's design tokens when that is found (each with a fallback of the same value), with the links of the
// dashboard in the header, as Bull Board's menu has them.

import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The pages Bull Board's menu and every page's header link to: [path, text, icon]. */
export const PAGES: readonly (readonly [string, string, string])[] = [
  ['fields', 'Fields', 'assets/fields.svg'],
  ['status', 'Status', 'assets/status.svg'],
  ['metrics', 'Metrics (Prometheus)', 'assets/metrics.svg'],
];

/** Bull Board's own stylesheet (static/css/main.HASH.css), for its tokens and type; undefined if not found. */
function bullBoardStylesheet(): string | undefined {
  try {
    const api = createRequire(import.meta.url).resolve('@bull-board/api');
    const ui = dirname(createRequire(api).resolve('@bull-board/ui/package.json'));
    const css = readdirSync(join(ui, 'dist', 'static', 'css')).find((f) => /^main\.[0-9a-f]+\.css$/.test(f));
    return css === undefined ? undefined : `static/css/${css}`;
  } catch {
    return undefined;
  }
}

const STYLESHEET = bullBoardStylesheet();

const CSS = `
body{margin:0;background:var(--background,#f3f5f7);color:var(--foreground,#20262c);font:15px/1.4 var(--font-sans,system-ui,sans-serif)}
header{position:sticky;top:0;z-index:2;display:flex;align-items:center;height:64px;background:var(--card,#fff);border-bottom:1px solid var(--border,#e2e7ec)}
header .logo{display:flex;align-items:center;gap:.5rem;height:100%;padding:0 1.25rem;min-width:224px;box-sizing:border-box;background:var(--sidebar,#eceff2);border-right:1px solid var(--sidebar-border,#dde3e9);color:var(--sidebar-foreground,#39424b);font-weight:600;font-size:1.05rem;text-decoration:none}
header .logo img{height:32px}
header nav{display:flex;gap:.25rem;padding:0 1rem;flex-wrap:wrap}
header nav a{display:flex;align-items:center;gap:.4rem;padding:.45rem .8rem;border-radius:var(--radius,.375rem);color:var(--muted-foreground,#5f6b76);text-decoration:none;font-weight:500;font-size:.9rem}
header nav a img{width:18px;height:18px}
header nav a:hover{background:var(--state-hover,#eef4f3);color:var(--foreground,#20262c)}
header nav a.active{background:var(--state-selected,#dcebe8);color:var(--primary,#0f6f64)}
main{padding:1.5rem 2rem;max-width:1600px}
h1{font-size:1.35rem;margin:0 0 .5rem}
h2{font-size:1rem;margin:1.5rem 0 .5rem;color:var(--secondary-foreground,#39424b)}
p.note{color:var(--muted-foreground,#5f6b76);margin:.25rem 0 1rem;max-width:70rem}
.card{margin:0;background:var(--card,#fff);border:1px solid var(--border,#e2e7ec);border-radius:var(--radius,.375rem);overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.84rem}
th,td{padding:.45rem .6rem;text-align:left;vertical-align:top;border-bottom:1px solid var(--border,#e2e7ec)}
tr:last-child td{border-bottom:none}
th{color:var(--muted-foreground,#5f6b76);font-weight:500;background:var(--muted,#eaeef2);white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.time,td.name{white-space:nowrap}
main a{color:var(--primary,#0f6f64)}
.mono{font-family:var(--font-mono,ui-monospace,monospace);font-size:.82rem}
.ok{color:var(--status-completed,#16a34a)}
.warn{color:var(--status-waiting,#d97706)}
.bad{color:var(--status-failed,#ef4444)}
.muted{color:var(--muted-foreground,#5f6b76)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1.25rem;margin:0;padding:1rem}
dt{color:var(--muted-foreground,#5f6b76)}
dd{margin:0}
`;

/** A page of the dashboard: Bull Board's header with the dashboard's links, then `body`. */
export function renderPage(title: string, active: string, body: string): string {
  const nav = [['', 'Queues', 'assets/logo.svg'] as const, ...PAGES]
    .map(
      ([path, text, icon]) =>
        `<a href="${path || './'}"${path === active ? ' class="active"' : ''}><img src="${icon}" alt="">${esc(text)}</a>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<base href="/"><title>${esc(title)}</title>
<link rel="icon" type="image/svg+xml" href="assets/logo.svg">
${STYLESHEET ? `<link rel="stylesheet" href="${STYLESHEET}">` : ''}<style>${CSS}</style></head>
<body><header><a class="logo" href="./"><img src="assets/logo.svg" alt="">influx-backup</a><nav>${nav}</nav></header>
<main>${body}</main></body></html>`;
}
