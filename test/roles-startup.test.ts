// The long-running roles started before Redis: worker, planner and dashboard keep
// retrying where a command gives up, and start their work once Redis answers on
// that port. Real processes, a real Redis started late on the port they look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, spawnCli, tempDir, writeConfig, type LongRunning } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer | undefined;
const DB = 'early';
const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

before(async () => {
  [source, backup] = await Promise.all([startInflux(), startInflux()]);
  await source.query(`CREATE DATABASE "${DB}"`);
  // Two fields, four 1h chunks each.
  const t0 = ns('2024-03-01T00:00:00Z');
  await source.write(
    DB,
    Array.from({ length: 240 }, (_, i) => `pump,site=s${i % 3} flow=${i / 4},runs=${i}i ${t0 + BigInt(i) * 60_000_000_000n}`).join('\n'),
  );
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

test('worker, planner and dashboard started while nothing listens on the Redis port keep retrying past where a command gives up; once Redis starts there, /health turns 200, the planner plans, the worker copies exactly', async () => {
  const port = await freePort();
  const file = writeConfig(
    tempDir('roles'),
    'early.yaml',
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "${DB}" }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: "early_copy" }
processing: { max_workers: 2, batch_size: 50, batch_interval: 0 }
backup:
  measurements:
    - { name: "pump", start_time: "2024-03-01T00:00:00Z", end_time: "2024-03-01T03:59:59Z" }
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
scheduler:
  enabled: true
  jobs:
    - { id: "every_two_seconds", trigger: "cron", second: "*/2" }
redis: { url: "redis://127.0.0.1:${port}/0", prefix: "early" }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
dashboard: { port: 0, password: "\${DASHBOARD_PASSWORD}" }
`,
  );
  const env = { DASHBOARD_PASSWORD: 'early-pw' };
  const roles: Record<'worker' | 'planner' | 'dashboard' | 'stopped', LongRunning> = {
    worker: spawnCli(['worker', '--config', file], env),
    planner: spawnCli(['planner', '--config', file], env),
    dashboard: spawnCli(['dashboard', '--config', file], env),
    stopped: spawnCli(['worker', '--config', file], env),
  };
  try {
    const refused = new RegExp(`Redis at 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED [^\\n]*; retrying`);
    for (const [name, p] of Object.entries(roles)) await waitFor(`${name} to report Redis refused`, () => refused.test(p.output()));
    const url = await waitFor('the dashboard to listen', () => /dashboard at (http:\/\/\S+\/)/.exec(roles.dashboard.output())?.[1]);
    assert.equal((await fetch(`${url}health`)).status, 503);

    // A worker told to stop while it waits for Redis stops at once.
    roles.stopped.child.kill('SIGTERM');
    assert.equal(await roles.stopped.exited, 0, roles.stopped.output());

    // A command gives up after about 5 s; the roles, past that point, go on waiting.
    const [status] = await Promise.all([
      cli(['status', '--config', file], { env, timeoutMs: 30_000 }),
      ...(['worker', 'planner'] as const).map((name) =>
        waitFor(
          `${name} past the point where a command gives up`,
          () => /cannot reach Redis at [^\n]*; waiting for it/.test(roles[name].output()),
          {
            timeoutMs: 30_000,
          },
        ),
      ),
    ]);
    assert.equal(status.code, 1, status.stdout + status.stderr);
    assert.match(status.stderr, new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${port}`));
    for (const name of ['worker', 'planner', 'dashboard'] as const)
      assert.equal(roles[name].child.exitCode, null, `${name} exited:\n${roles[name].output()}`);

    redis = await startRedis({ port });
    await waitFor('/health 200', async () => (await fetch(`${url}health`)).status === 200, { timeoutMs: 30_000 });
    const want = await dump(client(source.port), DB, 'pump');
    assert.equal(want.points.length, 480);
    await waitFor(
      'the planned chunks copied',
      async () => JSON.stringify(await dump(client(backup.port), 'early_copy', 'pump').catch(() => undefined)) === JSON.stringify(want),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    assert.match(roles.planner.output(), /schedule every_two_seconds: planning an? incremental pass of early/);
    assert.match(roles.worker.output(), /worker \S+ started/);
  } finally {
    for (const p of Object.values(roles)) p.child.kill('SIGTERM');
    for (const [name, p] of Object.entries(roles)) assert.equal(await p.exited, 0, `${name}:\n${p.output()}`);
  }
});
