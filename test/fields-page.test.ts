// The dashboard's fields page through the real dashboard program: per policy,
// measurement and field, the checkpoint and its lag, chunks waiting, and the last
// failure with the server's reason; behind the same auth as Bull Board.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, spawnCli, tempDir, writeConfig, y } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
const PASSWORD = 'fields-page-pw';

interface Row {
  retentionPolicy: string | null;
  measurement: string;
  field: string;
  checkpoint: string | null;
  lagSeconds: number | null;
  behindSourceSeconds: number | null;
  sourceNewest: string | null;
  waiting: number;
  lastFailure: { start: string; reason: string } | null;
  lastCheck: { at: string; compared: number; different: number; backupTypes: string[]; ok: boolean | null } | null;
}

test('the fields page lists every field with its checkpoint, lag, waiting chunks and last failure, behind auth', async () => {
  await source.query('CREATE DATABASE "src"');
  await source.write('src', [`m v=1.5,w=10i ${ns('2024-01-01T00:30:00Z')}`, `m v=2.5,w=20i ${ns('2024-02-01T00:30:00Z')}`].join('\n'));
  await source.write('src', [`q,<b>=1 x=1i ${ns('2024-03-01T00:00:00Z')}`, `q x=2i ${ns('2024-03-05T00:00:00Z')}`].join('\n'));
  // The backup holds v as an integer in January's shard: that chunk fails for good.
  await backup.query('CREATE DATABASE "dst"');
  await backup.write('dst', `m v=7i ${ns('2024-01-01T05:00:00Z')}`);
  const dir = tempDir('fields');
  const base = `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "src", retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: "dst", retries: 0, timeout: 5 }
backup:
  measurements: [__M__]
  time_chunks: { size: "1d", overlap: "0s", max_values: 1 }
  retry: { max_attempts: 1, backoff_factor: 1, max_backoff: 1 }
redis: { url: ${y(redis.url)}, prefix: "fields" }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
dashboard: { port: 0, password: "\${DASHBOARD_PASSWORD}" }
`;
  const m = writeConfig(
    dir,
    'm.yaml',
    base.replace('__M__', '{ name: "m", start_time: "2024-01-01T00:00:00Z", end_time: "2024-03-01T00:00:00Z" }'),
  );
  const q = writeConfig(
    dir,
    'q.yaml',
    base.replace('__M__', '{ name: "q", start_time: "2024-03-01T00:00:00Z", end_time: "2024-03-31T00:00:00Z" }'),
  );
  const run = await cli(['run', '--config', m], { env: { DASHBOARD_PASSWORD: PASSWORD } });
  assert.equal(run.code, 1, run.stderr + run.stdout);
  // Planned, no worker: q's two chunks wait.
  const plan = await cli(['plan', '--config', q], { env: { DASHBOARD_PASSWORD: PASSWORD } });
  assert.equal(plan.code, 0, plan.stderr + plan.stdout);
  // A check of m (its copies, none here, left to workers: q's chunks stay waiting): w is equal, v's backup type is not.
  const check = await cli(['verify', '--repair', '--enqueue', '--config', m], { env: { DASHBOARD_PASSWORD: PASSWORD } });
  assert.equal(check.code, 1, check.stderr + check.stdout);

  const app = spawnCli(['dashboard', '--config', m, '--log-level', 'INFO'], { DASHBOARD_PASSWORD: PASSWORD });
  try {
    const url = await waitFor('the dashboard to listen', () => /dashboard at (http:\/\/\S+\/)/.exec(app.output())?.[1]);
    const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
    assert.equal((await fetch(`${url}fields`)).status, 401);
    assert.equal((await fetch(`${url}api/fields`)).status, 401);

    const json = (await (await fetch(`${url}api/fields`, { headers: auth })).json()) as { fields: Row[] };
    const byName = new Map(json.fields.map((r) => [`${r.measurement}.${r.field}`, r]));
    assert.deepEqual([...byName.keys()].sort(), ['m.v', 'm.w', 'q.x']);
    const v = byName.get('m.v')!;
    assert.equal(v.checkpoint, null, "v's checkpoint stays before its failed chunk");
    assert.equal(v.lastFailure?.start, '2024-01-01T00:00:00Z');
    assert.match(v.lastFailure?.reason ?? '', /field type conflict/);
    const w = byName.get('m.w')!;
    assert.equal(w.checkpoint, '2024-02-01T00:30:00Z');
    assert.equal(w.retentionPolicy, 'autogen');
    assert.ok((w.lagSeconds ?? 0) > 365 * 86_400, String(w.lagSeconds));
    // Years old, and up to date: the backup holds the source's newest value of w.
    assert.equal(w.sourceNewest, '2024-02-01T00:30:00Z');
    assert.equal(w.behindSourceSeconds, 0);
    assert.equal(v.behindSourceSeconds, null, 'no checkpoint, no lag behind the source to tell');
    assert.equal(w.lastFailure, null);
    assert.equal(w.lastCheck?.ok, true);
    assert.equal(w.lastCheck?.different, 0);
    assert.ok((w.lastCheck?.compared ?? 0) > 0);
    // Its January shard holds v as an integer, February's (copied) as the source's float.
    assert.deepEqual([...(v.lastCheck?.backupTypes ?? [])].sort(), ['float', 'integer']);
    assert.equal(v.lastCheck?.ok, false);
    assert.equal(byName.get('q.x')?.waiting, 2);

    const page = await fetch(`${url}fields`, { headers: auth });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    for (const name of [
      '<td class="name">v</td>',
      '<td class="name">w</td>',
      '<td class="name">x</td>',
      '2024-02-01 00:30:00Z',
      'up to date',
      'field type conflict',
      '<th>last verified</th>',
      w.lastCheck?.at ?? '?',
      'type conflict: ',
    ])
      assert.ok(html.includes(name), name);
    assert.doesNotMatch(html, /https?:\/\/(?!127\.0\.0\.1)/, 'the page fetches nothing from elsewhere');
    const board = await (await fetch(url, { headers: auth })).text();
    assert.match(board, /\/fields/, "Bull Board's menu links the fields page");
  } finally {
    app.child.kill('SIGTERM');
    await app.exited;
  }
});
