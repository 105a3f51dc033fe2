// The store against a real Redis: the low watermark runs in Lua, atomically,
// and compares int64 times held as decimal strings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@influx-backup/testkit';
import { createRedis } from '../src/connection.js';
import { createStore, type Store } from '../src/store/index.js';
import { fieldId, fieldPlanKey, runKey } from '../src/names.js';

/** A field plan's key of its own: one run per field and range, as planning [start, end] in chunks of `size` makes. */
function planOf(f: string, start: bigint, end: bigint, size: bigint): string {
  return fieldPlanKey(runKey(`${f}|${start}|${end}|${size}`), 0);
}

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

/** A store of its own for each test: its own prefix, so nothing is shared. */
function freshStore(): { store: Store; prefix: string } {
  const prefix = `cp-test-${++n}`;
  return { store: createStore(redis, prefix), prefix };
}

const fid = (field: string, measurement = 'solar'): string => fieldId('127.0.0.1:8086', 'plant', measurement, field);

test('the constructor needs a prefix', () => {
  assert.throws(() => createStore(redis, ''), /prefix/);
});

test('chunks finishing out of order move the checkpoint only over the unbroken run', async () => {
  const { store } = freshStore();
  const f = fid('Irradiance');
  const plan = planOf(f, 0n, 3_999n, 1_000n);
  await store.checkpoints.openPlan(plan, 4);
  assert.equal(await store.checkpoints.get(f), undefined);

  assert.deepEqual(await store.checkpoints.complete(plan, f, 2, 2_500n), { frontier: 0, checkpointNs: undefined });
  assert.equal(await store.checkpoints.get(f), undefined, 'chunk 2 alone moved the checkpoint');
  assert.deepEqual(await store.checkpoints.complete(plan, f, 1, 1_500n), { frontier: 0, checkpointNs: undefined });
  assert.equal(await store.checkpoints.get(f), undefined);
  assert.deepEqual(await store.checkpoints.complete(plan, f, 0, 900n), { frontier: 3, checkpointNs: 2_500n });
  assert.equal(await store.checkpoints.get(f), 2_500n);
  // The last chunk held nothing when it ran: the frontier passes, the checkpoint stays.
  assert.deepEqual(await store.checkpoints.complete(plan, f, 3, null), { frontier: 4, checkpointNs: 2_500n });
  assert.equal(await store.checkpoints.get(f), 2_500n);
});

test('a chunk that never completes keeps the checkpoint before it, whatever finishes after', async () => {
  const { store } = freshStore();
  const f = fid('Temperature');
  const plan = planOf(f, 0n, 9_999n, 1_000n);
  await store.checkpoints.openPlan(plan, 10);
  await store.checkpoints.complete(plan, f, 0, 999n);
  await store.checkpoints.complete(plan, f, 1, 1_999n);
  // Chunk 2 failed for good and never completes.
  for (let i = 3; i < 10; i++) {
    const r = await store.checkpoints.complete(plan, f, i, BigInt(i * 1_000 + 999));
    assert.equal(r.frontier, 2);
    assert.equal(r.checkpointNs, 1_999n);
  }
  assert.equal(await store.checkpoints.get(f), 1_999n);
  // Completed later (a retry that succeeds), it releases the whole run.
  assert.deepEqual(await store.checkpoints.complete(plan, f, 2, 2_999n), { frontier: 10, checkpointNs: 9_999n });
  assert.equal(await store.checkpoints.get(f), 9_999n);
});

test('a chunk delivered twice changes nothing', async () => {
  const { store } = freshStore();
  const f = fid('Twice');
  const plan = planOf(f, 0n, 1_999n, 1_000n);
  await store.checkpoints.openPlan(plan, 2);
  assert.deepEqual(await store.checkpoints.complete(plan, f, 0, 500n), { frontier: 1, checkpointNs: 500n });
  assert.deepEqual(await store.checkpoints.complete(plan, f, 0, 500n), { frontier: 1, checkpointNs: 500n });
  // Opening the same plan again (a second planner) keeps its progress.
  await store.checkpoints.openPlan(plan, 2);
  assert.deepEqual(await store.checkpoints.complete(plan, f, 1, 1_500n), { frontier: 2, checkpointNs: 1_500n });
});

test('the checkpoint never moves backwards', async () => {
  const { store } = freshStore();
  const f = fid('Back');
  const first = planOf(f, 0n, 9_999n, 10_000n);
  await store.checkpoints.openPlan(first, 1);
  await store.checkpoints.complete(first, f, 0, 9_000n);
  // A backfill or overlap re-plan over older times.
  const older = planOf(f, 0n, 4_999n, 1_000n);
  await store.checkpoints.openPlan(older, 5);
  for (let i = 0; i < 5; i++) await store.checkpoints.complete(older, f, i, BigInt(i * 1_000 + 500));
  assert.equal(await store.checkpoints.get(f), 9_000n);
  const r = await store.checkpoints.complete(older, f, 4, 4_999n);
  assert.equal(r.checkpointNs, 9_000n);
});

test('negative nanosecond times (before 1970) compare as numbers, not as text', async () => {
  const { store } = freshStore();
  const f = fid('Old');
  const steps: [bigint, bigint][] = [
    // [newest time of a one-chunk plan, checkpoint expected after it]
    [-9_000n, -9_000n],
    [-10_000n, -9_000n], // "-10000" > "-9000" as text, smaller as a number
    [-10n, -10n],
    [-9n, -9n], // "-9" < "-10" as text
    [-100n, -9n],
    [0n, 0n],
    [-1n, 0n],
    [9n, 9n],
    [10n, 10n], // "10" < "9" as text
    [-9_223_372_036_854_775_806n, 10n],
    [9_223_372_036_854_775_806n, 9_223_372_036_854_775_806n],
    [9_223_372_036_854_775_805n, 9_223_372_036_854_775_806n],
  ];
  let i = 0;
  for (const [last, want] of steps) {
    const plan = fieldPlanKey(runKey(`${f}|${i}`), 0);
    await store.checkpoints.openPlan(plan, 1);
    const r = await store.checkpoints.complete(plan, f, 0, last);
    assert.equal(r.checkpointNs, want, `after ${last}`);
    assert.equal(await store.checkpoints.get(f), want);
    i++;
  }
});

test('the Lua comparison agrees with BigInt on many int64 pairs', async () => {
  const { store } = freshStore();
  let s = 12345;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  const pick = (): bigint => {
    const digits = 1 + Math.floor(rand() * 19);
    let v = 0n;
    for (let d = 0; d < digits; d++) v = v * 10n + BigInt(Math.floor(rand() * 10));
    if (v > 9_223_372_036_854_775_806n) v = 9_223_372_036_854_775_806n;
    return rand() < 0.5 ? -v : v;
  };
  const pairs: [bigint, bigint][] = [];
  for (let k = 0; k < 150; k++) pairs.push([pick(), pick()]);
  await Promise.all(
    pairs.map(async ([a, b], k) => {
      const f = fid(`pair${k}`);
      for (const [j, t] of [a, b].entries()) {
        const plan = fieldPlanKey(runKey(`${f}|${j}`), 0);
        await store.checkpoints.openPlan(plan, 1);
        await store.checkpoints.complete(plan, f, 0, t);
      }
      const want = a > b ? a : b;
      assert.equal(await store.checkpoints.get(f), want, `max(${a}, ${b})`);
    }),
  );
});

test('two fields are independent: one field’s progress never moves the other', async () => {
  const { store } = freshStore();
  const irr = fid('Irradiance');
  const temp = fid('Temperature');
  const irrPlan = planOf(irr, 0n, 99n, 10n);
  const tempPlan = planOf(temp, 0n, 99n, 10n);
  assert.notEqual(irrPlan, tempPlan);
  await store.checkpoints.openPlan(irrPlan, 10);
  await store.checkpoints.openPlan(tempPlan, 10);
  await store.checkpoints.complete(irrPlan, irr, 0, 5n);
  await store.checkpoints.complete(tempPlan, temp, 0, 7n);
  await store.checkpoints.complete(tempPlan, temp, 1, 15n);
  // Irradiance chunk 1 has not finished; Temperature's chunk 1 must not count for it.
  await store.checkpoints.complete(irrPlan, irr, 2, 25n);
  assert.equal(await store.checkpoints.get(irr), 5n);
  assert.equal(await store.checkpoints.get(temp), 15n);
  // The same field name in another measurement is another field too.
  const other = fid('Irradiance', 'weather');
  assert.equal(await store.checkpoints.get(other), undefined);
  const list = await store.checkpoints.list();
  assert.deepEqual(
    list.map((c) => [c.measurement, c.field, c.timeNs]),
    [
      ['solar', 'Irradiance', 5n],
      ['solar', 'Temperature', 15n],
    ],
  );
  for (const c of list) {
    assert.equal(c.source, '127.0.0.1:8086');
    assert.equal(c.database, 'plant');
    assert.ok(c.updatedAt && !Number.isNaN(Date.parse(c.updatedAt)));
  }
});

test('many chunks completing at once land on the right watermark', async () => {
  const { store } = freshStore();
  const f = fid('Burst');
  const plan = planOf(f, 0n, 199_999n, 1_000n);
  await store.checkpoints.openPlan(plan, 200);
  const order = Array.from({ length: 200 }, (_, i) => i).reverse();
  const results = await Promise.all(order.map((i) => store.checkpoints.complete(plan, f, i, i % 7 === 0 ? null : BigInt(i * 1_000 + 999))));
  assert.ok(results.some((r) => r.frontier === 200));
  assert.equal(await store.checkpoints.get(f), 199_999n);
});

test('hostile names make distinct field ids, and prefixes keep stores apart', async () => {
  const a = freshStore();
  const b = freshStore();
  const names = ['a"b', 'a\\"b', 'a,b', 'a b', 'a:b', 'a\nb', '温度', ''];
  const ids = new Set(names.flatMap((m) => names.map((f) => fieldId('h:1', 'db', m, f))));
  assert.equal(ids.size, names.length * names.length);
  const f = fieldId('h:1', 'db', 'x"; DROP DATABASE "db', 'f\nb');
  const plan = planOf(f, 0n, 0n, 1n);
  await a.store.checkpoints.openPlan(plan, 1);
  await a.store.checkpoints.complete(plan, f, 0, 42n);
  assert.equal(await a.store.checkpoints.get(f), 42n);
  assert.equal(await b.store.checkpoints.get(f), undefined);
  const [info] = await a.store.checkpoints.list();
  assert.equal(info?.measurement, 'x"; DROP DATABASE "db');
  assert.equal(info?.field, 'f\nb');
  const keys = await redis.keys(`${a.prefix}:*`);
  assert.ok(keys.length > 0);
  assert.ok(
    keys.every((k) => k.startsWith(`${a.prefix}:state:`)),
    keys.join(', '),
  );
});

test('totals are kept per source, once per chunk, in four fields a source however many chunks; the one set of an earlier version reads as before', async () => {
  const { store, prefix } = freshStore();
  const key = `${prefix}:state:totals`;
  await redis.hset(key, { values: 7, done: 1 });
  const finish = (run: string, seq: number, outcome: 'done' | 'failed', source?: string): Promise<boolean> =>
    store.runs.finishChunk({
      run,
      seq,
      ...(source === undefined ? {} : { source }),
      claim: { chunk: `${run}-${seq}`, jobId: `${run}.${seq}` },
      outcome,
      values: outcome === 'done' ? 10 : 0,
      measurement: 'solar',
      fieldIds: [fid('a')],
    });
  for (let i = 0; i < 50; i++) assert.equal(await finish('ra', i, 'done', 'plant_a'), true);
  assert.equal(await finish('ra', 3, 'done', 'plant_a'), false, 'a chunk counted again');
  await finish('rb', 0, 'failed', 'plant_b');
  await finish('r1', 0, 'done');
  await store.runs.countRetry('rb', 'plant_b');
  await store.runs.countRetry('r1');
  const totals = await store.runs.totals();
  assert.deepEqual(totals.before, { values: 7, done: 1, failed: 0, retried: 0 });
  assert.deepEqual(Object.fromEntries(totals.bySource), {
    plant_a: { values: 500, done: 50, failed: 0, retried: 0 },
    plant_b: { values: 0, done: 0, failed: 1, retried: 1 },
    '': { values: 10, done: 1, failed: 0, retried: 1 },
  });
  assert.deepEqual((await redis.hkeys(key)).sort(), [
    'done',
    'done:',
    'done:plant_a',
    'failed:plant_b',
    'retried:',
    'retried:plant_b',
    'values',
    'values:',
    'values:plant_a',
  ]);
  // Nothing counted yet: no source, nothing before.
  assert.deepEqual(await freshStore().store.runs.totals(), { bySource: new Map(), repairs: new Map() });
});
