// The breaker that keeps a down source's chunks from holding worker slots: pure, with a clock of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InfluxError } from '@influx-backup/influx';
import { SourceBreaker } from '../src/source-breaker.js';

const refused = (role: string): InfluxError => new InfluxError('10.0.0.2:8086', 'connection refused', { retriable: true, role });

test('a source that cannot be reached is refused at once for the pause, then one chunk probes it', () => {
  let now = 1_000;
  const b = new SourceBreaker(5_000, () => now);
  assert.equal(b.refuse('plant_b'), undefined);
  b.failed('plant_b', refused('source "plant_b" InfluxDB'));
  assert.match(b.refuse('plant_b') ?? '', /source "plant_b" InfluxDB 10\.0\.0\.2:8086: connection refused/);
  assert.equal(b.refuse('plant_a'), undefined, 'the other sources are not touched');
  now += 5_000;
  assert.equal(b.refuse('plant_b'), undefined, 'the probe goes through');
  assert.notEqual(b.refuse('plant_b'), undefined, 'the next chunks wait for the probe');
  b.succeeded('plant_b');
  assert.equal(b.refuse('plant_b'), undefined);
});

test('only an unreachable source server marks it: not the backup, not an answer with a status, not a permanent error', () => {
  const b = new SourceBreaker(5_000, () => 0);
  b.failed('a', refused('backup InfluxDB'));
  b.failed('a', new InfluxError('h:1', 'bad gateway', { retriable: true, status: 502, role: 'source "a" InfluxDB' }));
  b.failed('a', new InfluxError('h:1', 'cut off', { retriable: false, role: 'source "a" InfluxDB' }));
  b.failed('a', new Error('something else'));
  assert.equal(b.refuse('a'), undefined);
  assert.throws(() => new SourceBreaker(0), RangeError);
});
