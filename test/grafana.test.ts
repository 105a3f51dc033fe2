// deploy/grafana/influx-backup.json checked without Grafana: it is a Grafana 10
// dashboard with a datasource variable and the source, retention policy and measurement
// variables; every PromQL expression in it is valid for promtool; and every metric an
// expression names is one the real dashboard program serves at /metrics after a real run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBinary, startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, ROOT, spawnCli, tempDir, writeConfig, y } from './helpers.js';

const FILE = join(ROOT, 'deploy/grafana/influx-backup.json');

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  type: string;
  name: string;
  query?: string | { query?: string };
  definition?: string;
  includeAll?: boolean;
  allValue?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard;
const variables = dashboard.templating.list;

/** Every panel, those inside rows too. */
function allPanels(list: readonly Panel[] = dashboard.panels): Panel[] {
  return list.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

// Grafana's own variables, as a query of a 5-minute step would have them.
const BUILT_IN: Record<string, string> = {
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
  __range_s: '3600',
  __interval_ms: '60000',
};

/**
 * An expression as Prometheus would get it: Grafana's own variables by a duration, and
 * each of the dashboard's by `.*` (what "All" sends, and safe inside any matcher). A
 * variable the dashboard does not define is an error.
 */
function substitute(expr: string, where: string): string {
  const defined = new Set(variables.map((v) => v.name));
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (_m, a?: string, b?: string, c?: string) => {
    const name = a ?? b ?? c ?? '';
    if (name in BUILT_IN) return BUILT_IN[name]!;
    assert.ok(defined.has(name), `${where}: $${name} is no variable of the dashboard`);
    return '.*';
  });
}

/** Every PromQL expression of the dashboard: panel targets, and the series selector of each label_values() variable. */
function expressions(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of allPanels()) {
    for (const t of p.targets ?? []) {
      const where = `panel "${p.title}" ${t.refId ?? ''}`;
      assert.ok(t.expr && t.expr.trim(), `${where} has no expression`);
      out.push({ where, expr: substitute(t.expr, where) });
    }
  }
  for (const v of variables.filter((x) => x.type === 'query')) {
    const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? v.definition ?? '');
    const m = /^\s*label_values\((.+),\s*(\w+)\s*\)\s*$/.exec(query) ?? /^\s*query_result\((.+)\)\s*$/.exec(query);
    assert.ok(m, `variable ${v.name}: ${query} is neither label_values(series, label) nor query_result(expr)`);
    out.push({ where: `variable ${v.name}`, expr: substitute(m[1]!, `variable ${v.name}`) });
  }
  return out;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: its identifiers once strings, label
 * matchers, ranges and grouping clauses are taken out, except functions (followed
 * by a parenthesis) and keywords.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.:])[a-zA-Z_:][\w:]*(?![\w:])/g)) {
    const rest = bare.slice(m.index + m[0].length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

describe('the Grafana dashboard', () => {
  test('is a Grafana 10 dashboard: schemaVersion 38 or later, a datasource variable every query uses, and source, retention policy and measurement variables', () => {
    assert.equal(dashboard.uid, 'influx-backup');
    assert.ok(dashboard.title);
    // Grafana 10.0 writes 38 (10.3 writes 39); an older Grafana would migrate, a newer one reads it as is.
    assert.ok(dashboard.schemaVersion >= 38 && dashboard.schemaVersion <= 39, String(dashboard.schemaVersion));
    const ds = variables.find((v) => v.type === 'datasource');
    assert.equal(ds?.query, 'prometheus');
    for (const name of ['source', 'retention_policy', 'measurement']) {
      const v = variables.find((x) => x.name === name);
      assert.equal(v?.type, 'query', name);
      assert.equal(v?.includeAll, true, name);
      assert.equal(v?.allValue, '.*', name);
    }
    const panels = allPanels();
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, 'panel ids are unique');
    for (const p of panels) {
      assert.ok(p.gridPos, `${p.title} has a place`);
      for (const d of [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)])
        assert.deepEqual(d, { type: 'prometheus', uid: `\${${ds.name}}` }, `${p.title} queries the chosen datasource`);
    }
    // The panels the issue asks for, each on its metrics.
    const reads = (title: RegExp, metric: string): void => {
      const p = panels.find((x) => title.test(x.title));
      assert.ok(p, `a panel titled ${String(title)}`);
      assert.ok(
        (p.targets ?? []).some((t) => t.expr?.includes(metric)),
        `${p.title} reads ${metric}`,
      );
    };
    reads(/values copied per second by source/i, 'influx_backup_values_copied_total');
    reads(/chunks done, failed and retried/i, 'influx_backup_chunk_retries_total');
    reads(/checkpoint lag/i, 'influx_backup_checkpoint_age_seconds');
    reads(/checkpoint lag/i, 'influx_backup_field_last_success_timestamp_seconds');
    reads(/queue depth by state/i, 'influx_backup_jobs');
    reads(/workers seen/i, 'influx_backup_workers_seen');
    reads(/last run result/i, 'influx_backup_last_run_ok');
    reads(/alerts firing now/i, 'influx_backup_alert_firing_since_timestamp_seconds');
    const lag = panels.find((p) => /checkpoint lag/i.test(p.title)) as Panel & {
      type: string;
      transformations?: { id: string; options: unknown }[];
    };
    assert.equal(lag.type, 'table');
    assert.deepEqual(
      lag.transformations?.find((t) => t.id === 'sortBy')?.options,
      { fields: {}, sort: [{ field: 'Checkpoint lag', desc: true }] },
      'worst first',
    );
  });

  test('the metric names are read from PromQL, not guessed: functions, keywords, labels, strings and ranges are not metrics', () => {
    assert.deepEqual(
      metricNames('sum by (source) (rate(a_total{source=~"x|y", m="by"}[5m])) / on(source) group_left b_total or vector(0) > bool 1e3'),
      ['a_total', 'b_total'],
    );
    assert.deepEqual(metricNames('time() - max by (mode) (c_seconds offset 1h)'), ['c_seconds']);
  });

  test('every expression passes promtool check rules (as a recording rule each)', () => {
    // Like influxd and redis-server: installed when missing and root (CI, scripts/setup.sh), else a failure naming the package.
    const promtool = ensureBinary('promtool', 'prometheus');
    const list = expressions();
    assert.ok(list.length >= 12, `only ${list.length} expressions`);
    const file = join(tempDir('grafana'), 'dashboard-rules.yaml');
    // JSON strings are YAML strings: each expression goes in exactly as written.
    const rules = list.map((e, i) => `      - record: dashboard:expression_${i}\n        expr: ${JSON.stringify(e.expr)}`);
    writeFileSync(file, `groups:\n  - name: influx-backup-dashboard\n    rules:\n${rules.join('\n')}\n`);
    let out: string;
    try {
      out = execFileSync(promtool, ['check', 'rules', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      const numbered = list.map((x, i) => `${i}: ${x.where}: ${x.expr}`).join('\n');
      assert.fail(`promtool refused an expression:\n${e.stdout ?? ''}${e.stderr ?? ''}\n${numbered}`);
    }
    assert.match(out, new RegExp(`SUCCESS: ${list.length} rules found`));
  });
});

describe('the dashboard against /metrics', () => {
  let source: InfluxServer;
  let backup: InfluxServer;
  let redis: RedisServer;
  before(async () => {
    [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  });
  after(async () => {
    await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
  });

  test('every metric an expression names is served by the real dashboard at /metrics after a real run', async () => {
    const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
    await source.query('CREATE DATABASE "src"');
    await source.write('src', [`m v=1.5,w=10i ${ns('2024-01-01T00:30:00Z')}`, `m v=2.5,w=20i ${ns('2024-02-01T00:30:00Z')}`].join('\n'));
    // v's January chunk fails for good (a type conflict): failures and an alert to show.
    await backup.query('CREATE DATABASE "dst"');
    await backup.write('dst', `m v=7i ${ns('2024-01-01T05:00:00Z')}`);
    const file = writeConfig(
      tempDir('grafana'),
      'grafana.yaml',
      `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "src", retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: "dst", retries: 0, timeout: 5 }
backup:
  measurements: [{ name: "m", start_time: "2024-01-01T00:00:00Z", end_time: "2024-03-01T00:00:00Z" }]
  time_chunks: { size: "1d", overlap: "0s", max_values: 1 }
  retry: { max_attempts: 1 }
monitoring:
  metrics: { interval: 0.2 }
  alerts: [{ name: "errors", condition: "error_rate > 0.05", action: "log" }]
redis: { url: ${y(redis.url)}, prefix: "grafana" }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
dashboard: { port: 0, password: "\${DASHBOARD_PASSWORD}" }
`,
    );
    const env = { DASHBOARD_PASSWORD: 'grafana-pw' };
    const run = await cli(['run', '--config', file], { env });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const app = spawnCli(['dashboard', '--config', file, '--log-level', 'INFO'], env);
    try {
      const url = await waitFor('the dashboard to listen', () => /dashboard at (http:\/\/\S+\/)/.exec(app.output())?.[1]);
      const res = await fetch(`${url}metrics`, {
        headers: { authorization: `Basic ${Buffer.from('admin:grafana-pw').toString('base64')}` },
      });
      assert.equal(res.status, 200);
      const text = await res.text();
      const served = new Set([...text.matchAll(/^# TYPE (\S+) \w+$/gm)].map((m) => m[1]!));
      const used = new Map<string, string>();
      for (const { where, expr } of expressions()) {
        const names = metricNames(expr);
        assert.ok(names.length > 0, `${where}: no metric found in ${expr}`);
        for (const name of names) used.set(name, where);
      }
      const missing = [...used].filter(([name]) => !served.has(name)).map(([name, where]) => `${name} (${where})`);
      assert.deepEqual(
        missing,
        [],
        `not served at /metrics; served: ${[...served].filter((s) => s.startsWith('influx_backup')).join(', ')}`,
      );
      // What the run left is there to see: the failed chunk and the alert it started.
      assert.match(text, /^influx_backup_chunks_failed_total\{source="src"\} 1$/m);
      assert.match(text, /^influx_backup_alert_firing\{alert="errors",source="src",kind="copy"\} 1$/m);
    } finally {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });
});
