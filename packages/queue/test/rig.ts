// What the queue's end-to-end tests share: two real influxd servers and a real
// Redis for the test file, and a rig per test (a queue, a state store and, on
// demand, a worker under a prefix of the test's own) to plan, copy and compare.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { ALL_TIME, assertSameField, startInflux, startRedis, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { InfluxClient } from '@influx-backup/influx';
import { silentLogger } from '@influx-backup/core';
import { createRedis } from '../src/connection.js';
import { createStore, type Store } from '../src/store/index.js';
import type { MeasurementPlanConfig, PlanContext, PlanResult } from '../src/planner.js';
import { createCopyWorker } from '../src/worker.js';
import { followRun, type RunResult } from '../src/run-follower.js';
import { chunkJobId } from '../src/names.js';
import { createQueues, type CopyQueue } from '../src/queues.js';
import { chunkRange, jobFields, type CopyChunkPayload, type CopyChunkResultPayload, type RetryPolicy } from '../src/catalog.js';

export const MS = 1_000_000n;
export const MIN = 60_000n * MS;
export const H = 60n * MIN;
export const DAY = 24n * H;
export const WEEK = 7n * DAY;
export const at = (iso: string): bigint => BigInt(Date.parse(iso)) * MS;

/** Line protocol escaping written out here, apart from the code under test. */
export const lp = {
  measurement: (s: string): string => s.replace(/[, ]/g, (c) => `\\${c}`),
  key: (s: string): string => s.replace(/[,= ]/g, (c) => `\\${c}`),
  string: (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`,
};

export interface Servers {
  readonly src: InfluxServer;
  readonly bak: InfluxServer;
  readonly redis: RedisServer;
  /** Clients of the two servers, without request retries. */
  readonly source: InfluxClient;
  readonly backup: InfluxClient;
  /** The backup holds exactly the source's values of the field in `range` (at `bakRange` in the backup); returns how many. */
  assertSame(
    srcDb: string,
    bakDb: string,
    m: string,
    f: string,
    range?: readonly [bigint, bigint],
    bakRange?: readonly [bigint, bigint],
  ): Promise<number>;
}

/** Starts the servers before the file's tests and stops them after; the fields are set once `before` ran. */
export function useServers(): Servers {
  let started: { src: InfluxServer; bak: InfluxServer; redis: RedisServer; source: InfluxClient; backup: InfluxClient } | undefined;
  const get = (): NonNullable<typeof started> => {
    if (!started) throw new Error('the servers start in before(): use them inside a test');
    return started;
  };
  before(async () => {
    const [src, bak, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
    const source = new InfluxClient({ host: src.host, port: src.port, retries: 0 });
    const backup = new InfluxClient({ host: bak.host, port: bak.port, retries: 0 });
    started = { src, bak, redis, source, backup };
  });
  after(async () => {
    if (!started) return;
    started.source.close();
    started.backup.close();
    await Promise.all([started.src.destroy(), started.bak.destroy(), started.redis.destroy()]);
  });
  return {
    get src() {
      return get().src;
    },
    get bak() {
      return get().bak;
    },
    get redis() {
      return get().redis;
    },
    get source() {
      return get().source;
    },
    get backup() {
      return get().backup;
    },
    async assertSame(srcDb, bakDb, m, f, range = ALL_TIME, bakRange = ALL_TIME) {
      const { source, backup } = get();
      return (await assertSameField({ client: source, db: srcDb }, { client: backup, db: bakDb }, m, f, range, bakRange)).rows.length;
    },
  };
}

export interface PlannedJob {
  id: string;
  name: string;
  startNs: bigint;
  endNs: bigint;
  fields: string[];
}

export interface RigOptions {
  /** Redis prefix: one per test, so tests never see each other's jobs. */
  prefix: string;
  sourceDb: string;
  backupDb: string;
  retry: RetryPolicy;
  /** The worker's settings: small batches and pieces, so a test's few values still cross their edges. */
  worker: { concurrency: number; batchSize: number; pieceRows: number };
  /** Plan settings every ctx() of this rig starts from. */
  plan?: Partial<PlanContext>;
}

export interface Rig {
  queue: CopyQueue;
  redis: Redis;
  store: Store;
  ctx(measurements: MeasurementPlanConfig[], extra?: Partial<PlanContext>): PlanContext;
  startWorker(): Worker<CopyChunkPayload, CopyChunkResultPayload>;
  run(plan: PlanResult): Promise<RunResult>;
  /** The ids of a plan's jobs (every chunk enqueued, none reused). */
  jobIds(plan: PlanResult): string[];
  /** A plan's jobs as queued (before any worker runs), with the names of the fields each holds. */
  jobs(plan: PlanResult): Promise<PlannedJob[]>;
  close(): Promise<void>;
}

/** Creates the rig's databases and opens its queue and store; the worker starts on the first run(). */
export async function openRig(s: Servers, o: RigOptions): Promise<Rig> {
  const { prefix, sourceDb, backupDb, retry } = o;
  await s.src.query(`CREATE DATABASE "${sourceDb}"`);
  await s.bak.query(`CREATE DATABASE "${backupDb}"`);
  const redis = createRedis({ url: s.redis.url, prefix });
  const workerRedis = createRedis({ url: s.redis.url, prefix });
  const queues = createQueues(redis, prefix);
  const queue = queues.copy;
  const store = createStore(redis, prefix);
  let worker: Worker<CopyChunkPayload, CopyChunkResultPayload> | undefined;
  const startWorker = (): Worker<CopyChunkPayload, CopyChunkResultPayload> => {
    if (!worker) {
      worker = createCopyWorker({
        connection: workerRedis,
        prefix,
        retry,
        source: s.source,
        backup: s.backup,
        runs: store.runs,
        ...o.worker,
        batchIntervalMs: 0,
        operationTimeoutMs: 30_000,
        logger: silentLogger,
      });
      worker.on('error', () => undefined);
    }
    return worker;
  };
  return {
    queue,
    redis,
    store,
    ctx: (measurements, extra = {}) => ({
      source: s.source,
      queue,
      store,
      sourceDb,
      backupDb,
      measurements,
      chunkSizeNs: H,
      overlapNs: 0n,
      retry,
      maxValues: 1,
      logger: silentLogger,
      ...o.plan,
      ...extra,
    }),
    startWorker,
    async run(plan) {
      startWorker();
      return followRun(queue, store.runs, plan.run, { pollMs: 50 });
    },
    jobIds: (plan) => Array.from({ length: plan.enqueued }, (_, n) => chunkJobId(plan.run, n)),
    async jobs(plan) {
      const out: PlannedJob[] = [];
      for (let n = 0; n < plan.enqueued; n++) {
        const job = await queue.getJob(chunkJobId(plan.run, n));
        assert.ok(job, `job ${n} of ${plan.run}`);
        const fields: string[] = [];
        for (const f of jobFields(job.data)) fields.push((await store.runs.plan(plan.run, f.k))!.field.field);
        out.push({ id: job.id!, name: job.name, ...chunkRange(job.data), fields });
      }
      return out;
    },
    async close() {
      await worker?.close();
      await queues.close();
      await Promise.all([redis.quit(), workerRedis.quit()]);
    },
  };
}

export function assertAllDone(r: RunResult, total: number): void {
  assert.deepEqual(r.failures, []);
  assert.equal(r.failed, 0);
  assert.equal(r.completed, total);
  assert.equal(r.total, total);
}
