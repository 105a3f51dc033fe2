import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldId, type FieldVerification } from '@influx-backup/queue';
import { fieldRows } from '../src/fields.js';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

test('a row per field with a checkpoint or a chunk, its lag, its chunks and its newest failure, in a stable order', () => {
  const temp = fieldId('10.0.0.1:8086', 'iot', 'weather', 'temp', 'autogen');
  const hum = fieldId('10.0.0.1:8086', 'iot', 'weather', 'hum', 'autogen');
  const other = fieldId('10.0.0.9:8086', 'old', 'x', 'y');
  const rows = fieldRows({
    checkpoints: [
      {
        fieldId: temp,
        source: '10.0.0.1:8086',
        database: 'iot',
        retentionPolicy: 'autogen',
        measurement: 'weather',
        field: 'temp',
        timeNs: ns('2026-12-01T11:00:00.000Z'),
        updatedAt: '2026-12-01T11:01:00.000Z',
      },
      { fieldId: other, source: '10.0.0.9:8086', database: 'old', measurement: 'x', field: 'y', timeNs: ns('2026-12-01T12:00:30.000Z') },
    ],
    active: [[{ fieldId: temp }, { fieldId: hum }]],
    waiting: [[{ fieldId: hum }], [{ fieldId: hum }]],
    failed: [
      { chunk: { fields: [{ fieldId: hum }], startNs: 0n, endNs: 1n }, finishedOn: NOW - 5_000, reason: 'older' },
      { chunk: { fields: [{ fieldId: hum }], startNs: 2n, endNs: 3n }, finishedOn: NOW - 1_000, reason: 'newest' },
    ],
    owner: (endpoint, db) => (endpoint === '10.0.0.1:8086' && db === 'iot' ? { name: 'iot' } : undefined),
    now: NOW,
  });
  assert.deepEqual(
    rows.map((r) => [r.sourceName, r.measurement, r.field, r.lagSeconds, r.active, r.waiting, r.lastFailure?.reason ?? null]),
    [
      ['iot', 'weather', 'hum', null, 1, 2, 'newest'],
      ['iot', 'weather', 'temp', 3600, 1, 0, null],
      [null, 'x', 'y', 0, 0, 0, null],
    ],
  );
  assert.equal(rows[1]?.retentionPolicy, 'autogen');
  assert.equal(rows[2]?.retentionPolicy, null, 'a checkpoint saved before policies were named');
  assert.equal(rows[1]?.lastSuccessAt, '2026-12-01T11:01:00.000Z');
  assert.equal(rows[0]?.lastFailure?.at, new Date(NOW - 1_000).toISOString());
});

test("a field's last check shows on its row, and a field checked but with no checkpoint yet has a row of its own", () => {
  const temp = fieldId('10.0.0.1:8086', 'iot', 'weather', 'temp', 'autogen');
  const rain = fieldId('10.0.0.1:8086', 'iot', 'weather', 'rain', 'autogen');
  const check: FieldVerification = {
    at: '2026-12-01T03:00:00.000Z',
    deep: false,
    startNs: '0',
    endNs: '1',
    compared: 24,
    different: 1,
    missing: 3,
    changed: 0,
    extra: 2,
    copied: 40,
    backupTypes: [],
    stillMissing: 0,
    ok: true,
  };
  const rows = fieldRows({
    checkpoints: [
      {
        fieldId: temp,
        source: '10.0.0.1:8086',
        database: 'iot',
        retentionPolicy: 'autogen',
        measurement: 'weather',
        field: 'temp',
        timeNs: 1n,
      },
    ],
    active: [],
    waiting: [],
    failed: [],
    verifications: new Map<string, FieldVerification>([
      [temp, check],
      [rain, { ...check, different: 0, stillMissing: null, ok: true }],
    ]),
    owner: () => ({ name: 'iot' }),
    now: NOW,
  });
  assert.deepEqual(
    rows.map((r) => [r.field, r.checkpoint !== null, r.lastCheck?.at ?? null, r.lastCheck?.different ?? null]),
    [
      ['rain', false, '2026-12-01T03:00:00.000Z', 0],
      ['temp', true, '2026-12-01T03:00:00.000Z', 1],
    ],
  );
});

test("a field's lag behind its source: 0 when the backup holds the source's newest value, however old the checkpoint", () => {
  const temp = fieldId('10.0.0.1:8086', 'iot', 'weather', 'temp', 'autogen');
  const hum = fieldId('10.0.0.1:8086', 'iot', 'weather', 'hum', 'autogen');
  const checkpoint = (fid: string, field: string, iso: string): Parameters<typeof fieldRows>[0]['checkpoints'][number] => ({
    fieldId: fid,
    source: '10.0.0.1:8086',
    database: 'iot',
    retentionPolicy: 'autogen',
    measurement: 'weather',
    field,
    timeNs: ns(iso),
  });
  const seenAt = NOW - 60_000;
  const rows = fieldRows({
    checkpoints: [checkpoint(temp, 'temp', '2026-12-01T11:00:00.000Z'), checkpoint(hum, 'hum', '2026-12-01T10:00:00.000Z')],
    active: [],
    waiting: [],
    failed: [],
    owner: () => ({ name: 'iot' }),
    sourceNames: ['iot'],
    sourceNewest: new Map([
      [temp, { timeNs: ns('2026-12-01T11:00:00.000Z'), seenAt }],
      [hum, { timeNs: ns('2026-12-01T10:30:00.000Z'), seenAt }],
    ]),
    now: NOW,
  });
  assert.deepEqual(
    rows.map((r) => [r.field, r.lagSeconds, r.behindSourceSeconds, r.sourceNewest, r.sourceNewestSeenAt]),
    [
      ['hum', 7200, 1800, '2026-12-01T10:30:00Z', new Date(seenAt).toISOString()],
      ['temp', 3600, 0, '2026-12-01T11:00:00Z', new Date(seenAt).toISOString()],
    ],
  );
});
