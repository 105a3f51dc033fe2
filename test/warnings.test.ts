// The loud warnings an operator gets from the CLI: DATA LOSS AHEAD when a backup
// retention policy keeps data for less time than the source's, and Redis running
// without appendonly or with an evicting maxmemory-policy. Real servers, real CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, spawnCli, tempDir, writeConfig, y } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let dir: string;
let n = 0;
/** Now, to the second, less two days: inside every policy used here. */
const start = new Date(Math.floor(Date.now() / 1000) * 1000 - 2 * 86_400_000);
const startNs = BigInt(start.getTime()) * 1_000_000n;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis({ appendonly: true })]);
  dir = tempDir('warnings');
  // The source keeps 30 days in its default policy "raw"; a day of hourly values from two days ago.
  await source.query('CREATE DATABASE "plant"');
  await source.query('CREATE RETENTION POLICY "raw" ON "plant" DURATION 30d REPLICATION 1 DEFAULT');
  await source.write(
    'plant',
    Array.from({ length: 24 }, (_, h) => `meter kwh=${h + 0.5},n=${h}i ${startNs + BigInt(h) * 3_600_000_000_000n}`).join('\n'),
  );
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

function config(dst: string, redisUrl = redis.url): string {
  n++;
  return writeConfig(
    dir,
    `c${n}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "plant", retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: ${y(dst)}, retries: 0, timeout: 5 }
processing: { batch_interval: 0 }
backup:
  measurements:
    - { name: "meter", start_time: ${y(start.toISOString())} }
  time_chunks: { size: "6h", overlap: "0s" }
redis: { url: ${y(redisUrl)}, prefix: ${y(`warn${n}`)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
`,
  );
}

describe('DATA LOSS AHEAD', () => {
  test("a backup policy keeping 1w of the source's 30d: run warns DATA LOSS AHEAD with the ALTER statement and still copies exactly; once an admin runs it, the warning is gone", async () => {
    await backup.query('CREATE DATABASE "plant_short"');
    await backup.query('CREATE RETENTION POLICY "raw" ON "plant_short" DURATION 1w REPLICATION 1 DEFAULT');
    const file = config('plant_short');
    const r = await cli(['run', '--config', file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = r.stdout + r.stderr;
    const warning = new RegExp(
      `WARNING - DATA LOSS AHEAD: the backup's retention policy "raw" keeps data for 1w, the source's 30d: ` +
        `the backup InfluxDB 127\\.0\\.0\\.1:${backup.port} deletes data the source still holds\\. ` +
        `To keep it, an admin runs: (ALTER RETENTION POLICY "raw" ON "plant_short" DURATION 720h)$`,
      'm',
    );
    const statement = warning.exec(out)?.[1];
    assert.ok(statement, out);
    assert.equal(out.split('DATA LOSS AHEAD').length - 1, 1, 'said once');
    const want = await dump(client(source.port), 'plant', 'meter', 'raw');
    assert.equal(want.points.length, 48);
    assert.deepEqual(await dump(client(backup.port), 'plant_short', 'meter', 'raw'), want);
    // plan, which the scheduler and plan --wait share, says it too.
    const plan = await cli(['plan', '--config', file]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout + plan.stderr, /DATA LOSS AHEAD: the backup's retention policy "raw"/);

    await backup.query(statement);
    const again = await cli(['run', '--config', file]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.doesNotMatch(again.stdout + again.stderr, /DATA LOSS AHEAD/);
    const policies = (await backup.query('SHOW RETENTION POLICIES ON "plant_short"')) as {
      results: { series: { values: unknown[][] }[] }[];
    };
    assert.deepEqual(
      policies.results[0]!.series[0]!.values.filter((v) => v[0] === 'raw').map((v) => v[1]),
      ['720h0m0s'],
    );
  });

  test('a backup policy keeping as long as the source, or longer, gives no warning', async () => {
    await backup.query('CREATE DATABASE "plant_long"');
    await backup.query('CREATE RETENTION POLICY "raw" ON "plant_long" DURATION 60d REPLICATION 1 DEFAULT');
    const r = await cli(['run', '--config', config('plant_long')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /DATA LOSS AHEAD/);
    assert.equal((await dump(client(backup.port), 'plant_long', 'meter', 'raw')).points.length, 48);
  });
});

describe('Redis settings', () => {
  const APPENDONLY = /WARNING - Redis appendonly is off: a Redis restart loses the queues and checkpoints \(set appendonly yes\)/;
  const EVICTION = /WARNING - Redis maxmemory-policy is allkeys-lru: set it to noeviction, or Redis may evict queued jobs and checkpoints/;

  test('appendonly off and maxmemory-policy allkeys-lru: plan and a worker warn about both; appendonly yes with noeviction: no warning', async () => {
    const loose = await startRedis({ appendonly: false, maxmemoryPolicy: 'allkeys-lru' });
    try {
      const file = config('plant_loose', loose.url);
      const plan = await cli(['plan', '--config', file]);
      assert.equal(plan.code, 0, plan.stderr);
      for (const w of [APPENDONLY, EVICTION]) assert.match(plan.stderr + plan.stdout, w);
      const worker = spawnCli(['worker', '--config', file]);
      try {
        await waitFor('the worker to start', () => /worker \S+ started/.test(worker.output()), { timeoutMs: 30_000 });
        for (const w of [APPENDONLY, EVICTION]) assert.match(worker.output(), w);
      } finally {
        worker.child.kill('SIGTERM');
        assert.equal(await worker.exited, 0, worker.output());
      }
    } finally {
      await loose.destroy();
    }
    // The file's own Redis runs as the README asks.
    const good = await cli(['plan', '--config', config('plant_good')]);
    assert.equal(good.code, 0, good.stderr);
    assert.doesNotMatch(good.stdout + good.stderr, /Redis (appendonly|maxmemory-policy)/);
  });

  test('a Redis that forbids CONFIG (as managed ones do): no warning, since nothing can be told, and the copy works', async () => {
    const managed = await startRedis({ args: ['--rename-command', 'CONFIG', ''] });
    try {
      const r = await cli(['run', '--config', config('plant_managed', managed.url)]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /Redis (appendonly|maxmemory-policy)/);
      assert.equal((await dump(client(backup.port), 'plant_managed', 'meter', 'raw')).points.length, 48);
    } finally {
      await managed.destroy();
    }
  });
});
