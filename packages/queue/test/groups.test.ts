// processing.fields_per_job end to end: group jobs that copy several fields of
// one measurement with one query, each field keeping its own checkpoint. Two
// real influxd servers, a real Redis, a real BullMQ queue; the backup is
// compared with the source value by value, with types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBackup } from '../src/planner.js';
import { chunkJobId, fieldId } from '../src/names.js';
import type { RetryPolicy } from '../src/catalog.js';
import { DAY, H, MIN, assertAllDone, at, lp, openRig, useServers, type PlannedJob, type Rig } from './rig.js';

const RETRY: RetryPolicy = { maxAttempts: 2, backoffFactor: 1, maxBackoffMs: 50 };
const s = useServers();

const rig = (name: string, sourceDb: string, backupDb: string): Promise<Rig> =>
  openRig(s, {
    prefix: `groups-${name}`,
    sourceDb,
    backupDb,
    retry: RETRY,
    worker: { concurrency: 3, batchSize: 7, pieceRows: 5 },
    plan: { fieldsPerJob: Number.POSITIVE_INFINITY },
  });
const assertSame = (srcDb: string, bakDb: string, m: string, f: string, range?: readonly [bigint, bigint]): Promise<number> =>
  s.assertSame(srcDb, bakDb, m, f, range);

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
    await s.src.write(srcDb, lines.join('\n'));
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
    const [rows = []] = await s.backup.query('SELECT COUNT(*) FROM "sp"', bakDb);
    const row = rows[0]?.values[0] ?? [];
    assert.deepEqual(row.slice(1), [36, 180, 90, 3, 60]);
    for (const f of ['f', 'i', 's', 'b', 'rare']) {
      const cp = await r.store.checkpoints.get(fieldId(s.source.endpoint, srcDb, 'sp', f));
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
    for (let t = D; t <= D + 10n * H + 30n * MIN; t += 15n * MIN)
      lines.push(`solar,site=north Irradiance=${Number((t - D) / MIN) + 0.5} ${t}`);
    for (let t = D; t <= D + 15n * H + 45n * MIN; t += 15n * MIN)
      lines.push(`solar,site=north Temperature=${(t - D) / MIN + 1_000n}i ${t}`);
    await s.src.write(srcDb, lines.join('\n'));
    const measurements = [{ name: 'solar', startNs: D, endNs: D + DAY - 1n }];
    const first = await planBackup(r.ctx(measurements), { kind: 'copy', runId: 'first' });
    // Hours 0-10 hold both fields (one job each), 11-15 Temperature alone.
    assert.equal(first.chunks, 16);
    assert.equal((await r.jobs(first)).filter((j) => j.fields.length === 2).length, 11);
    assertAllDone(await r.run(first), 16);
    const irr = fieldId(s.source.endpoint, srcDb, 'solar', 'Irradiance');
    const temp = fieldId(s.source.endpoint, srcDb, 'solar', 'Temperature');
    assert.equal(await r.store.checkpoints.get(irr), D + 10n * H + 30n * MIN);
    assert.equal(await r.store.checkpoints.get(temp), D + 15n * H + 45n * MIN);

    // New Irradiance values after its own last one but before Temperature's
    // checkpoint (a shared checkpoint would skip them), then both later on.
    await s.src.write(
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
    assert.equal(await r.store.checkpoints.get(irr), D + 17n * H + 50n * MIN);
    assert.equal(await r.store.checkpoints.get(temp), D + 17n * H + 45n * MIN);
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
    await s.src.write(srcDb, lines.join('\n'));
    await s.bak.write(bakDb, `tc,k=other c="conflict" ${D + 90n * MIN}`);
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
    const cp = (f: string): Promise<bigint | undefined> => r.store.checkpoints.get(fieldId(s.source.endpoint, srcDb, 'tc', f));
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
    await s.src.write(srcDb, lines.join('\n'));
    const fields = (await s.source.fieldKeys(srcDb, M)).map((f) => f.field);
    assert.equal(fields.length, 4, JSON.stringify(fields));
    const plan = await planBackup(r.ctx([{ name: M, startNs: D, endNs: D + DAY - 1n }]), { kind: 'copy', runId: 'hostile' });
    const jobs = await r.jobs(plan);
    assert.ok(jobs.every((j) => j.fields.length >= 2 && !j.id.includes(':')));
    assert.ok(jobs.some((j) => j.fields.length === 4));
    assertAllDone(await r.run(plan), plan.chunks);
    for (const f of fields) assert.ok((await assertSame(srcDb, bakDb, M, f)) > 0);
    assert.deepEqual(await s.backup.measurements(bakDb), [M]);
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
    await s.src.write(srcDb, lines.join('\n'));
    const measurements = [{ name: 'five', startNs: D, endNs: D + DAY - 1n }];

    const hourly = await planBackup(r.ctx(measurements, { fieldsPerJob: 2 }), { kind: 'copy', runId: 'hourly' });
    const sizes = (jobs: PlannedJob[]): number[] => jobs.map((j) => j.fields.length);
    const hourlyJobs = await r.jobs(hourly);
    assert.equal(hourlyJobs.length, 12);
    assert.deepEqual([...new Set(hourlyJobs.map((j) => j.fields.join(',')))], ['v1,v2', 'v3,v4', 'v5']);
    assert.deepEqual(sizes(hourlyJobs).sort(), [1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
    assertAllDone(await r.run(hourly), 12);

    // max_values 120: every field holds 60 values an hour at most, so every chunk
    // spans two hours, a group's as its fields' alone. Bounding the group's sum
    // (90 values an hour for v1,v2; 120 for v3,v4) would have cut them finer.
    const merged = await planBackup(r.ctx(measurements, { fieldsPerJob: 2, maxValues: 120 }), {
      kind: 'backfill',
      runId: 'merged',
      full: true,
    });
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
