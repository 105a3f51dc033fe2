// Queue names and job ids: deterministic, and never holding ':' (BullMQ's key separator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  QUEUE_COPY,
  QUEUE_SCHEDULE,
  JOB_COPY,
  JOB_BACKFILL,
  JOB_SCHEDULED_PLAN,
  assertNoColon,
  chunkJobId,
  fieldId,
  fieldPlanKey,
  shortHash,
} from '../src/names.js';
import { JOBS, copyJobOptions, retryDelay } from '../src/catalog.js';

/** The plan key of [start, end] cut into chunks of `size`, as the planner would cut it. */
function planOf(f: string, start: bigint, end: bigint, size: bigint): string {
  const chunks: { startNs: bigint; endNs: bigint }[] = [];
  for (let s = start; s <= end; s += size) chunks.push({ startNs: s, endNs: s + size - 1n < end ? s + size - 1n : end });
  return fieldPlanKey(f, chunks);
}


const hostile = ['x"; DROP DATABASE "src', 'a:b', 'we ird,m=x', 'two\nlines', '温度', 'back\\slash', ''];

test('queue and job names hold no colon', () => {
  for (const name of [QUEUE_COPY, QUEUE_SCHEDULE, JOB_COPY, JOB_BACKFILL, JOB_SCHEDULED_PLAN]) {
    assert.equal(assertNoColon('name', name), name);
  }
  for (const job of Object.values(JOBS)) {
    assert.ok(!job.queue.includes(':') && !job.name.includes(':'));
  }
  assert.throws(() => assertNoColon('queue name', 'a:b'), /queue name "a:b" must not contain ':'/);
});

test('chunk job ids hold no colon whatever the names and times, negative ones too', () => {
  const times: [bigint, bigint][] = [
    [0n, 3_599_999_999_999n],
    [-9_223_372_036_854_775_806n, -1n],
    [-3_600_000_000_000n, 3_600_000_000_000n],
    [1_700_000_000_000_000_000n, 9_223_372_036_854_775_806n],
  ];
  for (const m of hostile) {
    for (const f of hostile) {
      const fid = fieldId('10.0.0.1:8086', 'db:1', m, f);
      for (const [s, e] of times) {
        for (const kind of ['copy', 'backfill'] as const) {
          const id = chunkJobId(kind, fid, s, e);
          assert.ok(!id.includes(':'), id);
          assert.doesNotThrow(() => assertNoColon('job id', id));
          assert.ok(/^[cb]_[0-9a-f]{16}_-?\d+_-?\d+$/.test(id), id);
        }
      }
    }
  }
});

test('job ids are deterministic and tell fields, kinds and ranges apart', () => {
  const fid = fieldId('h:8086', 'db', 'solar', 'Irradiance');
  const a = chunkJobId('copy', fid, 0n, 99n);
  assert.equal(chunkJobId('copy', fieldId('h:8086', 'db', 'solar', 'Irradiance'), 0n, 99n), a);
  const others = [
    chunkJobId('backfill', fid, 0n, 99n),
    chunkJobId('copy', fieldId('h:8086', 'db', 'solar', 'Temperature'), 0n, 99n),
    chunkJobId('copy', fieldId('h:8087', 'db', 'solar', 'Irradiance'), 0n, 99n),
    chunkJobId('copy', fieldId('h:8086', 'db2', 'solar', 'Irradiance'), 0n, 99n),
    chunkJobId('copy', fid, 0n, 100n),
    chunkJobId('copy', fid, 1n, 99n),
    // The JSON form keeps ("a,b", "c") and ("a", "b,c") apart.
    chunkJobId('copy', fieldId('h:8086', 'db', 'a,b', 'c'), 0n, 99n),
    chunkJobId('copy', fieldId('h:8086', 'db', 'a', 'b,c'), 0n, 99n),
  ];
  assert.equal(new Set([a, ...others]).size, others.length + 1);
  assert.equal(planOf(fid, 0n, 99n, 10n), planOf(fid, 0n, 99n, 10n));
  assert.notEqual(planOf(fid, 0n, 99n, 10n), planOf(fid, 0n, 99n, 11n));
  assert.match(planOf(fid, -5n, 99n, 10n), /^[0-9a-f]{16}$/);
  assert.match(shortHash(''), /^[0-9a-f]{16}$/);
});

test('copy jobs retry with backup.retry, capped', () => {
  const policy = { maxAttempts: 4, backoffFactor: 2, maxBackoffMs: 5_000 };
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n)), [1_000, 2_000, 4_000, 5_000, 5_000]);
  const opts = copyJobOptions(policy);
  assert.equal(opts.attempts, 4);
  assert.equal(typeof opts.backoff.type, 'string');
});
