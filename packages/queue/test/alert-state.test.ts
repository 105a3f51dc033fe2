// The cluster-wide alert state against a real Redis: one holder of the lease at a
// time, and a change that goes through only when the entry is still what was read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@influx-backup/testkit';
import { createRedis } from '../src/connection.js';
import { createStore, type FiringAlert, type Store } from '../src/store/index.js';

let server: RedisServer;
let redis: Redis;
let n = 0;

before(async () => {
  server = await startRedis();
  redis = createRedis({ url: server.url, prefix: 'unused' });
});

after(async () => {
  await redis?.quit();
  await server?.destroy();
});

const fresh = (): Store => createStore(redis, `alerts-${++n}`);

const alert = (run: string, sentAt: number): FiringAlert => ({
  rule: 'errors#0123456789ab',
  alert: 'errors',
  source: '',
  kind: 'copy',
  run,
  runStartedAt: 1_000,
  since: 2_000,
  sentAt,
  metric: 'error_rate',
  operator: '>',
  threshold: 0.05,
  value: 0.25,
});

test('only the holder of the lease changes an entry, and only from what it read; a lost race sends nothing', async () => {
  const { alerts } = fresh();
  assert.equal(await alerts.lease('a', 10_000), true);
  assert.equal(await alerts.lease('b', 10_000), false);
  // b does not hold the lease: nothing changes.
  assert.equal(await alerts.swap('b', 'k', undefined, alert('run-1', 2_000)), false);
  assert.deepEqual(await alerts.firing(), []);

  assert.equal(await alerts.swap('a', 'k', undefined, alert('run-1', 2_000)), true);
  const [read] = (await alerts.read()).values();
  assert.deepEqual(read?.alert, alert('run-1', 2_000));
  // Two decisions on the same read: the first goes through, the second finds the entry changed.
  assert.equal(await alerts.swap('a', 'k', read.raw, alert('run-2', 3_000)), true);
  assert.equal(await alerts.swap('a', 'k', read.raw, alert('run-2', 3_000)), false);
  // "None" read while one exists does not overwrite it.
  assert.equal(await alerts.swap('a', 'k', undefined, alert('run-3', 4_000)), false);
  assert.deepEqual(await alerts.firing(), [alert('run-2', 3_000)]);

  // Handed over: the other holder may now resolve it (remove the entry).
  await alerts.release('a');
  assert.equal(await alerts.lease('b', 10_000), true);
  const [now] = (await alerts.read()).values();
  assert.equal(await alerts.swap('a', 'k', now!.raw, undefined), false);
  assert.equal(await alerts.swap('b', 'k', now!.raw, undefined), true);
  assert.deepEqual(await alerts.firing(), []);
});

test("an entry this version cannot read (an older one's) is listed as unreadable, and can be removed", async () => {
  const store = fresh();
  await redis.hset(`alerts-${n}:state:alerts-firing`, 'high_error_rate', JSON.stringify({ value: 0.3, at: '2024-01-01T00:00:00Z' }));
  const read = await store.alerts.read();
  assert.deepEqual([...read.keys()], ['high_error_rate']);
  assert.equal(read.get('high_error_rate')?.alert, undefined);
  assert.deepEqual(await store.alerts.firing(), []);
  assert.equal(await store.alerts.lease('a', 10_000), true);
  assert.equal(await store.alerts.swap('a', 'high_error_rate', read.get('high_error_rate')!.raw, undefined), true);
  assert.equal((await store.alerts.read()).size, 0);
});

test("Redis's clock, in ms", async () => {
  const { alerts } = fresh();
  const before = Date.now();
  const t = await alerts.now();
  // The same machine's clock: within a second either way.
  assert.ok(Math.abs(t - before) < 1_000, `${t} vs ${before}`);
});

test('the newest run of each source and kind, and a run record naming its kind and source', async () => {
  const { runs } = fresh();
  await runs.open('r1', { runId: 'run-1', kind: 'copy', sourceDb: 'db', backupDb: 'db_backup' });
  await runs.open('r2', { runId: 'run-2.a', kind: 'copy', source: 'a', sourceDb: 'db', backupDb: 'db_backup' });
  await runs.open('r3', { runId: 'restore-3.a', kind: 'restore', source: 'a', sourceDb: 'db_backup', backupDb: 'db', reads: 'backup' });
  await runs.open('r4', { runId: 'run-4.a', kind: 'copy', source: 'a', sourceDb: 'db', backupDb: 'db_backup' });
  const newest = (await runs.newestByKind()).sort((x, y) => x.run.localeCompare(y.run));
  assert.deepEqual(newest, [
    { source: '', kind: 'copy', run: 'r1' },
    { source: 'a', kind: 'restore', run: 'r3' },
    { source: 'a', kind: 'copy', run: 'r4' },
  ]);
  const c = await runs.counters('r3');
  assert.deepEqual([c.runId, c.kind, c.source], ['restore-3.a', 'restore', 'a']);
  const single = await runs.counters('r1');
  assert.deepEqual([single.runId, single.kind, 'source' in single], ['run-1', 'copy', false]);
});
