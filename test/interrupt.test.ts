// A command that follows a run stops when asked, even while Redis is away.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { namer, spawnCli, tempDir, testConfig } from './helpers.js';

const T0 = 1_700_000_000_000_000_000n;
const HOUR = 3_600_000_000_000n;

describe('interrupting a follower', () => {
  let source: InfluxServer;
  let backup: InfluxServer;
  let redis: RedisServer;
  const names = namer('int');
  const dir = tempDir('interrupt');

  before(async () => {
    [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  });
  after(async () => {
    await Promise.all([source?.destroy(), backup?.destroy(), redis?.destroy()]);
  });

  test('plan --wait stops on SIGTERM while Redis is down: exit 130, the jobs left queued, without waiting for Redis', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    await source.write(n.src, [`m v=1 ${T0}`, `m v=2 ${T0 + HOUR}`].join('\n'));
    const file = testConfig(dir, { source, backup, redis }, n, '    - { name: "m", start_time: "2023-11-14T00:00:00Z" }');
    // No worker runs: plan --wait follows its two chunks, which stay queued.
    const plan = spawnCli(['plan', '--wait', '--config', file]);
    try {
      await waitFor('the plan line', () => /2 chunks/.test(plan.output()), { timeoutMs: 60_000 });
      await redis.stop();
      // The follower has noticed: its next read of the counters waits for Redis.
      await waitFor('Redis to be reported away', () => /Redis at .*(ECONNREFUSED|closed)/i.test(plan.output()), { timeoutMs: 30_000 });
      plan.child.kill('SIGTERM');
      // Redis stays down until the command has exited: it must not wait for Redis to come back.
      const code = await Promise.race([plan.exited, new Promise((r) => setTimeout(() => r('still running 30 s after SIGTERM'), 30_000))]);
      assert.equal(code, 130, plan.output());
      assert.match(plan.output(), /interrupted: the jobs stay queued/);
    } finally {
      plan.child.kill('SIGKILL');
      await redis.start();
    }
  });
});
