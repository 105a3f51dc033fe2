// Faults the distributed mode must survive, each with real processes: a worker
// killed with SIGKILL mid-chunk, InfluxDB servers and Redis going away mid-run,
// the same range planned twice at once. The backup must end exact every time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, spawnCli, tempDir, writeConfig, y } from './helpers.js';

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
  close(): Promise<void>;
}

/** A fresh backup database, Redis server and configuration; slow enough batches to act mid-run. */
async function rig(extra = ''): Promise<Rig> {
  n++;
  const redis = await startRedis();
  const dst = `plant_copy${n}`;
  const prefix = `f${n}`;
  const file = writeConfig(
    dir,
    `faults${n}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "${DB}", retries: 2, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: ${y(dst)}, retries: 2, timeout: 5 }
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
${extra}`,
  );
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('copy', { connection: conn, prefix });
  return {
    file,
    dst,
    prefix,
    redis,
    queue,
    conn,
    async close() {
      await queue.close();
      conn.disconnect();
      await redis.destroy();
    },
  };
}

/** Waits until some job is being copied (its first batch acknowledged); returns it. */
async function activeWithProgress(
  queue: Queue,
  by?: (processedBy: string | undefined) => boolean,
): Promise<{ id: string; processedBy?: string }> {
  return waitFor(
    'a chunk half copied',
    async () => {
      for (const job of await queue.getJobs(['active'])) {
        const values = (job.progress as { values?: number } | undefined)?.values ?? 0;
        if (values > 0 && (!by || by(job.processedBy)))
          return { id: job.id ?? '', ...(job.processedBy ? { processedBy: job.processedBy } : {}) };
      }
      return undefined;
    },
    { timeoutMs: 30_000, intervalMs: 20 },
  );
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
    const workers = [spawnCli(['worker', '--config', r.file]), spawnCli(['worker', '--config', r.file])];
    try {
      const plan = spawnCli(['plan', '--wait', '--config', r.file]);
      const victim = workers[0]!;
      const victimId = await waitFor('the first worker to register', async () => {
        const all = await r.conn.hgetall(`${r.prefix}:state:workers`);
        return Object.keys(all).find((id) => id.endsWith(`-${victim.child.pid}`));
      });
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
    test(`the ${which} server down for a few seconds mid-run: jobs retry with backoff and the run ends exact`, async () => {
      const r = await rig();
      try {
        const run = spawnCli(['run', '--config', r.file]);
        await activeWithProgress(r.queue);
        const server = which === 'backup' ? backup : source;
        await server.stop();
        // The outage itself: long enough that requests are refused and retried.
        await new Promise((res) => setTimeout(res, 3_000));
        await server.start();
        assert.equal(await run.exited, 0, run.output());
        assert.match(run.output(), /connection refused|retry/i, 'the outage was seen and retried');
        await assertExact(r.dst);
      } finally {
        await r.close();
      }
    });
  }

  test('Redis restarted mid-run (with its data): workers reconnect and the run finishes exact', async () => {
    const r = await rig();
    try {
      const run = spawnCli(['run', '--config', r.file]);
      await activeWithProgress(r.queue);
      await r.redis.stop({ save: true });
      await new Promise((res) => setTimeout(res, 1_500));
      await r.redis.start();
      assert.equal(await run.exited, 0, run.output());
      await assertExact(r.dst);
    } finally {
      await r.close();
    }
  });

  test('the same range planned by two planners at once: each chunk is enqueued and copied once', async () => {
    const r = await rig();
    try {
      const [a, b] = await Promise.all([cli(['plan', '--config', r.file]), cli(['plan', '--config', r.file])]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      const counts = await r.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      assert.equal(counts.waiting, 18, JSON.stringify(counts));
      // Both planned the same 18 chunks; the queue holds them once (the counts
      // above), whichever planner's add came second.
      assert.match(a.stdout, /18 chunks/);
      assert.match(b.stdout, /18 chunks/);
      const worker = spawnCli(['worker', '--config', r.file]);
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
      await r.close();
    }
  });

  test('SIGTERM to a worker mid-chunk: it finishes its active chunks and exits 0; Ctrl-C on run exits 130 and the next run completes', async () => {
    const r = await rig();
    try {
      // A worker told to stop finishes what it holds.
      await cli(['plan', '--config', r.file]);
      const worker = spawnCli(['worker', '--config', r.file]);
      const held = await activeWithProgress(r.queue);
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0, worker.output());
      assert.match(worker.output(), /SIGTERM: finishing active chunks/);
      const job = await r.queue.getJob(held.id);
      assert.equal(await job?.getState(), 'completed', 'the chunk it held was finished, not abandoned');
      const left = await r.queue.getJobCounts('waiting', 'active');
      assert.ok((left.waiting ?? 0) > 0, 'it took no new chunks after the signal');
      assert.equal(left.active, 0);

      // run, interrupted: exit 130; what it did not finish is finished by the next run.
      const run = spawnCli(['run', '--config', r.file]);
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
