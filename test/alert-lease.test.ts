// The cluster's alerts when the planner holding their lease dies (SIGKILL: no hand-over
// at exit). An alert that stays firing is sent again every repeat_interval by the lease
// holder; the other planner takes the lease once it lapses, 3 × monitoring.metrics.interval
// + 5 s after the dead one last renewed it, and sends the next one; nothing is sent twice.
// Real planners, a real webhook receiver, real Redis and InfluxDB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, spawnCli, tempDir, writeConfig, y, type LongRunning } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  await source.query('CREATE DATABASE "leased"');
  const t0 = BigInt(Date.parse('2024-01-01T00:00:00Z')) * 1_000_000n;
  await source.write('leased', Array.from({ length: 6 }, (_, h) => `m v=${h}i ${t0 + BigInt(h) * 3_600_000_000_000n}`).join('\n'));
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

interface Post {
  at: number;
  alert: string;
  state: string;
  repeat: boolean;
}

async function receiver(): Promise<{ url: string; posts: Post[]; close(): Promise<void> }> {
  const posts: Post[] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(data) as { alert: string; state: string; repeat: boolean };
      posts.push({ at: Date.now(), alert: body.alert, state: body.state, repeat: body.repeat });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    posts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const INTERVAL_S = 0.3;
/** The lease's time to live by the README: 3 × monitoring.metrics.interval + 5 s. */
const LEASE_MS = 3 * INTERVAL_S * 1000 + 5_000;
/** monitoring.alerts.repeat_interval: a firing alert is sent again this often, never sooner. */
const REPEAT_MS = 2_000;

test('a planner killed with SIGKILL while it holds the alert lease: the other takes over once the lease lapses, within 3 × interval + 5 s, and sends the next repeat of the firing alert; none is sent twice', async (t) => {
  const hook = await receiver();
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const planners: LongRunning[] = [];
  try {
    const file = writeConfig(
      tempDir('lease'),
      'lease.yaml',
      `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "leased" }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: "leased_copy" }
backup:
  measurements:
    - { name: "m", start_time: "2024-01-01T00:00:00Z", end_time: "2024-01-01T05:59:59Z" }
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
redis: { url: ${y(redis.url)}, prefix: "lease" }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
monitoring:
  metrics: { interval: ${INTERVAL_S} }
  alerts:
    repeat_interval: "${REPEAT_MS / 1000}s"
    rules:
      - { name: "queued", condition: "queue_size > 0", action: "notification" }
  notify: { webhook_url: ${y(hook.url)} }
`,
    );
    // Six chunks wait, with no worker: the rule fires and stays firing.
    const plan = await cli(['plan', '--config', file]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /6 chunks/);
    for (let i = 0; i < 2; i++) planners.push(spawnCli(['planner', '--config', file, '--verbose']));
    await waitFor('the firing alert', () => hook.posts.length >= 1, { timeoutMs: 30_000 });
    const lease = 'lease:state:alerts-lease';
    const holder = await waitFor('the lease holder', () => conn.get(lease));
    const dying = planners.findIndex((p) => holder.includes(`-${p.child.pid}-`));
    assert.ok(dying >= 0, `no planner holds ${holder}`);
    const other = planners[1 - dying]!;
    await waitFor('the other planner to start', () => /schedule|no schedule will tick/.test(other.output()), { timeoutMs: 30_000 });

    // Killed just after it sent a repeat, so no send of its own is under way: the next is the other planner's.
    const sent = hook.posts.length;
    await waitFor('a repeat', () => hook.posts.length > sent, { timeoutMs: REPEAT_MS + 10_000, intervalMs: 5 });
    const killedAt = Date.now();
    planners[dying]!.child.kill('SIGKILL');
    assert.equal(await planners[dying]!.exited, 'SIGKILL');
    assert.equal(await conn.get(lease), holder, 'the killed planner could not hand the lease over');
    // When the lease lapses, as Redis counts it: no one renews it any more.
    const pttl = await conn.pttl(lease);
    const lapsesAt = Date.now() + pttl;
    assert.ok(pttl > 0 && lapsesAt - killedAt <= LEASE_MS + 100, `the lease lapses ${lapsesAt - killedAt} ms after the kill`);

    const before = hook.posts.length;
    const next = await waitFor('the next repeat', () => hook.posts[before], { timeoutMs: LEASE_MS + 10_000 });
    assert.ok(next.at >= lapsesAt - 20, `sent ${lapsesAt - next.at} ms before the lease lapsed`);
    assert.ok(
      next.at - killedAt <= LEASE_MS + INTERVAL_S * 1000 + 2_000,
      `sent ${next.at - killedAt} ms after the kill; the lease is ${LEASE_MS} ms, a check every ${INTERVAL_S * 1000} ms`,
    );
    t.diagnostic(`the lease lapsed ${lapsesAt - killedAt} ms after the kill; the next repeat came ${next.at - killedAt} ms after it`);
    assert.ok((await conn.get(lease))?.includes(`-${other.child.pid}-`), 'the other planner holds the lease');
    assert.deepEqual([next.alert, next.state, next.repeat], ['queued', 'firing', true]);

    // One firing, then only repeats, never two within repeat_interval: no planner sent what the other had.
    assert.deepEqual(
      hook.posts.map((p) => `${p.alert} ${p.state}${p.repeat ? ' again' : ''}`),
      ['queued firing', ...hook.posts.slice(1).map(() => 'queued firing again')],
    );
    hook.posts.slice(1).forEach((p, i) => {
      const gap = p.at - hook.posts[i]!.at;
      assert.ok(gap >= REPEAT_MS - 100, `posts ${i + 1} and ${i + 2} were ${gap} ms apart, under repeat_interval`);
    });
  } finally {
    for (const p of planners) p.child.kill('SIGKILL');
    conn.disconnect();
    await hook.close();
  }
});
