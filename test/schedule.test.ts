// The planner role and ad-hoc backfills, with real processes, InfluxDB and Redis.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, spawnCli, tempDir, writeConfig, y } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let conn: Redis;
let dir: string;
const DB = 'farm';
const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  dir = tempDir('schedule');
  await source.query(`CREATE DATABASE "${DB}"`);
  const lines: string[] = [];
  // one value every 10 minutes for two days, two fields
  for (let i = 0; i < 288; i++)
    lines.push(
      `soil,plot=p${i % 3} moisture=${i / 10},ph=${7 + (i % 5) / 10} ${ns('2024-06-01T00:00:00Z') + BigInt(i) * 600_000_000_000n}`,
    );
  await source.write(DB, lines.join('\n'));
});
after(async () => {
  conn?.disconnect();
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

function config(prefix: string, dst: string, scheduler: string): string {
  return writeConfig(
    dir,
    `${prefix}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "${DB}" }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: ${y(dst)} }
processing: { max_workers: 2, batch_size: 100, batch_interval: 0 }
backup:
  measurements:
    - name: "soil"
      start_time: "2024-06-01T00:00:00Z"
      end_time: "2024-06-02T23:59:59Z"
  time_chunks: { size: "6h", overlap: "0s", max_values: 1 }
redis: { url: ${y(redis.url)}, prefix: ${y(prefix)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
${scheduler}`,
  );
}

describe('planner', () => {
  test('two planners keep one schedule per job, plan on every tick, and enqueue each chunk once', async () => {
    const file = config(
      'sched',
      'farm_sched',
      `scheduler:
  enabled: true
  timezone: "Europe/Madrid"
  jobs:
    - { id: "every_second", trigger: "cron", second: "*" }
    - { id: "weekly_full_backup", trigger: "cron", day_of_week: "sun", hour: 1, minute: 0 }
    - { id: "disabled_one", trigger: "cron", minute: 30, enabled: false }`,
    );
    const copy = new Queue('copy', { connection: conn, prefix: 'sched' });
    const schedule = new Queue('schedule', { connection: conn, prefix: 'sched' });
    const planners = [spawnCli(['planner', '--config', file]), spawnCli(['planner', '--config', file])];
    try {
      await waitFor('three ticks planned', async () => ((await schedule.getJobCounts('completed')).completed ?? 0) >= 3, {
        timeoutMs: 20_000,
      });
      const schedulers = await schedule.getJobSchedulers(0, -1);
      assert.deepEqual(schedulers.map((s) => s.key).sort(), ['every_second', 'weekly_full_backup']);
      const weekly = schedulers.find((s) => s.key === 'weekly_full_backup');
      assert.equal(weekly?.pattern, '0 0 1 * * sun');
      assert.equal(weekly?.tz, 'Europe/Madrid');
      // 2 fields x 8 six-hour chunks, however many ticks and planners planned them
      // (no worker runs, so the checkpoints stay and every tick plans the same range).
      const counts = await copy.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
      assert.equal(counts.waiting, 16, JSON.stringify(counts));
    } finally {
      for (const p of planners) p.child.kill('SIGTERM');
      for (const p of planners) assert.equal(await p.exited, 0, p.output());
    }
    // A worker copies what the ticks planned.
    const worker = spawnCli(['worker', '--config', file]);
    try {
      await waitFor('every chunk copied', async () => (await copy.getJobCounts('completed')).completed === 16, { timeoutMs: 30_000 });
    } finally {
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0, worker.output());
    }
    assert.deepEqual((await dump(client(backup.port), 'farm_sched', 'soil')).points, (await dump(client(source.port), DB, 'soil')).points);

    // Restarted with a schedule gone from the file: its scheduler goes too.
    const fewer = config(
      'sched',
      'farm_sched',
      `scheduler:\n  enabled: true\n  jobs:\n    - { id: "weekly_full_backup", trigger: "cron", day_of_week: "sun", hour: 1, minute: 0 }`,
    );
    const again = spawnCli(['planner', '--config', fewer]);
    try {
      await waitFor('the stale schedule removed', async () => {
        const keys = (await schedule.getJobSchedulers(0, -1)).map((s) => s.key);
        return keys.length === 1 && keys[0] === 'weekly_full_backup';
      });
    } finally {
      again.child.kill('SIGTERM');
      assert.equal(await again.exited, 0, again.output());
      await copy.close();
      await schedule.close();
    }
  });
  test('a planner facing a stale job in its next slot retries, then names the schedule and exits 1', async () => {
    const weekly = `scheduler:\n  enabled: true\n  timezone: "Europe/Madrid"\n  jobs:\n    - { id: "weekly_full_backup", trigger: "cron", day_of_week: "sun", hour: 1, minute: 0 }`;
    // Where BullMQ puts the next iteration: asked of a scheduler under another prefix.
    const probe = new Queue('schedule', { connection: conn, prefix: 'stale-probe' });
    await probe.upsertJobScheduler('weekly_full_backup', { pattern: '0 0 1 * * sun', tz: 'Europe/Madrid' }, { name: 'plan' });
    const next = (await probe.getJobScheduler('weekly_full_backup'))?.next;
    await probe.obliterate({ force: true });
    await probe.close();
    assert.ok(next && next > Date.now());
    // A job left in that slot (by an old scheduler of the same id) blocks the upsert.
    const schedule = new Queue('schedule', { connection: conn, prefix: 'stale' });
    await schedule.add('scheduled-plan', {}, { jobId: `repeat:weekly_full_backup:${next}` });
    try {
      const r = await cli(['planner', '--config', config('stale', 'farm_stale', weekly)]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /schedule weekly_full_backup: cannot set "0 0 1 \* \* sun" Europe\/Madrid: .*already taken 5 times/);
      assert.ok(r.stderr.includes(`remove job repeat:weekly_full_backup:${next} from the schedule queue`), r.stderr);
      assert.deepEqual(await schedule.getJobSchedulers(0, -1), []);
    } finally {
      await schedule.obliterate({ force: true });
      await schedule.close();
    }
  });
});

describe('backfill', () => {
  test('copies an ad-hoc range as backfill jobs and never moves a checkpoint backwards', async () => {
    const file = config('bf', 'farm_bf', '');
    // First an ordinary run: checkpoints at the newest values.
    let r = await cli(['run', '--config', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const before = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as {
      checkpoints: { field: string; checkpointNs: string; lastSuccessAt?: string }[];
    };
    assert.equal(before.checkpoints.length, 2);
    // Lose a morning of the backup, then backfill it.
    await backup.query(`DELETE FROM "soil" WHERE time >= '2024-06-01T06:00:00Z' AND time <= '2024-06-01T11:59:59Z'`, 'farm_bf');
    const lost = await dump(client(backup.port), 'farm_bf', 'soil');
    assert.equal(lost.points.length, 576 - 2 * 36);
    const worker = spawnCli(['worker', '--config', file]);
    try {
      r = await cli([
        'backfill',
        '--measurement',
        'soil',
        '--field',
        'moisture',
        '--start-time',
        '2024-06-01T06:00:00Z',
        '--end-time',
        '2024-06-01T11:59:59Z',
        '--wait',
        '--config',
        file,
      ]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /1 done, 0 failed/);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    const copy = new Queue('copy', { connection: conn, prefix: 'bf' });
    const jobs = await copy.getJobs(['completed']);
    const backfills = jobs.filter((j) => j.name === 'backfill-chunk');
    assert.equal(backfills.length, 1, 'the backfill shows as its own kind of job');
    // A job names its field through its run's record, where the run's field plans live once.
    const run = /^(r[0-9a-z]+)\./.exec(backfills[0]?.id ?? '')?.[1];
    const field = await conn.hget(`bf:state:run:${run}`, `f${(backfills[0]?.data as { k: number }).k}`);
    assert.equal((JSON.parse(field ?? '{}') as { field?: string }).field, 'moisture');
    await copy.close();
    const now = await dump(client(backup.port), 'farm_bf', 'soil');
    assert.equal(now.points.length, 576 - 36, 'moisture is back; ph, not asked for, is not');
    const after = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as typeof before;
    // The backfill's chunk is a success of moisture's (lastSuccessAt moves); the checkpoints stay where they were.
    const held = (cs: typeof before.checkpoints): unknown[] => cs.map(({ lastSuccessAt: _, ...c }) => c);
    assert.deepEqual(held(after.checkpoints), held(before.checkpoints), 'the checkpoints did not move');
  });

  test('backfill needs its flags, and names the missing one', async () => {
    const file = config('bf2', 'farm_bf2', '');
    for (const [args, missing] of [
      [['--start-time', '2024-06-01T00:00:00Z', '--end-time', '2024-06-02T00:00:00Z'], '--measurement'],
      [['--measurement', 'soil', '--end-time', '2024-06-02T00:00:00Z'], '--start-time'],
      [['--measurement', 'soil', '--start-time', 'yesterday', '--end-time', '2024-06-02T00:00:00Z'], '--start-time'],
    ] as const) {
      const r = await cli(['backfill', ...args, '--config', file]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(missing));
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });
});
