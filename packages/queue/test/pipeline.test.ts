// planBackup + createCopyWorker + followRun end to end: two real influxd
// servers, a real Redis, a real BullMQ queue. The backup is compared with the
// source value by value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@influx-backup/testkit';
import { planBackup, type PlanResult } from '../src/planner.js';
import { followRun } from '../src/run-follower.js';
import { createStore } from '../src/store/index.js';
import { fieldId, parseChunkJobId } from '../src/names.js';
import type { RetryPolicy } from '../src/catalog.js';
import { DAY, H, MIN, WEEK, assertAllDone, at, lp, openRig, useServers, type Rig } from './rig.js';

const RETRY: RetryPolicy = { maxAttempts: 3, backoffFactor: 1, maxBackoffMs: 50 };
const s = useServers();

const rig = (name: string, sourceDb: string, backupDb: string, retry: RetryPolicy = RETRY): Promise<Rig> =>
  openRig(s, { prefix: `pipeline-${name}`, sourceDb, backupDb, retry, worker: { concurrency: 4, batchSize: 25, pieceRows: 10 } });
const assertSame = (
  srcDb: string,
  bakDb: string,
  m: string,
  f: string,
  range: [bigint, bigint],
  bakRange?: readonly [bigint, bigint],
): Promise<number> => s.assertSame(srcDb, bakDb, m, f, range, bakRange);

test('two fields ending at different times each resume from their own checkpoint (Irradiance 10:30, Temperature 15:45)', async () => {
  const srcDb = 'plant';
  const bakDb = 'plant_backup';
  const r = await rig('fields', srcDb, bakDb);
  try {
    const D = at('2024-03-01T00:00:00Z');
    const lines: string[] = [];
    for (let t = D; t <= D + 10n * H + 30n * MIN; t += 15n * MIN)
      lines.push(`solar,site=north Irradiance=${Number((t - D) / MIN) + 0.5} ${t}`);
    for (let t = D; t <= D + 15n * H + 45n * MIN; t += 15n * MIN)
      lines.push(`solar,site=north Temperature=${(t - D) / MIN + 1_000n}i ${t}`);
    await s.src.write(srcDb, lines.join('\n'));
    const measurements = [{ name: 'solar', startNs: D, endNs: D + DAY - 1n }];

    const first = await planBackup(r.ctx(measurements), { kind: 'copy', runId: 'first' });
    const byField = (p: PlanResult): Record<string, { startNs: bigint; chunks: number; advancesCheckpoint: boolean }> =>
      Object.fromEntries(p.fields.map((f) => [f.field, f]));
    assert.equal(byField(first).Irradiance?.chunks, 11);
    assert.equal(byField(first).Temperature?.chunks, 16);
    assertAllDone(await r.run(first), 27);

    const irr = fieldId(s.source.endpoint, srcDb, 'solar', 'Irradiance');
    const temp = fieldId(s.source.endpoint, srcDb, 'solar', 'Temperature');
    assert.equal(await r.store.checkpoints.get(irr), D + 10n * H + 30n * MIN);
    assert.equal(await r.store.checkpoints.get(temp), D + 15n * H + 45n * MIN);
    await assertSame(srcDb, bakDb, 'solar', 'Irradiance', [D, D + DAY - 1n]);
    await assertSame(srcDb, bakDb, 'solar', 'Temperature', [D, D + DAY - 1n]);

    // New Irradiance values after its own last one but before Temperature's:
    // a shared checkpoint (15:45) would skip them.
    await s.src.write(
      srcDb,
      [
        `solar,site=north Irradiance=701.25 ${D + 11n * H}`,
        `solar,site=north Irradiance=702.5 ${D + 12n * H + 15n * MIN + 123n}`,
        `solar,site=south Irradiance=-0.125 ${D + 13n * H}`,
        `solar,site=north Irradiance=703.75 ${D + 15n * H + 30n * MIN}`,
        `solar,site=north Temperature=1601i ${D + 16n * H}`,
        `solar,site=north Temperature=1745i ${D + 17n * H + 45n * MIN}`,
      ].join('\n'),
    );
    const overlap = 5n * MIN;
    const second = await planBackup(r.ctx(measurements, { overlapNs: overlap }), { kind: 'copy', runId: 'second' });
    assert.equal(byField(second).Irradiance?.startNs, D + 10n * H + 30n * MIN - overlap);
    assert.equal(byField(second).Temperature?.startNs, D + 15n * H + 45n * MIN - overlap);
    assert.equal(byField(second).Irradiance?.advancesCheckpoint, true);
    assertAllDone(await r.run(second), second.chunks);

    await assertSame(srcDb, bakDb, 'solar', 'Irradiance', [D, D + DAY - 1n]);
    await assertSame(srcDb, bakDb, 'solar', 'Temperature', [D, D + DAY - 1n]);
    assert.equal(await r.store.checkpoints.get(irr), D + 15n * H + 30n * MIN);
    assert.equal(await r.store.checkpoints.get(temp), D + 17n * H + 45n * MIN);
  } finally {
    await r.close();
  }
});

test('planning the same range twice while its jobs wait enqueues each chunk once', async () => {
  const srcDb = 'dedupe';
  const bakDb = 'dedupe_backup';
  const r = await rig('dedupe', srcDb, bakDb);
  try {
    const D = at('2024-05-01T00:00:00Z');
    const lines: string[] = [];
    for (let i = 0n; i < 5n * 12n; i++) lines.push(`m,k=v a=${i}i,b="s${i}" ${D + i * 5n * MIN + i}`);
    await s.src.write(srcDb, lines.join('\n'));
    const measurements = [{ name: 'm', startNs: D, endNs: D + DAY - 1n }];

    const one = await planBackup(r.ctx(measurements), { kind: 'copy', runId: 'one' });
    assert.equal(one.chunks, 10);
    assert.equal(one.enqueued, 10);
    assert.equal(one.reused, 0);
    const two = await planBackup(r.ctx(measurements), { kind: 'copy', runId: 'two' });
    assert.equal(two.chunks, 10);
    assert.equal(two.enqueued, 0);
    assert.equal(two.reused, 10);
    const counts = await r.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    assert.equal(counts.waiting, 10, JSON.stringify(counts));
    // The jobs are the first run's, and the second run follows them.
    for (const job of await r.queue.getJobs(['waiting'])) {
      assert.ok(!job.id?.includes(':'), job.id);
      assert.equal(parseChunkJobId(job.id ?? '')?.run, one.run, job.id);
    }

    const [resOne, resTwo] = await Promise.all([r.run(one), r.run(two)]);
    assertAllDone(resOne, 10);
    assertAllDone(resTwo, 10);
    assert.equal(resTwo.values, 120, 'the following run counts the values of the chunks it followed');
    const range: [bigint, bigint] = [D, D + DAY - 1n];
    assert.equal(await assertSame(srcDb, bakDb, 'm', 'a', range), 60);
    assert.equal(await assertSame(srcDb, bakDb, 'm', 'b', range), 60);

    // Finished jobs do not block a new plan of the same range: it copies again.
    // The backup loses the measurement first, so only a real second copy passes.
    await s.bak.query('DROP MEASUREMENT "m"', bakDb);
    const three = await planBackup(r.ctx(measurements), { kind: 'copy', runId: 'three', full: true });
    assert.equal(three.reused, 0);
    assert.equal(three.enqueued, 10);
    assertAllDone(await r.run(three), 10);
    await assertSame(srcDb, bakDb, 'm', 'a', range);
    await assertSame(srcDb, bakDb, 'm', 'b', range);
  } finally {
    await r.close();
  }
});

test('a chunk whose job was removed by hand is copied by the next plan once its claim is past the grace', async () => {
  const srcDb = 'orphan';
  const bakDb = 'orphan_backup';
  const r = await rig('orphan', srcDb, bakDb);
  try {
    const D = at('2024-05-02T00:00:00Z');
    const lines: string[] = [];
    for (let i = 0n; i < 5n * 12n; i++) lines.push(`m,k=v a=${i}i ${D + i * 5n * MIN}`);
    await s.src.write(srcDb, lines.join('\n'));
    const measurements = [{ name: 'm', startNs: D, endNs: D + 5n * H - 1n }];
    const one = await planBackup(r.ctx(measurements), { kind: 'copy', runId: 'one' });
    assert.equal(one.enqueued, 5);
    // An operator removes two waiting jobs (Bull Board's "remove").
    const removed = r.jobIds(one).slice(1, 3);
    for (const id of removed) await (await r.queue.getJob(id))!.remove();

    // The claims of the removed jobs, and how long each had left just after the plan (Redis's own clock).
    const claims: { key: string; ttlMs: number }[] = [];
    for (const key of await r.redis.keys('pipeline-orphan:state:claim:*')) {
      if (removed.includes((await r.redis.get(key)) ?? '')) claims.push({ key, ttlMs: await r.redis.pttl(key) });
    }
    assert.equal(claims.length, 2);
    // Within the grace (the default, a minute) a missing job may be one a planner is about to add: followed, not taken.
    const two = await planBackup(r.ctx(measurements), { kind: 'copy', runId: 'two' });
    assert.deepEqual([two.enqueued, two.reused], [0, 5]);
    // A planner whose grace is 1 s, once both claims are older than that by Redis's clock (the one the claim script reads):
    const grace = 1_000;
    await waitFor(
      'the claims of the removed jobs to be older than the grace',
      async () => {
        for (const c of claims) if (c.ttlMs - (await r.redis.pttl(c.key)) <= grace) return false;
        return true;
      },
      { intervalMs: 100 },
    );
    const store = createStore(r.redis, 'pipeline-orphan', { orphanGraceMs: grace });
    // Past it, the two chunks are claimed and enqueued again; the three waiting ones are still followed.
    const three = await planBackup(r.ctx(measurements, { store }), { kind: 'copy', runId: 'three' });
    assert.deepEqual([three.enqueued, three.reused], [2, 3]);
    assertAllDone(await r.run(three), 5);
    assert.equal(await assertSame(srcDb, bakDb, 'm', 'a', [D, D + 5n * H - 1n]), 60);
  } finally {
    await r.close();
  }
});
test('one day of data in a range of years plans a day of chunks, not tens of thousands', async () => {
  const srcDb = 'sparse_plan';
  const bakDb = 'sparse_plan_backup';
  const r = await rig('sparse', srcDb, bakDb);
  try {
    const D = at('2024-06-15T00:00:00Z');
    const lines: string[] = [];
    for (let t = D; t < D + DAY; t += 10n * MIN) lines.push(`day,sensor=s1 v=${Number((t - D) / MIN)} ${t + 17n}`);
    await s.src.write(srcDb, lines.join('\n'));
    const start = at('2023-01-01T00:00:00Z');
    const end = at('2026-01-01T00:00:00Z') - 1n;
    const plan = await planBackup(r.ctx([{ name: 'day', startNs: start, endNs: end }]), { kind: 'copy', runId: 'sparse' });
    assert.equal(plan.fields.length, 1);
    assert.equal(plan.fields[0]?.chunks, 24);
    assert.equal(plan.chunks, 24);
    assert.equal(plan.expectedValues, 144);
    // A waiting job stays a compact hash: Redis keeps a hash as a listpack while every value is at most 64 bytes.
    for (const id of r.jobIds(plan)) assert.equal(await r.redis.call('OBJECT', 'ENCODING', r.queue.toKey(id)), 'listpack', id);
    assertAllDone(await r.run(plan), 24);
    assert.equal(await assertSame(srcDb, bakDb, 'day', 'v', [start, end]), 144);
    assert.equal(await r.store.checkpoints.get(fieldId(s.source.endpoint, srcDb, 'day', 'v')), D + DAY - 10n * MIN + 17n);
  } finally {
    await r.close();
  }
});

test('a chunk that fails for good holds the checkpoint before it while a later chunk succeeds', async () => {
  const srcDb = 'failing';
  const bakDb = 'failing_backup';
  const r = await rig('failing', srcDb, bakDb);
  try {
    // Weeks start on Monday, as InfluxDB's 7-day shard groups do; the data sits
    // mid-week, three weeks apart, so each cluster has a shard group of its own
    // in the backup and a type conflict hits exactly one chunk.
    const W0 = at('2024-01-01T00:00:00Z');
    const clusters = [W0 + 2n * DAY, W0 + 3n * WEEK + 2n * DAY, W0 + 6n * WEEK + 2n * DAY];
    const lines: string[] = [];
    clusters.forEach((c, k) => {
      for (let i = 0n; i < 10n; i++) lines.push(`fail v=${k * 100 + Number(i)}.5 ${c + i * H}`);
    });
    await s.src.write(srcDb, lines.join('\n'));
    await s.bak.write(bakDb, `fail v="conflict" ${(clusters[1] as bigint) + 30n * MIN}`);

    const measurements = [{ name: 'fail', startNs: W0, endNs: W0 + 10n * WEEK - 1n }];
    const plan = await planBackup(r.ctx(measurements, { chunkSizeNs: WEEK }), { kind: 'copy', runId: 'fail' });
    assert.equal(plan.chunks, 3);
    const result = await r.run(plan);
    assert.equal(result.completed, 2);
    assert.equal(result.failed, 1);
    const [failure] = result.failures;
    assert.equal(failure?.startNs, String(W0 + 3n * WEEK));
    assert.match(failure?.reason ?? '', /field type conflict/);
    assert.ok(failure?.reason.includes('fail.v'), failure?.reason);
    // A permanent failure is not retried.
    const failedJob = await r.queue.getJob(failure?.jobId ?? '');
    assert.equal(failedJob?.attemptsMade, 1);

    const fid = fieldId(s.source.endpoint, srcDb, 'fail', 'v');
    assert.equal(await r.store.checkpoints.get(fid), (clusters[0] as bigint) + 9n * H);
    // The chunks that succeeded are in the backup, exactly.
    for (const k of [0, 2]) {
      const c = clusters[k] as bigint;
      await assertSame(srcDb, bakDb, 'fail', 'v', [c, c + DAY], [c, c + DAY]);
    }
    // The next run starts again from the checkpoint, so the failed chunk is planned again.
    const again = await planBackup(r.ctx(measurements, { chunkSizeNs: WEEK }), { kind: 'copy', runId: 'again' });
    assert.equal(again.fields[0]?.startNs, (clusters[0] as bigint) + 9n * H);
    assert.ok((again.fields[0]?.expected ?? 0) >= 21, `expected ${again.fields[0]?.expected}`);
  } finally {
    await r.close();
  }
});

test('a re-plan of the same range whose chunk list shifted never jumps the checkpoint over a failed chunk', async () => {
  const srcDb = 'shift';
  const bakDb = 'shift_backup';
  const r = await rig('shift', srcDb, bakDb);
  try {
    const W0 = at('2024-01-01T00:00:00Z');
    const clusters = [0n, 3n, 6n, 9n].map((w) => W0 + w * WEEK + 2n * DAY);
    const lines: string[] = [];
    clusters.forEach((c, k) => {
      for (let i = 0n; i < 10n; i++) lines.push(`shift v=${k * 100 + Number(i)}.5 ${c + i * H}`);
    });
    await s.src.write(srcDb, lines.join('\n'));
    // The chunk of week 6 cannot be written to the backup.
    await s.bak.write(bakDb, `shift v="conflict" ${(clusters[2] as bigint) + 30n * MIN}`);
    const measurements = [{ name: 'shift', startNs: W0, endNs: W0 + 12n * WEEK - 1n }];
    const fid = fieldId(s.source.endpoint, srcDb, 'shift', 'v');

    const first = await planBackup(r.ctx(measurements, { chunkSizeNs: WEEK }), { kind: 'copy', runId: 'first' });
    assert.equal(first.chunks, 4);
    const one = await r.run(first);
    assert.equal(one.failed, 1);
    assert.equal(await r.store.checkpoints.get(fid), (clusters[1] as bigint) + 9n * H);

    // Retention (or a DELETE) empties the first week in the source.
    await s.src.query(`DELETE FROM "shift" WHERE time < ${W0 + WEEK}`, srcDb);
    const second = await planBackup(r.ctx(measurements, { chunkSizeNs: WEEK }), { kind: 'copy', runId: 'second', full: true });
    assert.equal(second.chunks, 3);
    const two = await r.run(second);
    assert.equal(two.failed, 1);
    assert.equal(two.failures[0]?.startNs, String(W0 + 6n * WEEK));
    // Week 6 is still not in the backup: the checkpoint must stay before it.
    const cp = await r.store.checkpoints.get(fid);
    assert.ok(cp !== undefined && cp < W0 + 6n * WEEK, `checkpoint ${cp} is past the failed chunk starting at ${W0 + 6n * WEEK}`);
  } finally {
    await r.close();
  }
});

test('hostile measurement, field and tag names go through the queue and land exactly', async () => {
  const srcDb = 'hostile_q';
  const bakDb = 'hostile_q_backup';
  const r = await rig('hostile', srcDb, bakDb);
  try {
    const D = at('2024-04-01T00:00:00Z');
    const M = 'x"; DROP DATABASE "hostile_q: ü';
    const F1 = 'f"q:1';
    const F2 = 'we ird,=f\\x';
    const lines: string[] = [];
    for (let i = 0n; i < 30n; i++) {
      const tag = i % 2n === 0n ? `${lp.key('t:k "w"')}=${lp.key('v, =w')}` : `${lp.key('t:k "w"')}=${lp.key('温度')}`;
      lines.push(
        `${lp.measurement(M)},${tag} ${lp.key(F1)}=${i}.25,${lp.key(F2)}=${9_223_372_036_854_775_000n + i}i ${D + i * 7n * MIN + i}`,
      );
    }
    await s.src.write(srcDb, lines.join('\n'));
    const plan = await planBackup(r.ctx([{ name: M, startNs: D, endNs: D + DAY - 1n }]), { kind: 'copy', runId: 'hostile' });
    assert.deepEqual(plan.fields.map((f) => f.field).sort(), [F1, F2].sort());
    // The names travel in the run's record, which each job points to; they reach no job id and no
    // Redis key, while the jobs wait (claims and all) or once they are done.
    const noNameInKeys = async (): Promise<void> => {
      const keys = await r.redis.keys('pipeline-hostile:*');
      assert.ok(keys.length > 0);
      for (const key of keys) assert.match(key, /^pipeline-hostile:[\w.:{}-]+$/, 'a key holds none of the names');
    };
    for (const job of await r.jobs(plan)) {
      assert.ok(parseChunkJobId(job.id), job.id);
      assert.ok(
        job.fields.every((f) => f === F1 || f === F2),
        job.fields.join(', '),
      );
    }
    await noNameInKeys();
    assertAllDone(await r.run(plan), plan.chunks);
    await noNameInKeys();
    assert.equal(await assertSame(srcDb, bakDb, M, F1, [D, D + DAY]), 30);
    assert.equal(await assertSame(srcDb, bakDb, M, F2, [D, D + DAY]), 30);
    assert.ok((await s.source.databases()).includes(srcDb));
    assert.deepEqual(await s.backup.measurements(bakDb), [M]);
  } finally {
    await r.close();
  }
});

test('a backfill of an older range copies it and never moves the checkpoint backwards', async () => {
  const srcDb = 'backfill';
  const bakDb = 'backfill_backup';
  const r = await rig('backfill', srcDb, bakDb);
  try {
    const D = at('2024-07-01T00:00:00Z');
    const lines: string[] = [];
    for (let i = 0n; i < 6n; i++) lines.push(`bf v=${i}i ${D + i * H + 59n * MIN}`);
    await s.src.write(srcDb, lines.join('\n'));
    const measurements = [{ name: 'bf', startNs: D, endNs: D + DAY - 1n }];
    assertAllDone(await r.run(await planBackup(r.ctx(measurements), { kind: 'copy', runId: 'copy' })), 6);
    const fid = fieldId(s.source.endpoint, srcDb, 'bf', 'v');
    const cp = D + 5n * H + 59n * MIN;
    assert.equal(await r.store.checkpoints.get(fid), cp);

    // Late values in the past, older than the checkpoint: only a backfill finds them.
    await s.src.write(srcDb, `bf v=-1i ${D + 1n}\nbf v=-2i ${D + H + 1n}`);
    const bf = await planBackup(r.ctx(measurements), {
      kind: 'backfill',
      runId: 'bf',
      measurements: ['bf'],
      startNs: D,
      endNs: D + 2n * H - 1n,
    });
    assert.equal(bf.chunks, 2);
    for (const id of r.jobIds(bf)) assert.equal((await r.queue.getJob(id))?.name, 'backfill-chunk');
    assertAllDone(await r.run(bf), 2);
    assert.equal(await assertSame(srcDb, bakDb, 'bf', 'v', [D, D + DAY]), 8);
    assert.equal(await r.store.checkpoints.get(fid), cp);
  } finally {
    await r.close();
  }
});

test('a transient backup failure is retried with backup.retry until the chunk lands', async (t) => {
  const srcDb = 'transient';
  const bakDb = 'transient_backup';
  const r = await rig('transient', srcDb, bakDb, { maxAttempts: 80, backoffFactor: 1, maxBackoffMs: 100 });
  let stopped = false;
  try {
    const D = at('2024-08-01T00:00:00Z');
    const lines: string[] = [];
    for (let i = 0n; i < 30n; i++) lines.push(`tr v=${i}.5 ${D + i * 5n * MIN}`);
    await s.src.write(srcDb, lines.join('\n'));
    await s.bak.stop();
    stopped = true;
    const plan = await planBackup(r.ctx([{ name: 'tr', startNs: D, endNs: D + DAY - 1n }]), { kind: 'copy', runId: 'transient' });
    assert.equal(plan.chunks, 3);
    r.startWorker();
    await waitFor('a chunk to fail against the stopped backup', async () => {
      const jobs = await Promise.all(r.jobIds(plan).map((id) => r.queue.getJob(id)));
      return jobs.every((j) => (j?.attemptsMade ?? 0) >= 1);
    });
    await s.bak.start();
    stopped = false;
    const result = await followRun(r.queue, r.store.runs, plan.run, { pollMs: 50 });
    // What BullMQ itself says: every chunk completed, after at least one retry.
    for (const id of r.jobIds(plan)) {
      const job = await r.queue.getJob(id);
      assert.equal(await job?.getState(), 'completed', id);
      assert.ok((job?.attemptsMade ?? 0) >= 2, `${id} made ${job?.attemptsMade} attempts`);
    }
    await t.test('the run counts chunks that completed after a retry as completed', () => assertAllDone(result, 3));
    assert.equal(await assertSame(srcDb, bakDb, 'tr', 'v', [D, D + DAY]), 30);
    assert.equal(await r.store.checkpoints.get(fieldId(s.source.endpoint, srcDb, 'tr', 'v')), D + 29n * 5n * MIN);
  } finally {
    if (stopped) await s.bak.start();
    await r.close();
  }
});

test('two planners racing on the same range enqueue each chunk once; both runs count every chunk', async () => {
  const srcDb = 'race';
  const bakDb = 'race_backup';
  const r = await rig('race', srcDb, bakDb);
  try {
    const D = at('2024-09-01T00:00:00Z');
    const lines: string[] = [];
    for (let i = 0n; i < 24n * 6n; i++) lines.push(`race,s=${i % 3n} a=${i}i,b=${i}.25,c="x${i}" ${D + i * 10n * MIN}`);
    await s.src.write(srcDb, lines.join('\n'));
    const measurements = [{ name: 'race', startNs: D, endNs: D + DAY - 1n }];
    const [a, b] = await Promise.all([
      planBackup(r.ctx(measurements), { kind: 'copy', runId: 'racer-a' }),
      planBackup(r.ctx(measurements), { kind: 'copy', runId: 'racer-b' }),
    ]);
    assert.equal(a.chunks, 72);
    assert.equal(b.chunks, 72);
    assert.equal(a.enqueued + b.enqueued, 72, `a enqueued ${a.enqueued}, b ${b.enqueued}`);
    assert.equal(a.reused + b.reused, 72);
    const counts = await r.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    assert.equal(counts.waiting, 72, JSON.stringify(counts));
    const [ra, rb] = await Promise.all([r.run(a), r.run(b)]);
    assertAllDone(ra, 72);
    assertAllDone(rb, 72);
    assert.equal(ra.values, 432);
    assert.equal(rb.values, 432);
    const done = await r.queue.getJobs(['completed']);
    assert.equal(done.length, 72);
    for (const job of done) assert.equal(job.attemptsMade, 1, `${job.id} ran ${job.attemptsMade} times`);
    for (const f of ['a', 'b', 'c']) assert.equal(await assertSame(srcDb, bakDb, 'race', f, [D, D + DAY - 1n]), 144);
  } finally {
    await r.close();
  }
});

test('the run counters are right when completed jobs are removed as they finish', async () => {
  const srcDb = 'removed';
  const bakDb = 'removed_backup';
  const r = await rig('removed', srcDb, bakDb);
  let cleaning = true;
  let cleaned = 0;
  try {
    const D = at('2024-10-01T00:00:00Z');
    const lines: string[] = [];
    for (let i = 0n; i < 48n * 5n; i++) lines.push(`rm,s=${i % 2n} v=${i}i ${D + i * 6n * MIN}`);
    await s.src.write(srcDb, lines.join('\n'));
    const plan = await planBackup(r.ctx([{ name: 'rm', startNs: D, endNs: D + DAY - 1n }]), { kind: 'copy', runId: 'removed' });
    assert.equal(plan.chunks, 24);
    // Something removes every completed job while the run goes on (removeOnComplete, an operator, Bull Board).
    const cleaner = (async () => {
      while (cleaning) {
        cleaned += (await r.queue.clean(0, 1_000, 'completed')).length;
        await new Promise((res) => setImmediate(res));
      }
    })();
    const result = await r.run(plan);
    cleaning = false;
    await cleaner;
    cleaned += (await r.queue.clean(0, 1_000, 'completed')).length;
    assertAllDone(result, 24);
    assert.equal(result.values, 240);
    assert.equal(cleaned, 24, 'every completed job was removed');
    assert.equal((await r.queue.getJobCounts('completed')).completed, 0);
    // The counters live on without the jobs.
    const again = await followRun(r.queue, r.store.runs, plan.run, { pollMs: 10 });
    assert.deepEqual({ ...again, failures: [] }, { ...result, failures: [] });
    assert.equal(await assertSame(srcDb, bakDb, 'rm', 'v', [D, D + DAY - 1n]), 240);
  } finally {
    cleaning = false;
    await r.close();
  }
});

test('the low watermark over merged chunks: one failing in the middle holds the checkpoint before it', async () => {
  const srcDb = 'mergedfail';
  const bakDb = 'mergedfail_backup';
  const r = await rig('mergedfail', srcDb, bakDb);
  try {
    const W0 = at('2024-01-01T00:00:00Z');
    // Three clusters of ten hourly values, three weeks apart (their own shard
    // groups in the backup); with max_values 10 each is one chunk of ten buckets.
    const clusters = [W0 + 2n * DAY, W0 + 3n * WEEK + 2n * DAY, W0 + 6n * WEEK + 2n * DAY];
    const lines: string[] = [];
    clusters.forEach((c, k) => {
      for (let i = 0n; i < 10n; i++) lines.push(`mf v=${k * 100 + Number(i)}.5 ${c + i * H}`);
    });
    await s.src.write(srcDb, lines.join('\n'));
    await s.bak.write(bakDb, `mf v="conflict" ${(clusters[1] as bigint) + 30n * MIN}`);
    const measurements = [{ name: 'mf', startNs: W0, endNs: W0 + 10n * WEEK - 1n }];
    const plan = await planBackup(r.ctx(measurements, { maxValues: 10 }), { kind: 'copy', runId: 'mergedfail' });
    assert.equal(plan.chunks, 3, 'ten hourly buckets merged into each chunk');
    assert.equal(plan.expectedValues, 30);
    const result = await r.run(plan);
    assert.equal(result.completed, 2);
    assert.equal(result.failed, 1);
    assert.equal(result.failures[0]?.startNs, String(clusters[1]));
    assert.equal(result.failures[0]?.endNs, String((clusters[1] as bigint) + 10n * H - 1n), 'the failed chunk spans its ten buckets');
    assert.match(result.failures[0]?.reason ?? '', /field type conflict/);
    const fid = fieldId(s.source.endpoint, srcDb, 'mf', 'v');
    assert.equal(await r.store.checkpoints.get(fid), (clusters[0] as bigint) + 9n * H, 'the checkpoint stops before the failed chunk');
    // The conflict gone, the next run resumes from the checkpoint and the watermark passes all three.
    await s.bak.query('DROP MEASUREMENT "mf"', bakDb);
    const again = await planBackup(r.ctx(measurements, { maxValues: 10 }), { kind: 'copy', runId: 'mergedfail-again' });
    assert.equal(again.fields[0]?.startNs, (clusters[0] as bigint) + 9n * H);
    assertAllDone(await r.run(again), again.chunks);
    assert.equal(await r.store.checkpoints.get(fid), (clusters[2] as bigint) + 9n * H);
    await assertSame(srcDb, bakDb, 'mf', 'v', [(clusters[0] as bigint) + 9n * H, W0 + 10n * WEEK]);
  } finally {
    await r.close();
  }
});
