// processing.fields_per_job end to end: group jobs that copy several fields of
// one measurement with one query, each field keeping its own checkpoint. Two
// real influxd servers, a real Redis, a real BullMQ queue; the backup is
// compared with the source value by value, with types.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { ALL_TIME as ALL, assertSameField, startInflux, startRedis, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { InfluxClient } from '@influx-backup/influx';
import { silentLogger } from '@influx-backup/core';
import { createRedis } from '../src/connection.js';
import { StateStore } from '../src/state-store.js';
import { planBackup, type MeasurementPlanConfig, type PlanContext, type PlanResult } from '../src/planner.js';
import { createCopyWorker } from '../src/worker.js';
import { followRun, type RunResult } from '../src/run-follower.js';
import { QUEUE_COPY, chunkJobId, fieldId } from '../src/names.js';
import { chunkRange, jobFields, type CopyChunkPayload, type CopyChunkResultPayload, type RetryPolicy } from '../src/catalog.js';

const MS = 1_000_000n;
const MIN = 60_000n * MS;
const H = 60n * MIN;
const DAY = 24n * H;
const RETRY: RetryPolicy = { maxAttempts: 2, backoffFactor: 1, maxBackoffMs: 50 };
const at = (iso: string): bigint => BigInt(Date.parse(iso)) * MS;

let srcServer: InfluxServer;
let bakServer: InfluxServer;
let redisServer: RedisServer;
let source: InfluxClient;
let backup: InfluxClient;

before(async () => {
  [srcServer, bakServer, redisServer] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  source = new InfluxClient({ host: srcServer.host, port: srcServer.port, retries: 0 });
  backup = new InfluxClient({ host: bakServer.host, port: bakServer.port, retries: 0 });
});

after(async () => {
  source?.close();
  backup?.close();
  await Promise.all([srcServer?.destroy(), bakServer?.destroy(), redisServer?.destroy()]);
});

interface PlannedJob {
  id: string;
  name: string;
  startNs: bigint;
  endNs: bigint;
  fields: string[];
}

interface Rig {
  queue: Queue;
  store: StateStore;
  ctx(measurements: MeasurementPlanConfig[], extra?: Partial<PlanContext>): PlanContext;
  run(plan: PlanResult): Promise<RunResult>;
  /** A plan's jobs as queued (before any worker runs), with the names of the fields each holds. */
  jobs(plan: PlanResult): Promise<PlannedJob[]>;
  close(): Promise<void>;
}

async function rig(name: string, sourceDb: string, backupDb: string): Promise<Rig> {
  const prefix = `groups-${name}`;
  await srcServer.query(`CREATE DATABASE "${sourceDb}"`);
  await bakServer.query(`CREATE DATABASE "${backupDb}"`);
  const redis: Redis = createRedis({ url: redisServer.url, prefix });
  const workerRedis: Redis = createRedis({ url: redisServer.url, prefix });
  const queue = new Queue(QUEUE_COPY, { connection: redis, prefix });
  const store = new StateStore(redis, prefix);
  let worker: Worker<CopyChunkPayload, CopyChunkResultPayload> | undefined;
  return {
    queue,
    store,
    ctx: (measurements, extra = {}) => ({
      source,
      queue,
      store,
      sourceDb,
      backupDb,
      measurements,
      chunkSizeNs: H,
      overlapNs: 0n,
      retry: RETRY,
      maxValues: 1,
      fieldsPerJob: Number.POSITIVE_INFINITY,
      logger: silentLogger,
      ...extra,
    }),
    async run(plan) {
      worker ??= createCopyWorker({
        connection: workerRedis,
        prefix,
        concurrency: 3,
        retry: RETRY,
        source,
        backup,
        store,
        batchSize: 7,
        batchIntervalMs: 0,
        pieceRows: 5,
        operationTimeoutMs: 30_000,
        logger: silentLogger,
      });
      worker.on('error', () => undefined);
      return followRun(queue, store, plan.run, { pollMs: 50 });
    },
    async jobs(plan) {
      const out: PlannedJob[] = [];
      for (let n = 0; n < plan.enqueued; n++) {
        const job = await queue.getJob(chunkJobId(plan.run, n));
        assert.ok(job, `job ${n} of ${plan.run}`);
        const fields: string[] = [];
        for (const f of jobFields(job.data)) fields.push((await store.runPlan(plan.run, f.k))!.field.field);
        out.push({ id: job.id!, name: job.name, ...chunkRange(job.data), fields });
      }
      return out;
    },
    async close() {
      await worker?.close();
      await queue.close();
      await Promise.all([redis.quit(), workerRedis.quit()]);
    },
  };
}

const lp = {
  measurement: (s: string): string => s.replace(/[, ]/g, (c) => `\\${c}`),
  key: (s: string): string => s.replace(/[,= ]/g, (c) => `\\${c}`),
  string: (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`,
};

async function assertSame(srcDb: string, bakDb: string, m: string, f: string, range: readonly [bigint, bigint] = ALL): Promise<number> {
  return (await assertSameField({ client: source, db: srcDb }, { client: backup, db: bakDb }, m, f, range)).rows.length;
}

function assertAllDone(r: RunResult, total: number): void {
  assert.deepEqual(r.failures, []);
  assert.equal(r.failed, 0);
  assert.equal(r.completed, total);
  assert.equal(r.total, total);
}

test('sparse rows: one query per chunk for every field, each copied exactly with its type and no null written', async () => {
  const srcDb = 'sparse_g';
  const bakDb = 'sparse_g_backup';
  const r = await rig('sparse', srcDb, bakDb);
  try {
    const D = at('2024-05-01T00:00:00Z');
    const lines: string[] = [];
    for (let i = 0n; i < 180n; i++) {
      // Every row has f; i every other row; s every third; b every fifth; rare in three rows only.
      const parts = [`f=${Number(i) / 8 - 3}`];
      if (i % 2n === 0n) parts.push(`i=${9_223_372_036_854_775_000n + i}i`);
      if (i % 3n === 0n) parts.push(`s=${lp.string(`row "${i}", \\ ok`)}`);
      if (i % 5n === 0n) parts.push(`b=${i % 10n === 0n ? 'true' : 'false'}`);
      if (i === 7n || i === 100n || i === 110n) parts.push('rare=-42i');
      lines.push(`sp,site=${i % 4n === 0n ? 'a' : 'b'} ${parts.join(',')} ${D + i * MIN + i}`);
    }
    await srcServer.write(srcDb, lines.join('\n'));
    const plan = await planBackup(r.ctx([{ name: 'sp', startNs: D, endNs: D + DAY - 1n }]), { kind: 'copy', runId: 'sparse' });
    const chunksOf = Object.fromEntries(plan.fields.map((f) => [f.field, f.chunks]));
    assert.deepEqual(chunksOf, { b: 3, f: 3, i: 3, rare: 2, s: 3 });
    // One job per hour holds every field that has values in it.
    const jobs = await r.jobs(plan);
    assert.deepEqual(
      jobs.map((j) => [j.startNs - D, j.fields.sort().join(',')]),
      [
        [0n, 'b,f,i,rare,s'],
        [H, 'b,f,i,rare,s'],
        [2n * H, 'b,f,i,s'],
      ],
    );
    assert.match(jobs[0]!.name, /^copy-chunk sp: /);
    assertAllDone(await r.run(plan), 3);

    const counts: Record<string, number> = {};
    for (const f of ['f', 'i', 's', 'b', 'rare']) counts[f] = await assertSame(srcDb, bakDb, 'sp', f);
    assert.deepEqual(counts, { f: 180, i: 90, s: 60, b: 36, rare: 3 });
    // Nothing but the source's values: no row of the backup is a null turned value.
    const [rows = []] = await backup.query('SELECT COUNT(*) FROM "sp"', bakDb);
    const row = rows[0]?.values[0] ?? [];
    assert.deepEqual(row.slice(1), [36, 180, 90, 3, 60]);
    for (const f of ['f', 'i', 's', 'b', 'rare']) {
      const cp = await r.store.checkpoint(fieldId(source.endpoint, srcDb, 'sp', f));
      const last = { f: 179n, i: 178n, s: 177n, b: 175n, rare: 110n }[f]!;
      assert.equal(cp, D + last * MIN + last, `checkpoint of ${f}`);
    }
  } finally {
    await r.close();
  }
});

test('fields with different checkpoints start from their own and share chunks after their first (Irradiance 10:30, Temperature 15:45)', async () => {
  const srcDb = 'plant_g';
  const bakDb = 'plant_g_backup';
  const r = await rig('plant', srcDb, bakDb);
  try {
    const D = at('2024-03-01T00:00:00Z');
    const lines: string[] = [];
    for (let t = D; t <= D + 10n * H + 30n * MIN; t += 15n * MIN) lines.push(`solar,site=north Irradiance=${Number((t - D) / MIN) + 0.5} ${t}`);
    for (let t = D; t <= D + 15n * H + 45n * MIN; t += 15n * MIN) lines.push(`solar,site=north Temperature=${(t - D) / MIN + 1_000n}i ${t}`);
    await srcServer.write(srcDb, lines.join('\n'));
    const measurements = [{ name: 'solar', startNs: D, endNs: D + DAY - 1n }];
    const first = await planBackup(r.ctx(measurements), { kind: 'copy', runId: 'first' });
    // Hours 0-10 hold both fields (one job each), 11-15 Temperature alone.
    assert.equal(first.chunks, 16);
    assert.equal((await r.jobs(first)).filter((j) => j.fields.length === 2).length, 11);
    assertAllDone(await r.run(first), 16);
    const irr = fieldId(source.endpoint, srcDb, 'solar', 'Irradiance');
    const temp = fieldId(source.endpoint, srcDb, 'solar', 'Temperature');
    assert.equal(await r.store.checkpoint(irr), D + 10n * H + 30n * MIN);
    assert.equal(await r.store.checkpoint(temp), D + 15n * H + 45n * MIN);

    // New Irradiance values after its own last one but before Temperature's
    // checkpoint (a shared checkpoint would skip them), then both later on.
    await srcServer.write(
      srcDb,
      [
        `solar,site=north Irradiance=701.25 ${D + 11n * H}`,
        `solar,site=south Irradiance=-0.125 ${D + 13n * H}`,
        `solar,site=north Irradiance=703.75 ${D + 15n * H + 30n * MIN}`,
        `solar,site=north Irradiance=704.5 ${D + 16n * H + 30n * MIN}`,
        `solar,site=north Temperature=1601i ${D + 16n * H + 45n * MIN}`,
        `solar,site=north Irradiance=705.5 ${D + 17n * H + 50n * MIN}`,
        `solar,site=north Temperature=1745i ${D + 17n * H + 45n * MIN}`,
      ].join('\n'),
    );
    const overlap = 5n * MIN;
    const second = await planBackup(r.ctx(measurements, { overlapNs: overlap }), { kind: 'copy', runId: 'second' });
    const startOf = Object.fromEntries(second.fields.map((f) => [f.field, f.startNs]));
    assert.equal(startOf.Irradiance, D + 10n * H + 25n * MIN);
    assert.equal(startOf.Temperature, D + 15n * H + 40n * MIN);
    // The grid starts at the earliest field start (10:25): Temperature's first
    // chunk is clipped at its own start, then both share every chunk.
    const jobs = (await r.jobs(second)).map((j) => [j.startNs - D, j.endNs - D, j.fields.join(',')]);
    const at25 = (h: bigint): bigint => h * H + 25n * MIN;
    assert.deepEqual(jobs, [
      [at25(10n), at25(11n) - 1n, 'Irradiance'],
      [at25(12n), at25(13n) - 1n, 'Irradiance'],
      [at25(15n), at25(16n) - 1n, 'Irradiance'],
      [D + 15n * H + 40n * MIN - D, at25(16n) - 1n, 'Temperature'],
      [at25(16n), at25(17n) - 1n, 'Irradiance,Temperature'],
      [at25(17n), at25(18n) - 1n, 'Irradiance,Temperature'],
    ]);
    assertAllDone(await r.run(second), 6);
    await assertSame(srcDb, bakDb, 'solar', 'Irradiance');
    await assertSame(srcDb, bakDb, 'solar', 'Temperature');
    assert.equal(await r.store.checkpoint(irr), D + 17n * H + 50n * MIN);
    assert.equal(await r.store.checkpoint(temp), D + 17n * H + 45n * MIN);
  } finally {
    await r.close();
  }
});

test('a type conflict in one field of a group: the group splits, the others finish and move their checkpoints, the bad chunk fails with the reason', async () => {
  const srcDb = 'conflict_g';
  const bakDb = 'conflict_g_backup';
  const r = await rig('conflict', srcDb, bakDb);
  try {
    const D = at('2024-06-03T00:00:00Z');
    const lines: string[] = [];
    for (let i = 0n; i < 40n; i++) lines.push(`tc,k=v a=${i}.5,b=${i}i,c=${i}.25 ${D + i * MIN}`);
    await srcServer.write(srcDb, lines.join('\n'));
    await bakServer.write(bakDb, `tc,k=other c="conflict" ${D + 90n * MIN}`);
    const plan = await planBackup(r.ctx([{ name: 'tc', startNs: D, endNs: D + DAY - 1n }]), { kind: 'copy', runId: 'conflict' });
    assert.equal(plan.chunks, 1);
    const result = await r.run(plan);
    // The group is replaced by three jobs: two done, one failed.
    assert.equal(result.total, 3);
    assert.equal(result.completed, 2);
    assert.equal(result.failed, 1);
    assert.equal(result.failures.length, 1);
    const [failure] = result.failures;
    assert.equal(failure?.field, 'c');
    assert.equal(failure?.startNs, String(D));
    assert.match(failure?.reason ?? '', /field type conflict/);
    const group = await r.queue.getJob(chunkJobId(plan.run, 0));
    assert.equal(group?.returnvalue?.splitInto?.length, 3);

    await assertSame(srcDb, bakDb, 'tc', 'a');
    await assertSame(srcDb, bakDb, 'tc', 'b');
    const cp = (f: string): Promise<bigint | undefined> => r.store.checkpoint(fieldId(source.endpoint, srcDb, 'tc', f));
    assert.equal(await cp('a'), D + 39n * MIN);
    assert.equal(await cp('b'), D + 39n * MIN);
    assert.equal(await cp('c'), undefined);
  } finally {
    await r.close();
  }
});

test('hostile names inside a group go through one query and land exactly', async () => {
  const srcDb = 'hostile_g';
  const bakDb = 'hostile_g_backup';
  const r = await rig('hostile', srcDb, bakDb);
  try {
    const D = at('2024-04-01T00:00:00Z');
    const M = 'x"; DROP DATABASE "hostile_g: ü';
    const F = ['f"q:1', 'we ird,=f\\x', 'SELECT * FROM "a"; --', '温度;=x'];
    const lines: string[] = [];
    for (let i = 0n; i < 30n; i++) {
      const tag = `${lp.key('t:k "w"')}=${lp.key(i % 2n === 0n ? 'v, =w' : '温度')}`;
      const values = [`${lp.key(F[0]!)}=${i}.25`, `${lp.key(F[1]!)}=${9_223_372_036_854_775_000n + i}i`];
      if (i % 3n === 0n) values.push(`${lp.key(F[2]!)}=${lp.string(`"q" \\ ${i}`)}`);
      if (i % 4n === 0n) values.push(`${lp.key(F[3]!)}=true`);
      lines.push(`${lp.measurement(M)},${tag} ${values.join(',')} ${D + i * 7n * MIN + i}`);
    }
    await srcServer.write(srcDb, lines.join('\n'));
    const fields = (await source.fieldKeys(srcDb, M)).map((f) => f.field);
    assert.equal(fields.length, 4, JSON.stringify(fields));
    const plan = await planBackup(r.ctx([{ name: M, startNs: D, endNs: D + DAY - 1n }]), { kind: 'copy', runId: 'hostile' });
    const jobs = await r.jobs(plan);
    assert.ok(jobs.every((j) => j.fields.length >= 2 && !j.id.includes(':')));
    assert.ok(jobs.some((j) => j.fields.length === 4));
    assertAllDone(await r.run(plan), plan.chunks);
    for (const f of fields) assert.ok((await assertSame(srcDb, bakDb, M, f)) > 0);
    assert.deepEqual(await backup.measurements(bakDb), [M]);
  } finally {
    await r.close();
  }
});

test("fields_per_job 2 over five fields makes groups of 2, 2 and 1, merged by each field's own count", async () => {
  const srcDb = 'five_g';
  const bakDb = 'five_g_backup';
  const r = await rig('five', srcDb, bakDb);
  try {
    const D = at('2024-07-01T00:00:00Z');
    const lines: string[] = [];
    // v2 in every other minute only: 30 values an hour beside the others' 60.
    for (let i = 0n; i < 4n * 60n; i++) {
      const v2 = i % 2n === 0n ? `,v2=${i}.5` : '';
      lines.push(`five v1=${i}i${v2},v3="${i}",v4=${i % 2n === 0n},v5=-${i}i ${D + i * MIN}`);
    }
    await srcServer.write(srcDb, lines.join('\n'));
    const measurements = [{ name: 'five', startNs: D, endNs: D + DAY - 1n }];

    const hourly = await planBackup(r.ctx(measurements, { fieldsPerJob: 2 }), { kind: 'copy', runId: 'hourly' });
    const sizes = (jobs: PlannedJob[]): number[] => jobs.map((j) => j.fields.length);
    const hourlyJobs = await r.jobs(hourly);
    assert.equal(hourlyJobs.length, 12);
    assert.deepEqual(
      [...new Set(hourlyJobs.map((j) => j.fields.join(',')))],
      ['v1,v2', 'v3,v4', 'v5'],
    );
    assert.deepEqual(sizes(hourlyJobs).sort(), [1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
    assertAllDone(await r.run(hourly), 12);

    // max_values 120: every field holds 60 values an hour at most, so every chunk
    // spans two hours, a group's as its fields' alone. Bounding the group's sum
    // (90 values an hour for v1,v2; 120 for v3,v4) would have cut them finer.
    const merged = await planBackup(r.ctx(measurements, { fieldsPerJob: 2, maxValues: 120 }), { kind: 'backfill', runId: 'merged', full: true });
    const mergedJobs = await r.jobs(merged);
    assert.deepEqual(
      mergedJobs.map((j) => [j.fields.join(','), (j.endNs - j.startNs + 1n) / H]),
      [
        ['v1,v2', 2n],
        ['v3,v4', 2n],
        ['v5', 2n],
        ['v1,v2', 2n],
        ['v3,v4', 2n],
        ['v5', 2n],
      ],
    );
    assertAllDone(await r.run(merged), 6);
    for (const f of ['v1', 'v3', 'v4', 'v5']) assert.equal(await assertSame(srcDb, bakDb, 'five', f), 240);
    assert.equal(await assertSame(srcDb, bakDb, 'five', 'v2'), 120);
  } finally {
    await r.close();
  }
});
