// What `plan --wait` says when the chunks it follows are gone: Redis restarted without
// its data under a running backup, and jobs removed by hand. Real worker processes,
// real Redis and InfluxDB servers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, spawnCli, tempDir, writeConfig, y } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let dir: string;
const DB = 'lossy';
const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

before(async () => {
  [source, backup] = await Promise.all([startInflux(), startInflux()]);
  dir = tempDir('loss');
  await source.query(`CREATE DATABASE "${DB}"`);
  // Two fields, four 1h chunks of 60 values each: 8 chunks.
  const t0 = ns('2024-03-01T00:00:00Z');
  await source.write(
    DB,
    Array.from({ length: 240 }, (_, i) => `pump,site=s${i % 3} flow=${i / 4},runs=${i}i ${t0 + BigInt(i) * 60_000_000_000n}`).join('\n'),
  );
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy()]);
});

/** A configuration of its own Redis; `processing` sets how fast a worker copies. */
function config(redis: RedisServer, name: string, processing: string, file = name): string {
  return writeConfig(
    dir,
    `${file}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "${DB}", retries: 1, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: ${y(`${name}_copy`)}, retries: 1, timeout: 5 }
processing: ${processing}
backup:
  measurements:
    - { name: "pump", start_time: "2024-03-01T00:00:00Z", end_time: "2024-03-01T03:59:59Z" }
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
  retry: { max_attempts: 2, backoff_factor: 1, max_backoff: 1 }
redis: { url: ${y(redis.url)}, prefix: ${y(name)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
`,
  );
}

async function assertExact(dst: string): Promise<void> {
  const want = await dump(client(source.port), DB, 'pump');
  assert.equal(want.points.length, 480);
  assert.deepEqual(await dump(client(backup.port), dst, 'pump'), want);
}

test('Redis restarted without its data under plan --wait: it exits 1 saying the run is gone because Redis lost its data; the worker goes on, and the next run copies everything exactly', async () => {
  const redis = await startRedis();
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('copy', { connection: conn, prefix: 'restarted' });
  queue.on('error', () => undefined);
  // One chunk at a time, 12 writes 0.1 s apart each: the restart falls in the middle of the run.
  const file = config(redis, 'restarted', '{ max_workers: 1, batch_size: 5, batch_interval: 0.1 }');
  const worker = spawnCli(['worker', '--config', file]);
  try {
    const plan = spawnCli(['plan', '--wait', '--config', file]);
    await waitFor(
      'a chunk copied and others waiting',
      async () => {
        const c = await queue.getJobCounts('completed', 'waiting');
        return (c.completed ?? 0) >= 1 && (c.waiting ?? 0) >= 1;
      },
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    // No AOF, no RDB (the test server saves nothing): the restarted Redis is empty.
    await redis.stop();
    await redis.start();
    assert.equal(await conn.dbsize(), 0, 'Redis came back empty');
    const code = await plan.exited;
    assert.equal(code, 1, plan.output());
    assert.match(plan.output(), /^FAILED in /m);
    assert.match(plan.output(), /failed +the run is gone from Redis \(its record expired, or Redis lost its data\)/);
    // The worker lived through it and stops as usual.
    assert.equal(worker.child.exitCode, null, `the worker stopped:\n${worker.output()}`);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.output());

    // The next run plans from nothing (the checkpoints went with the data) and copies it all.
    const fast = config(redis, 'restarted', '{ max_workers: 2, batch_size: 50, batch_interval: 0 }', 'restarted-fast');
    const again = await cli(['run', '--config', fast]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /chunks +8 \(8 done, 0 failed\)/);
    await assertExact('restarted_copy');
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
    await queue.close();
    conn.disconnect();
    await redis.destroy();
  }
});

test('jobs removed by hand while plan --wait follows them: once the queue is idle it exits 1 counting exactly those chunks as gone from the queue; the rest are copied', async () => {
  const redis = await startRedis();
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('copy', { connection: conn, prefix: 'removed' });
  const file = config(redis, 'removed', '{ max_workers: 2, batch_size: 50, batch_interval: 0 }');
  try {
    const plan = spawnCli(['plan', '--wait', '--config', file]);
    const waiting = await waitFor(
      'the 8 chunks queued',
      async () => {
        const jobs = await queue.getJobs(['waiting']);
        return jobs.length === 8 ? jobs : undefined;
      },
      { timeoutMs: 30_000 },
    );
    // What Bull Board's "remove" does: three of them.
    for (const job of waiting.slice(0, 3)) await job.remove();
    const worker = spawnCli(['worker', '--config', file]);
    try {
      assert.equal(await plan.exited, 1, plan.output());
    } finally {
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0, worker.output());
    }
    assert.match(plan.output(), /chunks +8 \(5 done, 3 failed\)/);
    assert.match(plan.output(), /failed +3 chunks are gone from the queue \(removed, or Redis lost its data\)/);
    // The five others are in the backup, exactly; the three removed are not.
    const want = await dump(client(source.port), DB, 'pump');
    const got = await dump(client(backup.port), 'removed_copy', 'pump');
    assert.equal(got.points.length, 5 * 60, `${got.points.length} values copied`);
    for (const p of got.points) assert.ok(want.points.includes(p), p);
  } finally {
    await queue.close();
    conn.disconnect();
    await redis.destroy();
  }
});
