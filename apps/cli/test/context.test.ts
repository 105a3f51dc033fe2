import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '@influx-backup/process';
import { runId, selection, timeFlag } from '../src/context.js';

test('selectors become a plan selection: repeatable names, RFC 3339 times in ns, --full', () => {
  assert.deepEqual(
    selection({
      measurement: ['weather', 'power meters'],
      field: ['temp'],
      retentionPolicy: ['raw'],
      startTime: '2024-01-31T23:59:59.000000001Z',
      endTime: '2024-02-01T02:00:00+01:00',
      full: true,
    }),
    {
      measurements: ['weather', 'power meters'],
      fields: ['temp'],
      retentionPolicies: ['raw'],
      startNs: 1_706_745_599_000_000_001n,
      endNs: 1_706_749_200_000_000_000n,
      full: true,
    },
  );
  // Without flags: nothing selected, so everything configured; never --full by default.
  assert.deepEqual(selection({}), { full: false });
  assert.deepEqual(selection({ measurement: [], field: [] }), { full: false });
});

test('a time that is not RFC 3339, or an end before the start, is bad usage naming the flag', () => {
  assert.throws(
    () => timeFlag('--start-time', 'yesterday'),
    (e: unknown) => e instanceof UsageError && /--start-time "yesterday" is not an RFC 3339 time/.test(e.message),
  );
  assert.equal(timeFlag('--end-time', undefined), undefined);
  assert.throws(
    () => selection({ startTime: '2024-02-01T00:00:00Z', endTime: '2024-01-01T00:00:00Z' }),
    (e: unknown) =>
      e instanceof UsageError && /--end-time 2024-01-01T00:00:00Z is before --start-time 2024-02-01T00:00:00Z/.test(e.message),
  );
});

test('a run id names the command, the time to the second and the process', () => {
  assert.match(runId('backfill'), new RegExp(`^backfill-\\d{8}-\\d{6}-${process.pid}$`));
});
