// Queue names and job ids: deterministic, and never holding ':' (BullMQ's key separator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  QUEUE_COPY,
  QUEUE_SCHEDULE,
  JOB_COPY,
  JOB_BACKFILL,
  JOB_RESTORE,
  JOB_REPAIR,
  JOB_SCHEDULED_PLAN,
  assertNoColon,
  chunkDedupeId,
  chunkJobId,
  chunkJobName,
  fieldId,
  fieldPlanKey,
  parseChunkJobId,
  restoreFieldId,
  runKey,
  shortHash,
} from '../src/names.js';
import { JOBS, chunkPayload, chunkRange, copyJobOptions, jobFields, retryDelay } from '../src/catalog.js';

const hostile = ['x"; DROP DATABASE "src', 'a:b', 'we ird,m=x', 'two\nlines', '温度', 'back\\slash', ''];

test('queue and job names hold no colon', () => {
  for (const name of [QUEUE_COPY, QUEUE_SCHEDULE, JOB_COPY, JOB_BACKFILL, JOB_RESTORE, JOB_REPAIR, JOB_SCHEDULED_PLAN]) {
    assert.equal(assertNoColon('name', name), name);
  }
  for (const job of Object.values(JOBS)) {
    assert.ok(!job.queue.includes(':') && !job.name.includes(':'));
  }
  assert.throws(() => assertNoColon('queue name', 'a:b'), /queue name "a:b" must not contain ':'/);
});

test('chunk deduplication ids hold no colon whatever the names and times, negative ones too', () => {
  const times: [bigint, bigint][] = [
    [0n, 3_599_999_999_999n],
    [-9_223_372_036_854_775_806n, -1n],
    [-3_600_000_000_000n, 3_600_000_000_000n],
    [1_700_000_000_000_000_000n, 9_223_372_036_854_775_806n],
  ];
  for (const m of hostile) {
    for (const f of hostile) {
      const fid = fieldId('10.0.0.1:8086', 'db:1', m, f);
      assert.ok(fid.includes(':'), 'the field id itself holds colons');
      for (const [s, e] of times) {
        for (const kind of ['copy', 'backfill'] as const) {
          // A kind letter and 16 hex digits: no colon, nor anything of the names.
          assert.match(chunkDedupeId(kind, fid, s, e), /^[cb][0-9a-f]{16}$/);
        }
      }
    }
  }
});

test('deduplication ids are deterministic and tell fields, kinds and ranges apart', () => {
  const fid = fieldId('h:8086', 'db', 'solar', 'Irradiance');
  const a = chunkDedupeId('copy', fid, 0n, 99n);
  assert.equal(chunkDedupeId('copy', fieldId('h:8086', 'db', 'solar', 'Irradiance'), 0n, 99n), a);
  const others = [
    chunkDedupeId('backfill', fid, 0n, 99n),
    chunkDedupeId('copy', fieldId('h:8086', 'db', 'solar', 'Temperature'), 0n, 99n),
    chunkDedupeId('copy', fieldId('h:8087', 'db', 'solar', 'Irradiance'), 0n, 99n),
    chunkDedupeId('copy', fieldId('h:8086', 'db2', 'solar', 'Irradiance'), 0n, 99n),
    chunkDedupeId('copy', fid, 0n, 100n),
    chunkDedupeId('copy', fid, 1n, 99n),
    chunkDedupeId('copy', fid, 10n, 9n),
    // The JSON form keeps ("a,b", "c") and ("a", "b,c") apart.
    chunkDedupeId('copy', fieldId('h:8086', 'db', 'a,b', 'c'), 0n, 99n),
    chunkDedupeId('copy', fieldId('h:8086', 'db', 'a', 'b,c'), 0n, 99n),
  ];
  assert.equal(new Set([a, ...others]).size, others.length + 1);
  assert.match(shortHash(''), /^[0-9a-f]{16}$/);
});

test('job ids name their run and position, and parse back; other ids do not parse', () => {
  const run = runKey('run-20240101-000000-42');
  assert.match(run, /^r[0-9a-z]{8}$/);
  assert.equal(runKey('run-20240101-000000-42'), run);
  assert.notEqual(runKey('run-20240101-000000-43'), run);
  for (const seq of [0, 1, 35, 36, 87_599, 999_999, 2 ** 31]) {
    const id = chunkJobId(run, seq);
    assert.ok(!id.includes(':'), id);
    assert.ok(!/^\d+$/.test(id), 'BullMQ refuses integer custom ids');
    assert.deepEqual(parseChunkJobId(id), { run, seq });
  }
  for (const other of ['1', 'c_0123456789abcdef_0_99', `${run}`, `${run}.`, `${run}.A`, `x${run}.1`])
    assert.equal(parseChunkJobId(other), undefined, other);
  assert.equal(fieldPlanKey(run, 3), `${run}.3`);
  assert.notEqual(fieldPlanKey(run, 1), fieldPlanKey(runKey('other'), 1));
});

test('a restore run has x ids: they parse, and a worker from before restore (r ids only) refuses them', () => {
  // The job id pattern of every version before restore existed: such a worker fails any other id at once, touching no server.
  const before = /^(r[0-9a-z]{8})\.([0-9a-z]+)$/;
  const run = runKey('restore-20240101-000000-42', 'restore');
  assert.match(run, /^x[0-9a-z]{8}$/);
  assert.equal(run.slice(1), runKey('restore-20240101-000000-42').slice(1), 'only the letter differs');
  for (const seq of [0, 35, 999_999]) {
    const id = chunkJobId(run, seq);
    assert.deepEqual(parseChunkJobId(id), { run, seq });
    assert.equal(before.exec(id), null, id);
  }
  assert.equal(chunkJobName('restore'), JOB_RESTORE);
  assert.equal(chunkJobName('restore', { measurement: 'm', fields: ['a', 'b'] }), 'restore-chunk m: a, b');
  // A restore's chunk never shares a claim with a backup's, nor with a restore into another database.
  const fid = fieldId('h:1', 'db', 'm', 'f', 'autogen');
  const into = (db: string): string => chunkDedupeId('restore', restoreFieldId('h:1', 'db', 'm', 'f', 'autogen', db), 0n, 9n);
  assert.notEqual(into('db'), chunkDedupeId('copy', fid, 0n, 9n));
  assert.notEqual(into('db'), chunkDedupeId('backfill', fid, 0n, 9n));
  assert.notEqual(into('db'), into('scratch'));
  assert.equal(into('db'), into('db'));
});

test('a repair run copies the way a backup does (r ids), under its own job name, and never shares a claim with a copy', () => {
  const run = runKey('repair-20240101-000000-42', 'repair');
  assert.match(run, /^r[0-9a-z]{8}$/);
  assert.equal(chunkJobName('repair'), JOB_REPAIR);
  assert.equal(JOB_REPAIR, 'repair-chunk');
  assert.equal(chunkJobName('repair', { measurement: 'm', fields: ['a', 'b'] }, 'plant_a'), 'repair-chunk plant_a m: a, b');
  const fid = fieldId('h:1', 'db', 'm', 'f', 'autogen');
  const repair = chunkDedupeId('repair', fid, 0n, 9n);
  for (const other of ['copy', 'backfill', 'restore'] as const) assert.notEqual(repair, chunkDedupeId(other, fid, 0n, 9n), other);
  assert.equal(repair, chunkDedupeId('repair', fid, 0n, 9n));
});

test('copy jobs retry with backup.retry, capped', () => {
  const policy = { maxAttempts: 4, backoffFactor: 2, maxBackoffMs: 5_000 };
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => retryDelay(policy, n)),
    [1_000, 2_000, 4_000, 5_000, 5_000],
  );
  const opts = copyJobOptions(policy);
  assert.equal(opts.attempts, 4);
  assert.equal(typeof opts.backoff.type, 'string');
});

test('a chunk payload keeps its range exactly, int64 ends and negative times too, in at most 64 bytes', () => {
  const ranges: [bigint, bigint][] = [
    [0n, 0n],
    [0n, 3_599_999_999_999n],
    [-9_223_372_036_854_775_806n, -1n],
    [-3_600_000_000_000n, 3_600_000_000_000n],
    [1_700_000_000_000_000_123n, 9_223_372_036_854_775_806n],
  ];
  for (const [s, e] of ranges) {
    const p = chunkPayload([{ k: 999, i: 9_999_999 }], s, e);
    assert.deepEqual(chunkRange(p), { startNs: s, endNs: e });
    assert.ok(JSON.stringify(p).length <= 64, JSON.stringify(p));
  }
  assert.throws(() => chunkRange({ s: '1_2', d: '0' }), RangeError);
  const opts = JSON.stringify({ jobId: 'r0000abcd.zzzz', ...copyJobOptions({ maxAttempts: 9, backoffFactor: 2, maxBackoffMs: 1 }) });
  assert.ok(opts.length <= 64, opts);
});

test('a group job lists its further fields; one field keeps the compact payload, its name and its chunk id', () => {
  const one = chunkPayload([{ k: 3, i: 7 }], 10n, 20n);
  assert.deepEqual(one, { k: 3, i: 7, s: 'a', d: 'a' });
  assert.deepEqual(jobFields(one), [{ k: 3, i: 7 }]);
  const group = chunkPayload(
    [
      { k: 3, i: 7 },
      { k: 4, i: 0 },
      { k: 9, i: 12 },
    ],
    10n,
    20n,
  );
  assert.deepEqual(group.f, [4, 0, 9, 12]);
  assert.deepEqual(jobFields(group), [
    { k: 3, i: 7 },
    { k: 4, i: 0 },
    { k: 9, i: 12 },
  ]);
  assert.throws(() => chunkPayload([], 0n, 1n), RangeError);

  const a = fieldId('h:1', 'db', 'm', 'a');
  const b = fieldId('h:1', 'db', 'm', 'b');
  assert.equal(chunkDedupeId('copy', [a], 0n, 9n), chunkDedupeId('copy', a, 0n, 9n));
  assert.notEqual(chunkDedupeId('copy', [a, b], 0n, 9n), chunkDedupeId('copy', a, 0n, 9n));
  assert.notEqual(chunkDedupeId('copy', [a, b], 0n, 9n), chunkDedupeId('copy', [b, a], 0n, 9n));

  assert.equal(chunkJobName('copy'), JOB_COPY);
  assert.equal(chunkJobName('copy', { measurement: 'm', fields: ['a'] }), JOB_COPY);
  assert.equal(chunkJobName('backfill', { measurement: 'm x', fields: ['a', 'b "c"'] }), `${JOB_BACKFILL} m x: a, b "c"`);
  const many = chunkJobName('copy', { measurement: 'm', fields: Array.from({ length: 100 }, (_, n) => `field_${n}`) });
  assert.ok(many.length <= 220 && /and \d+ more$/.test(many), many);
});
