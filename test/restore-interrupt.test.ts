// `restore` interrupted with Ctrl-C: exit 130, its jobs stay queued, and a worker
// finishes them. Real CLI and worker processes, real InfluxDB and Redis.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, namer, spawnCli, tempDir, testConfig, type LongRunning } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let dir: string;
const names = namer('ri');
const T = BigInt(Date.parse('2024-02-01T00:00:00Z')) * 1_000_000n;
const VALUES = 6 * 60;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  dir = tempDir('restore-interrupt');
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

async function sourceCount(db: string): Promise<number> {
  const res = (await source.query('SELECT COUNT(v) FROM lost', db)) as { results: { series?: { values: [string, number][] }[] }[] };
  return res.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

test('Ctrl-C during restore exits 130 saying the chunks go back to the queue; a worker then finishes the restore exactly', async () => {
  const n = names();
  await source.query(`CREATE DATABASE "${n.src}"`);
  // Six 1h chunks of 60 values.
  await source.write(
    n.src,
    Array.from({ length: VALUES }, (_, i) => `lost,s=s${i % 3} v=${i}i ${T + BigInt(i) * 60_000_000_000n}`).join('\n'),
  );
  const measurements = `    - { name: "lost", start_time: "2024-02-01T00:00:00Z", end_time: "2024-02-01T05:59:59Z" }`;
  const fast = testConfig(dir, { source, backup, redis }, n, measurements);
  const backedUp = await cli(['run', '--config', fast]);
  assert.equal(backedUp.code, 0, backedUp.stdout + backedUp.stderr);
  const saved = await dump(client(backup.port), n.dst, 'lost');
  assert.equal(saved.points.length, VALUES);
  await source.query('DROP MEASUREMENT "lost"', n.src);

  // One chunk at a time, six writes 0.1 s apart each: Ctrl-C lands mid-restore.
  const slow = testConfig(dir, { source, backup, redis }, { ...n, prefix: `${n.prefix}slow` }, measurements, {
    processing: 'max_workers: 1, batch_size: 10, batch_interval: 0.1',
  });
  const restore = spawnCli(['restore', '--measurement', 'lost', '--config', slow]);
  let worker: LongRunning | undefined;
  try {
    await waitFor('the restore under way', async () => (await sourceCount(n.src)) > 0, { timeoutMs: 30_000, intervalMs: 20 });
    restore.child.kill('SIGINT');
    assert.equal(await restore.exited, 130, restore.output());
    assert.match(restore.output(), /interrupted: chunks in flight go back to the queue; run again \(or start a worker\) to finish/);
    assert.match(restore.output(), new RegExp(`${VALUES} values to restore`));
    const atInterrupt = await sourceCount(n.src);
    assert.ok(atInterrupt < VALUES, `the restore was over (${atInterrupt} values) before Ctrl-C`);

    worker = spawnCli(['worker', '--config', slow]);
    await waitFor(
      'the worker to finish the restore',
      async () => JSON.stringify(await dump(client(source.port), n.src, 'lost')) === JSON.stringify(saved),
      { timeoutMs: 90_000, intervalMs: 250 },
    );
  } finally {
    restore.child.kill('SIGKILL');
    if (worker) {
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0, worker.output());
    }
  }
});
