import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PassRecord, RunCounters } from '@influx-backup/queue';
import { passRuns, passWithCounters, sourceRepairTotals, sourceTotals } from '../src/status-shape.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');

function record(over: Partial<PassRecord> = {}): PassRecord {
  return {
    runId: 'run-1',
    mode: 'plan',
    startedAt: new Date(T0).toISOString(),
    finishedAt: null,
    fields: 2,
    chunks: 10,
    completed: 0,
    failed: 0,
    values: 0,
    ok: null,
    failures: [],
    run: 'r00000001',
    ...over,
  };
}

function counters(over: Partial<RunCounters>): RunCounters {
  return { total: 10, done: 0, failed: 0, values: 0, planned: true, exists: true, retried: 0, startedAt: T0, ...over };
}

test('a pass recorded before its runs ended follows their counters, and ends when they say so', () => {
  const going = passWithCounters(record(), new Map([['r00000001', counters({ done: 4, values: 400 })]]));
  assert.equal(going.inProgress, true);
  assert.equal(going.finishedAt, null);
  assert.equal(going.ok, null);
  assert.deepEqual([going.chunks, going.completed, going.values], [10, 4, 400]);

  const end = T0 + 90_000;
  const done = passWithCounters(record(), new Map([['r00000001', counters({ done: 9, failed: 1, values: 900, finishedAt: end })]]));
  assert.equal(done.inProgress, false);
  assert.equal(done.finishedAt, new Date(end).toISOString());
  assert.equal(done.ok, false, 'a chunk failed for good');
  assert.equal(done.failed, 1);
});

test('a pass that recorded its own end keeps it; one whose run is gone from Redis stays as recorded', () => {
  const ended = record({ finishedAt: '2026-12-01T10:05:00.000Z', ok: true, completed: 10, values: 1000 });
  const kept = passWithCounters(ended, new Map([['r00000001', counters({ done: 10, values: 1000, finishedAt: T0 + 1 })]]));
  assert.equal(kept.finishedAt, '2026-12-01T10:05:00.000Z');
  assert.equal(kept.ok, true);
  assert.deepEqual(passWithCounters(ended, new Map()), ended);
  assert.deepEqual(passWithCounters(ended, new Map([['r00000001', counters({ exists: false })]])), ended);
});

test('with several sources each part follows its own run; --source shows only its parts and failures', () => {
  const pass = record({
    run: undefined,
    sources: [
      { source: 'a', runId: 'run-1.a', run: 'ra', fields: 1, chunks: 5, completed: 0, failed: 0, values: 0, ok: true },
      { source: 'b', fields: 0, chunks: 0, completed: 0, failed: 0, values: 0, ok: false, error: 'down' },
      { source: 'c', runId: 'run-1.c', run: 'rc', fields: 1, chunks: 5, completed: 0, failed: 0, values: 0, ok: true },
    ],
    failures: [
      { source: 'b', reason: 'down' },
      { source: 'c', reason: 'type conflict' },
    ],
  });
  delete (pass as { run?: string }).run;
  assert.deepEqual(passRuns(pass), ['ra', 'rc']);
  const c = new Map([
    ['ra', counters({ total: 5, done: 5, values: 50, finishedAt: T0 + 10_000 })],
    ['rc', counters({ total: 5, done: 4, failed: 1, values: 40, finishedAt: T0 + 20_000 })],
  ]);
  const all = passWithCounters(pass, c);
  assert.deepEqual([all.chunks, all.completed, all.failed, all.values], [10, 9, 1, 90]);
  assert.equal(all.finishedAt, new Date(T0 + 20_000).toISOString(), 'the pass ends with its last run');
  assert.equal(all.ok, false);
  assert.deepEqual(
    all.sources?.map((p) => [p.source, p.ok, p.inProgress ?? null]),
    [
      ['a', true, false],
      ['b', false, null],
      ['c', false, false],
    ],
  );
  const onlyA = passWithCounters(pass, c, new Set(['a']));
  assert.deepEqual(
    onlyA.sources?.map((p) => p.source),
    ['a'],
  );
  assert.deepEqual(onlyA.failures, []);
  assert.equal(onlyA.ok, true);
  const going = passWithCounters(
    pass,
    new Map([
      ['ra', counters({ total: 5, done: 2 })],
      ['rc', c.get('rc')!],
    ]),
  );
  assert.equal(going.inProgress, true);
  assert.equal(going.finishedAt, null);
});

test('totals: each configured source from zero, stored names mapped to configured ones, others and the pre-upgrade set apart', () => {
  const t = (values: number): { values: number; done: number; failed: number; retried: number } => ({
    values,
    done: 1,
    failed: 0,
    retried: 0,
  });
  const out = sourceTotals(
    [
      { name: 'iot', stored: '' },
      { name: 'quiet', stored: 'quiet' },
    ],
    {
      bySource: new Map([
        ['', t(10)],
        ['gone', t(5)],
      ]),
      repairs: new Map(),
      before: t(7),
    },
  );
  assert.deepEqual(
    out.map((x) => [x.source, x.values]),
    [
      ['iot', 10],
      ['quiet', 0],
      ['gone', 5],
      ['', 7],
    ],
  );
});

test('repair totals by source: each configured source (zeros before its first check), then a source no longer configured', () => {
  const out = sourceRepairTotals(
    [
      { name: 'iot', stored: '' },
      { name: 'quiet', stored: 'quiet' },
    ],
    new Map([
      ['', { compared: 100, different: 2, repaired: 30 }],
      ['gone', { compared: 5, different: 0, repaired: 0 }],
    ]),
  );
  assert.deepEqual(out, [
    { source: 'iot', compared: 100, different: 2, repaired: 30 },
    { source: 'quiet', compared: 0, different: 0, repaired: 0 },
    { source: 'gone', compared: 5, different: 0, repaired: 0 },
  ]);
});
