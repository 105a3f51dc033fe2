// Repair plans (planBackup with kind 'repair') end to end: two real influxd servers, a
// real Redis and a real worker. Only the grid chunks that differ become repair-chunk
// jobs; chunks found equal and chunks repaired move each field's low watermark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBackup, type PlannedField, type PlanResult } from '../src/planner.js';
import { fieldId, JOB_REPAIR } from '../src/names.js';
import type { RetryPolicy } from '../src/catalog.js';
import { DAY, H, MIN, assertAllDone, at, openRig, useServers, type Rig } from './rig.js';

const RETRY: RetryPolicy = { maxAttempts: 2, backoffFactor: 1, maxBackoffMs: 50 };
const s = useServers();
const D = at('2024-04-01T00:00:00Z');

const rig = (name: string): Promise<Rig> =>
  openRig(s, {
    prefix: `repair-${name}`,
    sourceDb: `rep_${name}`,
    backupDb: `rep_${name}_b`,
    retry: RETRY,
    worker: { concurrency: 2, batchSize: 25, pieceRows: 10 },
    plan: { backup: s.backup, pieceRows: 10 },
  });

/** Two fields of one measurement every 10 minutes for a day, in two series. */
function day(m: string): string[] {
  const lines: string[] = [];
  for (let t = D; t < D + DAY; t += 10n * MIN) lines.push(`${m},s=a a=${(t - D) / MIN}i,b=${Number((t - D) / MIN) / 4} ${t}`);
  for (let t = D + 5n * MIN; t < D + DAY; t += 30n * MIN) lines.push(`${m},s=b a=1i ${t}`);
  return lines;
}

const byField = (p: PlanResult): Record<string, PlannedField> => Object.fromEntries(p.fields.map((f) => [f.field, f]));
const measurements = [{ name: 'm', startNs: D, endNs: D + DAY - 1n }];

test('only the grid chunks that lack values are copied again, as repair-chunk jobs, and the backup is exact after', async () => {
  const r = await rig('late');
  try {
    await s.src.write(r.ctx([]).sourceDb, day('m').join('\n'));
    await s.bak.write(r.ctx([]).backupDb, day('m').join('\n'));
    // Late points into an existing series (hour 3) and a new series older than any checkpoint (hour 17).
    await s.src.write(r.ctx([]).sourceDb, [`m,s=a a=-1i ${D + 3n * H + 7n}`, `m,s=late a=5i,b=0.5 ${D + 17n * H + 1n}`].join('\n'));
    const plan = await planBackup(r.ctx(measurements, { fieldsPerJob: 2 }), { kind: 'repair', runId: 'late' });
    const f = byField(plan);
    assert.equal(f.a?.check?.compared, 24);
    assert.equal(f.a?.check?.different, 2);
    assert.equal(f.a?.check?.missing, 2);
    assert.equal(f.b?.check?.different, 1);
    assert.deepEqual(
      (await r.jobs(plan)).map((j) => [j.name, (j.startNs - D) / H, j.endNs - j.startNs, j.fields]),
      [
        [JOB_REPAIR, 3n, H - 1n, ['a']],
        // Both fields differ in hour 17: one job reads them with one query (fields_per_job 2).
        [`${JOB_REPAIR} m: a, b`, 17n, H - 1n, ['a', 'b']],
      ],
    );
    assert.deepEqual(
      plan.repaired?.map((x) => [x.measurement, x.fields.map((p) => p.field), x.spans.map((sp) => (sp.startNs - D) / H)]),
      [['m', ['a', 'b'], [3n, 17n]]],
    );
    assertAllDone(await r.run(plan), 2);
    await s.assertSame(r.ctx([]).sourceDb, r.ctx([]).backupDb, 'm', 'a');
    await s.assertSame(r.ctx([]).sourceDb, r.ctx([]).backupDb, 'm', 'b');
    const totals = (await r.store.runs.totals()).repairs.get('');
    assert.ok(totals && totals.repaired > 0, 'the values the repair chunks wrote count as repaired');
    // Checked again: nothing differs, nothing is copied.
    const again = await planBackup(r.ctx(measurements), { kind: 'repair', runId: 'again' });
    assert.equal(again.chunks, 0);
    assert.equal(again.repaired, undefined);
  } finally {
    await r.close();
  }
});

test('equal chunks and repaired ones rebuild each checkpoint where a run leaves it, and never move one back', async () => {
  const r = await rig('checkpoints');
  try {
    const { sourceDb, backupDb } = r.ctx([]);
    await s.src.write(sourceDb, day('m').join('\n'));
    await s.bak.write(backupDb, day('m').join('\n'));
    const a = fieldId(s.source.endpoint, sourceDb, 'm', 'a');
    const b = fieldId(s.source.endpoint, sourceDb, 'm', 'b');
    const newest = { a: D + DAY - 10n * MIN, b: D + DAY - 10n * MIN };
    // No checkpoint at all (Redis lost them): nothing differs, nothing is enqueued, each lands on its newest value.
    const none = await planBackup(r.ctx(measurements), { kind: 'repair', runId: 'none' });
    assert.equal(none.chunks, 0);
    assert.ok(none.fields.every((p) => p.advancesCheckpoint));
    assert.equal(await r.store.checkpoints.get(a), newest.a);
    assert.equal(await r.store.checkpoints.get(b), newest.b);

    // A field whose newest values are missing from the backup: the span before them holds, the repaired chunk moves it.
    await s.src.write(sourceDb, `m,s=c b=9 ${D + DAY - 1n}`);
    await r.redis.del('repair-checkpoints:state:checkpoints');
    const tail = await planBackup(r.ctx(measurements), { kind: 'repair', runId: 'tail' });
    assert.equal(tail.chunks, 1);
    assert.equal(await r.store.checkpoints.get(a), newest.a, 'a: every chunk equal');
    assert.ok((await r.store.checkpoints.get(b))! < D + DAY - H + 1n, 'b: held before the chunk still to copy');
    assertAllDone(await r.run(tail), 1);
    assert.equal(await r.store.checkpoints.get(b), D + DAY - 1n, 'b: over the repaired chunk to its newest value');

    // A late value in the middle while the checkpoint is past it: the checkpoint does not move back.
    await s.src.write(sourceDb, `m,s=a b=1.25 ${D + 5n * H + 1n}`);
    const middle = await planBackup(r.ctx(measurements), { kind: 'repair', runId: 'middle' });
    assert.equal(middle.chunks, 1);
    assert.equal(await r.store.checkpoints.get(b), D + DAY - 1n);
    assertAllDone(await r.run(middle), 1);
    assert.equal(await r.store.checkpoints.get(b), D + DAY - 1n);
    await s.assertSame(sourceDb, backupDb, 'm', 'b');
  } finally {
    await r.close();
  }
});

test('values only in the backup are counted, never a repair; a window compares the newest part and moves a checkpoint only from one', async () => {
  const r = await rig('extra');
  try {
    const { sourceDb, backupDb } = r.ctx([]);
    await s.src.write(sourceDb, day('m').join('\n'));
    await s.bak.write(backupDb, [...day('m'), `m,s=gone a=7i ${D + 2n * H}`, `m,s=gone a=8i ${D + 20n * H + 1n}`].join('\n'));
    const plan = await planBackup(r.ctx(measurements), { kind: 'repair', runId: 'extra' });
    assert.equal(plan.chunks, 0);
    assert.equal(byField(plan).a?.check?.extra, 2);
    assert.equal(byField(plan).a?.check?.different, 0);
    const a = fieldId(s.source.endpoint, sourceDb, 'm', 'a');
    assert.equal(
      await r.store.checkpoints.get(a),
      D + DAY - 10n * MIN,
      "extra values do not hold the checkpoint, nor lift it past the source's newest",
    );

    // The newest 6 hours only: 6 chunks compared per field. Without a checkpoint the window moves none.
    await r.redis.del('repair-extra:state:checkpoints');
    const win = await planBackup(r.ctx(measurements), { kind: 'repair', runId: 'window', windowNs: 6n * H });
    assert.equal(byField(win).a?.startNs, D + 18n * H);
    assert.equal(byField(win).a?.check?.compared, 6);
    assert.equal(byField(win).a?.advancesCheckpoint, false);
    assert.equal(await r.store.checkpoints.get(a), undefined);
  } finally {
    await r.close();
  }
});

test('--deep repairs a value rewritten at the same time, which counts cannot see', async () => {
  const r = await rig('deep');
  try {
    const { sourceDb, backupDb } = r.ctx([]);
    await s.src.write(sourceDb, day('m').join('\n'));
    await s.bak.write(backupDb, [...day('m'), `m,s=a b=999 ${D + 9n * H}`].join('\n'));
    const shallow = await planBackup(r.ctx(measurements), { kind: 'repair', runId: 'shallow' });
    assert.equal(shallow.chunks, 0, 'counts alike');
    const deep = await planBackup(r.ctx(measurements), { kind: 'repair', runId: 'deep', deep: true });
    assert.equal(deep.chunks, 1);
    assert.equal(byField(deep).b?.check?.changed, 1);
    assert.equal(byField(deep).b?.check?.examples[0]?.backup, '999');
    assertAllDone(await r.run(deep), 1);
    await s.assertSame(sourceDb, backupDb, 'm', 'b');
  } finally {
    await r.close();
  }
});
