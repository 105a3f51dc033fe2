// Faults the distributed mode must survive, each with real processes: a worker
// killed with SIGKILL mid-chunk, InfluxDB servers and Redis going away mid-run,
// the same range planned twice at once. The backup must end exact every time.
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, spawnCli, tempDir, writeConfig, y, type LongRunning } from './helpers.js';
import { pausingProxy, type PausingProxy } from './proxy.js';

let source: InfluxServer;
let backup: InfluxServer;
let dir: string;
let n = 0;
const DB = 'plant';
const T0 = BigInt(Date.parse('2024-05-01T00:00:00Z')) * 1_000_000n;

before(async () => {
  [source, backup] = await Promise.all([startInflux(), startInflux()]);
  dir = tempDir('faults');
  // 3 fields x 6 one-hour chunks x 10 series x 360 points: 64,800 values, 18 jobs.
  await source.query(`CREATE DATABASE "${DB}"`);
  const lines: string[] = [];
  for (let p = 0; p < 6 * 360; p++) {
    for (let s = 0; s < 10; s++) {
      lines.push(
        `line,machine=m${s} speed=${(p * 0.37 + s).toFixed(3)},count=${p * 10 + s}i,state="s${p % 7}" ${T0 + BigInt(p) * 10_000_000_000n}`,
      );
    }
    if (lines.length >= 5000) await source.write(DB, lines.splice(0).join('\n'));
  }
  await source.write(DB, lines.join('\n'));
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy()]);
});

interface Rig {
  file: string;
  dst: string;
  prefix: string;
  redis: RedisServer;
  queue: Queue;
  conn: Redis;
  /** The pausing proxy the backup is reached through, with `{ proxied: true }`. */
  proxy?: PausingProxy;
  /** Starts a CLI command (spawnCli); close() kills it if it is still running (a failed test's leftovers). */
  spawn(args: string[]): LongRunning;
  close(): Promise<void>;
}

/**
 * A fresh backup database, Redis server and configuration; slow enough batches to act mid-run.
 * With `proxied`, the backup is reached through a pausing proxy (and requests wait 60 s for
 * an answer), so a test can hold chunks in flight for as long as it needs.
 */
async function rig({ proxied = false }: { proxied?: boolean } = {}): Promise<Rig> {
  n++;
  const redis = await startRedis();
  const proxy = proxied ? await pausingProxy(backup.port) : undefined;
  const dst = `plant_copy${n}`;
  const prefix = `f${n}`;
  const file = writeConfig(
    dir,
    `faults${n}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "${DB}", retries: 2, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${proxy?.port ?? backup.port}, database: ${y(dst)}, retries: 2, timeout: ${proxy ? 60 : 5} }
processing: { max_workers: 2, batch_size: 300, batch_interval: 0.03 }
backup:
  measurements:
    - name: "line"
      start_time: "2024-05-01T00:00:00Z"
      end_time: "2024-05-01T05:59:59.999999999Z"
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
  retry: { max_attempts: 8, backoff_factor: 2, max_backoff: 2 }
redis: { url: ${y(redis.url)}, prefix: ${y(prefix)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
`,
  );
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('copy', { connection: conn, prefix });
  const spawned: LongRunning[] = [];
  return {
    file,
    dst,
    prefix,
    redis,
    queue,
    conn,
    ...(proxy ? { proxy } : {}),
    spawn(args) {
      const p = spawnCli(args);
      spawned.push(p);
      return p;
    },
    async close() {
      for (const p of spawned) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(spawned.map((p) => p.exited));
      await queue.close();
      conn.disconnect();
      await Promise.all([redis.destroy(), proxy?.close()]);
    },
  };
}

/** Waits until some job is being copied (its first batch acknowledged); returns it. */
async function activeWithProgress(
  queue: Queue,
  by?: (processedBy: string | undefined) => boolean,
): Promise<{ id: string; processedBy?: string }> {
  return (await copying(queue, 1, by))[0]!;
}

/** Waits until at least `count` jobs are being copied (each with a batch acknowledged); returns them. */
async function copying(
  queue: Queue,
  count: number,
  by?: (processedBy: string | undefined) => boolean,
): Promise<{ id: string; processedBy?: string }[]> {
  return waitFor(
    `${count} chunks half copied`,
    async () => {
      const found: { id: string; processedBy?: string }[] = [];
      for (const job of await queue.getJobs(['active'])) {
        const values = (job.progress as { values?: number } | undefined)?.values ?? 0;
        if (values > 0 && (!by || by(job.processedBy)))
          found.push({ id: job.id ?? '', ...(job.processedBy ? { processedBy: job.processedBy } : {}) });
      }
      return found.length >= count ? found : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 20 },
  );
}

/** The id a worker process registered under (its record names its pid). */
async function workerId(r: Rig, worker: LongRunning): Promise<string> {
  return waitFor(`worker ${worker.child.pid} to register`, async () => {
    const all = await r.conn.hgetall(`${r.prefix}:state:workers`);
    return Object.entries(all).find(([, seen]) => (JSON.parse(seen) as { pid: number }).pid === worker.child.pid)?.[0];
  });
}

async function assertExact(dst: string): Promise<void> {
  const a = await dump(client(source.port), DB, 'line');
  const b = await dump(client(backup.port), dst, 'line');
  assert.equal(a.points.length, 64_800);
  assert.deepEqual(b.types, a.types);
  assert.equal(b.points.length, a.points.length);
  assert.deepEqual(b.points, a.points);
}

describe('surviving faults', () => {
  test('a worker killed with SIGKILL mid-chunk: another worker finishes the chunk, plan --wait exits 0, the backup is exact', async () => {
    const r = await rig();
    const workers = [r.spawn(['worker', '--config', r.file]), r.spawn(['worker', '--config', r.file])];
    try {
      const plan = r.spawn(['plan', '--wait', '--config', r.file]);
      const victim = workers[0]!;
      const victimId = await workerId(r, victim);
      const job = await activeWithProgress(r.queue, (by) => by === victimId);
      victim.child.kill('SIGKILL');
      assert.equal(await victim.exited, 'SIGKILL');
      const code = await plan.exited;
      assert.equal(code, 0, plan.output());
      assert.match(plan.output(), /18 done, 0 failed/);
      const finished = await r.queue.getJob(job.id);
      assert.equal(await finished?.getState(), 'completed');
      assert.notEqual(finished?.processedBy, victimId, 'the surviving worker finished the killed chunk');
      await assertExact(r.dst);
      const v = await cli(['verify', '--deep', '--config', r.file]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await r.close();
    }
  });

  for (const which of ['backup', 'source'] as const) {
    test(`the ${which} server down mid-run: a chunk fails on the refused connection, waits out its backoff, is retried, and the run ends exact`, async () => {
      const r = await rig();
      const server = which === 'backup' ? backup : source;
      let stopped = false;
      try {
        const run = r.spawn(['run', '--config', r.file]);
        await activeWithProgress(r.queue);
        await server.stop();
        stopped = true;
        // The outage lasts until BullMQ holds a chunk that failed on it, delayed for its backoff.
        const retried = await waitFor(
          'a chunk failed on the refused connection and delayed for its retry',
          async () => {
            for (const job of await r.queue.getJobs(['delayed'])) {
              if (job.attemptsMade >= 1 && /connection refused/.test(job.failedReason ?? '')) return job.id;
            }
            return undefined;
          },
          { timeoutMs: 60_000, intervalMs: 50 },
        );
        await server.start();
        stopped = false;
        assert.equal(await run.exited, 0, run.output());
        assert.match(run.output(), /18 \(18 done, 0 failed\)/);
        await assertExact(r.dst);
        // What BullMQ says of each chunk, and what the run counted: the same retries.
        const done = await r.queue.getJobs(['completed']);
        assert.equal(done.length, 18);
        const again = done.find((j) => j.id === retried);
        assert.ok(again && again.attemptsMade >= 2, `${retried} made ${again?.attemptsMade} attempts`);
        const retries = done.reduce((sum, j) => sum + j.attemptsMade - 1, 0);
        const status = await cli(['status', '--json', '--config', r.file]);
        assert.equal(status.code, 0, status.stderr);
        const report = JSON.parse(status.stdout) as { metrics: { quality: { retry_count: number } }; totals: { retried: number } };
        assert.equal(report.metrics.quality.retry_count, retries, status.stdout);
        assert.equal(report.totals.retried, retries);
      } finally {
        if (stopped) await server.start();
        await r.close();
      }
    });
  }

  test('Redis restarted (with its data) while a worker process holds two chunks mid-copy: the worker reconnects, finishes them, and plan --wait exits 0 with the backup exact', async () => {
    const r = await rig({ proxied: true });
    try {
      const worker = r.spawn(['worker', '--config', r.file]);
      const plan = r.spawn(['plan', '--wait', '--config', r.file]);
      const me = await workerId(r, worker);
      const held = await copying(r.queue, 2, (by) => by === me);
      // The backup's answers wait at the proxy: the two chunks stay in flight through the outage.
      r.proxy!.hold();
      await r.redis.stop({ save: true });
      await waitFor('the worker to see Redis gone', () =>
        new RegExp(`Redis at 127\\.0\\.0\\.1:${r.redis.port}: .*ECONNREFUSED`).test(worker.output()),
      );
      r.proxy!.release();
      await r.redis.start();
      assert.equal(await plan.exited, 0, plan.output());
      assert.match(plan.output(), /18 done, 0 failed/);
      assert.equal(worker.child.exitCode, null, 'the worker lived through the outage');
      for (const { id } of held) {
        const job = await r.queue.getJob(id);
        assert.equal(await job?.getState(), 'completed', id);
        assert.equal(job?.processedBy, me, `${id} was finished by the worker that held it`);
      }
      await assertExact(r.dst);
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0, worker.output());
    } finally {
      await r.close();
    }
  });

  test('two planners of the same range, both held just before their claims and let go together: each chunk is enqueued and copied once', async () => {
    const r = await rig();
    // Each planner reaches Redis through a proxy of its own, which holds it at its first claim of chunks.
    const proxies = await Promise.all([pausingProxy(r.redis.port), pausingProxy(r.redis.port)]);
    try {
      const text = readFileSync(r.file, 'utf8');
      const files = proxies.map((p, i) =>
        writeConfig(dir, `faults${n}-planner${i}.yaml`, text.replace(y(r.redis.url), y(`redis://127.0.0.1:${p.port}/0`))),
      );
      const claim = `${r.prefix}:state:claim:`;
      const held = Promise.all(proxies.map((p) => p.holdWhen((sent) => sent.includes(claim))));
      const planners = files.map((file) => r.spawn(['plan', '--config', file]));
      // Both have planned and neither has claimed: the overlap the claims must survive.
      let both = false;
      void held.then(() => (both = true));
      await waitFor('both planners held at their first claim', () => both, { timeoutMs: 60_000 });
      for (const p of proxies) p.release();
      const [a, b] = await Promise.all(planners.map(async (p) => ({ code: await p.exited, stdout: p.output() })));
      assert.equal(a!.code, 0, a!.stdout);
      assert.equal(b!.code, 0, b!.stdout);
      const counts = await r.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      assert.equal(counts.waiting, 18, JSON.stringify(counts));
      // Both planned the same 18 chunks; the queue holds them once (the counts
      // above), whichever planner's add came second.
      const queued = [a!, b!].map((p) => Number(/: 3 fields, 18 chunks \((\d+) already queued\)/.exec(p.stdout)?.[1]));
      assert.equal(queued[0]! + queued[1]!, 18, `${a!.stdout}\n${b!.stdout}`);
      const worker = r.spawn(['worker', '--config', r.file]);
      try {
        await waitFor('every chunk copied', async () => (await r.queue.getJobCounts('completed')).completed === 18, { timeoutMs: 60_000 });
      } finally {
        worker.child.kill('SIGTERM');
        assert.equal(await worker.exited, 0, worker.output());
      }
      const done = await r.queue.getJobs(['completed']);
      assert.equal(done.length, 18);
      for (const job of done) assert.equal(job.attemptsMade, 1, `${job.id} ran ${job.attemptsMade} times`);
      const seen = Object.values(await r.conn.hgetall(`${r.prefix}:state:workers`)).map((v) => JSON.parse(v) as { jobsDone: number });
      assert.equal(
        seen.reduce((sum, w) => sum + w.jobsDone, 0),
        18,
        'the worker copied 18 chunks, not 36',
      );
      await assertExact(r.dst);
    } finally {
      await Promise.all(proxies.map((p) => p.close()));
      await r.close();
    }
  });

  test('SIGTERM to a worker holding two chunks mid-copy: it finishes both, takes no other, and exits 0; Ctrl-C on run exits 130 and the next run completes', async () => {
    const r = await rig({ proxied: true });
    try {
      // A worker told to stop finishes what it holds: with max_workers 2, two chunks,
      // kept in flight by the proxy holding the backup's answers until the signal is seen.
      await cli(['plan', '--config', r.file]);
      const worker = r.spawn(['worker', '--config', r.file]);
      const me = await workerId(r, worker);
      await copying(r.queue, 2, (by) => by === me);
      r.proxy!.hold();
      const held = (await r.queue.getJobs(['active'])).map((j) => j.id ?? '');
      assert.equal(held.length, 2, 'max_workers 2: two chunks at once');
      const before = (await r.queue.getJobCounts('completed')).completed ?? 0;
      worker.child.kill('SIGTERM');
      await waitFor('the worker to take the signal', () => /SIGTERM: finishing active chunks/.test(worker.output()));
      for (const id of held) assert.equal(await (await r.queue.getJob(id))?.getState(), 'active', `${id} is still being copied`);
      r.proxy!.release();
      assert.equal(await worker.exited, 0, worker.output());
      for (const id of held) {
        const job = await r.queue.getJob(id);
        assert.equal(await job?.getState(), 'completed', `${id}: the chunk it held was finished, not abandoned`);
        assert.equal(job?.processedBy, me);
      }
      const left = await r.queue.getJobCounts('waiting', 'active', 'completed');
      assert.deepEqual(
        [left.waiting, left.active, left.completed],
        [18 - before - 2, 0, before + 2],
        'it took no new chunk after the signal',
      );

      // run, interrupted: exit 130; what it did not finish is finished by the next run.
      const run = r.spawn(['run', '--config', r.file]);
      await activeWithProgress(r.queue);
      run.child.kill('SIGINT');
      assert.equal(await run.exited, 130, run.output());
      assert.match(run.output(), /interrupted/);
      const again = await cli(['run', '--config', r.file], { timeoutMs: 90_000 });
      assert.equal(again.code, 0, again.stdout + again.stderr);
      await assertExact(r.dst);
    } finally {
      await r.close();
    }
  });
});
