// Pure unit tests of the chunk grid, incremental ranges and the low watermark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advanceWatermark, chunkBounds, chunkCount, groupOffsetNs, incrementalRange } from '../src/index.js';

const H = 3_600_000_000_000n;

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function big(r: () => number, lo: bigint, hi: bigint): bigint {
  const span = hi - lo + 1n;
  const x = BigInt(Math.floor(r() * 2 ** 30)) * BigInt(Math.floor(r() * 2 ** 30)) + BigInt(Math.floor(r() * 2 ** 30));
  return lo + (x % span);
}

test('chunkBounds: both ends inclusive, the next chunk starts at end + 1, the last is clipped', () => {
  const start = 1_000n;
  const end = 1_034n;
  assert.deepEqual(chunkBounds(start, end, 10n, 0n), { startNs: 1_000n, endNs: 1_009n });
  assert.deepEqual(chunkBounds(start, end, 10n, 1n), { startNs: 1_010n, endNs: 1_019n });
  assert.deepEqual(chunkBounds(start, end, 10n, 3n), { startNs: 1_030n, endNs: 1_034n });
  assert.equal(chunkCount(start, end, 10n), 4n);
  // A range of exactly one chunk, and a range of a single nanosecond.
  assert.deepEqual(chunkBounds(0n, 9n, 10n, 0n), { startNs: 0n, endNs: 9n });
  assert.equal(chunkCount(0n, 9n, 10n), 1n);
  assert.equal(chunkCount(0n, 10n, 10n), 2n);
  assert.deepEqual(chunkBounds(0n, 10n, 10n, 1n), { startNs: 10n, endNs: 10n });
  assert.equal(chunkCount(5n, 5n, H), 1n);
  assert.deepEqual(chunkBounds(5n, 5n, H, 0n), { startNs: 5n, endNs: 5n });
});

test('chunkBounds and chunkCount work before 1970 and across the epoch', () => {
  const start = -2n * H - 7n;
  const end = H;
  assert.equal(chunkCount(start, end, H), 4n);
  assert.deepEqual(chunkBounds(start, end, H, 0n), { startNs: -2n * H - 7n, endNs: -H - 8n });
  assert.deepEqual(chunkBounds(start, end, H, 1n), { startNs: -H - 7n, endNs: -8n });
  assert.deepEqual(chunkBounds(start, end, H, 2n), { startNs: -7n, endNs: H - 8n });
  assert.deepEqual(chunkBounds(start, end, H, 3n), { startNs: H - 7n, endNs: H });
});

test('chunkCount of an empty range is 0; a non-positive size is refused', () => {
  assert.equal(chunkCount(10n, 9n, H), 0n);
  assert.throws(() => chunkBounds(0n, 10n, 0n, 0n), RangeError);
  assert.throws(() => chunkBounds(0n, 10n, -5n, 0n), RangeError);
});

test('the chunks of a range tile it exactly: no gap, no overlap, none larger than the size', () => {
  const r = rng(42);
  for (let i = 0; i < 300; i++) {
    const start = big(r, -5_000_000_000_000_000_000n, 5_000_000_000_000_000_000n);
    const size = [1n, 7n, 1_000n, H, 24n * H][i % 5] as bigint;
    const end = start + big(r, 0n, size * 50n);
    const n = chunkCount(start, end, size);
    assert.ok(n >= 1n && n <= 51n, `count ${n}`);
    let expectStart = start;
    for (let p = 0n; p < n; p++) {
      const b = chunkBounds(start, end, size, p);
      assert.equal(b.startNs, expectStart, `chunk ${p} of [${start}, ${end}] by ${size}`);
      assert.ok(b.endNs >= b.startNs);
      assert.ok(b.endNs - b.startNs + 1n <= size);
      expectStart = b.endNs + 1n;
    }
    assert.equal(expectStart, end + 1n, `[${start}, ${end}] by ${size} not covered to its end`);
  }
});

test('groupOffsetNs puts InfluxDB bucket edges on the grid of the start, negative starts too', () => {
  // InfluxDB's bucket of t with GROUP BY time(size, offset): floor((t - offset) / size) * size + offset.
  const bucket = (t: bigint, size: bigint, offset: bigint): bigint => {
    const d = t - offset;
    const q = d >= 0n ? d / size : -((-d + size - 1n) / size);
    return q * size + offset;
  };
  const r = rng(7);
  for (let i = 0; i < 300; i++) {
    const size = [10n, H, 24n * H, 7n * 24n * H][i % 4] as bigint;
    const start = big(r, -4_000_000_000_000_000_000n, 4_000_000_000_000_000_000n);
    const off = groupOffsetNs(start, size);
    assert.ok(off >= 0n && off < size, `offset ${off} for size ${size}`);
    assert.equal(bucket(start, size, off), start, `start ${start} is not a bucket edge`);
    const t = start + big(r, 0n, size * 20n);
    const b = bucket(t, size, off);
    assert.equal((b - start) % size, 0n);
    const { startNs, endNs } = chunkBounds(start, t, size, (b - start) / size);
    assert.ok(startNs <= t && t <= endNs, `${t} is outside the chunk of its bucket`);
  }
  assert.equal(groupOffsetNs(0n, H), 0n);
  assert.equal(groupOffsetNs(-1n, 10n), 9n);
  assert.equal(groupOffsetNs(25n, 10n), 5n);
});

test('incrementalRange: a field resumes from its own checkpoint minus the overlap', () => {
  const start = 1_000n;
  const end = 10_000n;
  assert.deepEqual(incrementalRange(start, end, undefined, 100n), { startNs: start, endNs: end });
  assert.deepEqual(incrementalRange(start, end, 5_000n, 100n), { startNs: 4_900n, endNs: end });
  assert.deepEqual(incrementalRange(start, end, 5_000n, 0n), { startNs: 5_000n, endNs: end });
  // Never before the configured start.
  assert.deepEqual(incrementalRange(start, end, 1_050n, 100n), { startNs: start, endNs: end });
  assert.deepEqual(incrementalRange(start, end, 10n, 100n), { startNs: start, endNs: end });
  // A checkpoint at the end still re-reads the overlap; one past the end has nothing left.
  assert.deepEqual(incrementalRange(start, end, end, 100n), { startNs: 9_900n, endNs: end });
  assert.equal(incrementalRange(start, end, end + 1_000n, 100n), undefined);
  assert.equal(incrementalRange(end + 1n, end, undefined, 0n), undefined);
  // Negative times.
  assert.deepEqual(incrementalRange(-10_000n, -1n, -5_000n, 10n), { startNs: -5_010n, endNs: -1n });
});

test('incrementalRange: two fields, two ranges (Irradiance 10:30, Temperature 15:45)', () => {
  const day = BigInt(Date.parse('2024-03-01T00:00:00Z')) * 1_000_000n;
  const min = 60_000_000_000n;
  const irradiance = day + (10n * 60n + 30n) * min;
  const temperature = day + (15n * 60n + 45n) * min;
  const end = day + 24n * 60n * min;
  const overlap = 5n * min;
  assert.equal(incrementalRange(day, end, irradiance, overlap)?.startNs, irradiance - overlap);
  assert.equal(incrementalRange(day, end, temperature, overlap)?.startNs, temperature - overlap);
});

test('advanceWatermark: chunks finishing out of order move the checkpoint only over the unbroken run', () => {
  const done = new Map<number, bigint | null>();
  let state = advanceWatermark(0, done, undefined);
  assert.deepEqual(state, { frontier: 0, checkpoint: undefined });

  done.set(2, 300n);
  state = advanceWatermark(state.frontier, done, state.checkpoint);
  assert.deepEqual(state, { frontier: 0, checkpoint: undefined }, 'chunk 2 alone must not move it');

  done.set(1, 200n);
  state = advanceWatermark(state.frontier, done, state.checkpoint);
  assert.deepEqual(state, { frontier: 0, checkpoint: undefined });

  done.set(0, 100n);
  state = advanceWatermark(state.frontier, done, state.checkpoint);
  assert.deepEqual(state, { frontier: 3, checkpoint: 300n });

  done.set(4, 500n);
  state = advanceWatermark(state.frontier, done, state.checkpoint);
  assert.deepEqual(state, { frontier: 3, checkpoint: 300n }, 'a gap at chunk 3 holds it');
});

test('advanceWatermark: empty chunks pass the frontier without moving the checkpoint', () => {
  const done = new Map<number, bigint | null>([
    [0, null],
    [1, 150n],
    [2, null],
    [3, null],
  ]);
  assert.deepEqual(advanceWatermark(0, done, undefined), { frontier: 4, checkpoint: 150n });
  assert.deepEqual(advanceWatermark(0, new Map([[0, null]]), undefined), { frontier: 1, checkpoint: undefined });
});

test('advanceWatermark never moves backwards', () => {
  // A re-plan whose chunks end before the stored checkpoint (overlap, backfill).
  const done = new Map<number, bigint | null>([
    [0, 10n],
    [1, 20n],
  ]);
  assert.deepEqual(advanceWatermark(0, done, 1_000n), { frontier: 2, checkpoint: 1_000n });
  // A later chunk with an older newest value (series interleaving) keeps the max.
  const odd = new Map<number, bigint | null>([
    [0, 500n],
    [1, 400n],
  ]);
  assert.deepEqual(advanceWatermark(0, odd, undefined), { frontier: 2, checkpoint: 500n });
  // Negative times compare as numbers.
  const neg = new Map<number, bigint | null>([
    [0, -5_000n],
    [1, -10n],
  ]);
  assert.deepEqual(advanceWatermark(0, neg, -9_000n), { frontier: 2, checkpoint: -10n });
  assert.deepEqual(advanceWatermark(0, new Map([[0, -9_000n]]), -10n), { frontier: 1, checkpoint: -10n });
});

test('advanceWatermark agrees with the rule in every completion order', () => {
  const r = rng(99);
  for (let round = 0; round < 200; round++) {
    const n = 1 + Math.floor(r() * 8);
    const lasts: (bigint | null)[] = Array.from({ length: n }, (_, i) =>
      r() < 0.25 ? null : BigInt(i * 100 + Math.floor(r() * 100)) - 400n,
    );
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const failed = r() < 0.3 ? order.pop() : undefined;
    const done = new Map<number, bigint | null>();
    let state: { frontier: number; checkpoint: bigint | undefined } = { frontier: 0, checkpoint: undefined };
    for (const i of order) {
      done.set(i, lasts[i] ?? null);
      const before = state.checkpoint;
      state = advanceWatermark(state.frontier, done, state.checkpoint);
      let run = 0;
      while (done.has(run)) run++;
      let want: bigint | undefined;
      for (let k = 0; k < run; k++) {
        const v = lasts[k];
        if (v !== null && v !== undefined && (want === undefined || v > want)) want = v;
      }
      assert.equal(state.frontier, run);
      assert.equal(state.checkpoint, want);
      if (before !== undefined) assert.ok(state.checkpoint !== undefined && state.checkpoint >= before, 'moved backwards');
    }
    if (failed !== undefined) {
      // A chunk that never finished holds the frontier, whatever finished after it.
      assert.equal(state.frontier, failed);
    }
  }
});
