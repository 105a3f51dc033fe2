// A worker told to stop while a chunk of its cannot finish: a pausing TCP proxy in front
// of the real backup influxd holds the chunk's first write, so it is never acknowledged. Past 30 s the worker hands the chunk back and exits; the chunk
// returns to the queue when its lock lapses and another worker copies it exactly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { client, dump, spawnCli, tempDir, writeConfig, y, type LongRunning } from './helpers.js';
import { pausingProxy, type PausingProxy } from './proxy.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let proxy: PausingProxy;
const DB = 'held';
const VALUES = 4 * 60;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  proxy = await pausingProxy(backup.port);
  await source.query(`CREATE DATABASE "${DB}"`);
  // Four 1h chunks of 60 values.
  const t0 = BigInt(Date.parse('2024-04-01T00:00:00Z')) * 1_000_000n;
  await source.write(
    DB,
    Array.from({ length: VALUES }, (_, i) => `tank,t=t${i % 2} level=${i / 3} ${t0 + BigInt(i) * 60_000_000_000n}`).join('\n'),
  );
});
after(async () => {
  await Promise.allSettled([proxy?.close(), source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

/** A configuration whose backup server is at `backupPort`; answers may take long (the proxy holds them). */
function config(dir: string, name: string, backupPort: number): string {
  return writeConfig(
    dir,
    `${name}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "${DB}", retries: 0, timeout: 120 }
  backup: { host: "127.0.0.1", port: ${backupPort}, database: "held_copy", retries: 0, timeout: 120 }
processing: { max_workers: 1, batch_size: 10, batch_interval: 0 }
backup:
  measurements:
    - { name: "tank", start_time: "2024-04-01T00:00:00Z", end_time: "2024-04-01T03:59:59Z" }
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
redis: { url: ${y(redis.url)}, prefix: "held" }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
`,
  );
}

/** The id a worker process registered under (its record names its pid). */
function registered(conn: Redis, worker: LongRunning): Promise<string> {
  return waitFor(`worker ${worker.child.pid} to register`, async () => {
    const all = await conn.hgetall('held:state:workers');
    return Object.entries(all).find(([, seen]) => (JSON.parse(seen) as { pid: number }).pid === worker.child.pid)?.[0];
  });
}

test('SIGTERM to a worker whose chunk cannot finish: it waits 30 s, hands the chunk back and exits 0; the chunk returns to the queue when its lock lapses, another worker finishes it, the backup is exact', async (t) => {
  const dir = tempDir('handback');
  const throughProxy = config(dir, 'proxied', proxy.port);
  const direct = config(dir, 'direct', backup.port);
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('copy', { connection: conn, prefix: 'held' });
  const procs: LongRunning[] = [];
  try {
    const plan = spawnCli(['plan', '--wait', '--config', throughProxy]);
    procs.push(plan);
    // The first write of a chunk, and everything after it, is held: that chunk cannot finish.
    const writeHeld = proxy.holdWhen((sent) => sent.startsWith('POST /write'));
    const first = spawnCli(['worker', '--config', throughProxy]);
    procs.push(first);
    await writeHeld;
    const firstId = await registered(conn, first);
    const held = await waitFor(
      'the chunk held',
      async () => {
        const active = await queue.getJobs(['active']);
        return active.length === 1 && active[0]!.processedBy === firstId ? active[0]! : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal((held.progress as { values?: number } | undefined)?.values ?? 0, 0, 'not one batch of it acknowledged');

    const signalled = performance.now();
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, first.output());
    const waited = (performance.now() - signalled) / 1000;
    t.diagnostic(`the worker exited ${waited.toFixed(1)} s after SIGTERM`);
    // The README's 30 s; what follows it (closing, the last heartbeat) takes a moment.
    assert.ok(waited >= 29.9 && waited <= 40, `exited ${waited.toFixed(1)} s after SIGTERM:\n${first.output()}`);
    assert.match(first.output(), /SIGTERM: finishing active chunks, then exiting/);
    assert.match(first.output(), /active chunks did not finish within 30 s; handing them back/);
    assert.equal(await (await queue.getJob(held.id!))?.getState(), 'active', 'handed back: it waits for its lock to lapse');

    // Another worker, its backup answering: it takes the chunk over once the lock lapses, and the rest.
    const second = spawnCli(['worker', '--config', direct]);
    procs.push(second);
    const secondId = await registered(conn, second);
    assert.equal(await plan.exited, 0, plan.output());
    assert.match(plan.output(), /chunks +4 \(4 done, 0 failed\)/);
    const done = await queue.getJob(held.id!);
    assert.equal(await done?.getState(), 'completed');
    assert.equal(done?.processedBy, secondId, 'finished by the second worker');
    assert.equal(done?.stalledCounter, 1, 'it came back through the stalled check, once');
    const want = await dump(client(source.port), DB, 'tank');
    assert.equal(want.points.length, VALUES);
    assert.deepEqual(await dump(client(backup.port), 'held_copy', 'tank'), want);
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await queue.close();
    conn.disconnect();
  }
});
