// The repair's comparison against real influxd servers: both servers' counts on the
// size grid, merged bucket by bucket; a chunk judged by its counts, read value by
// value only where counts cannot tell; a field's newest value in a range.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, type InfluxServer } from '@influx-backup/testkit';
import { InfluxClient } from '@influx-backup/influx';
import {
  compareCounts,
  judgeChunk,
  lastValueTime,
  type FieldTarget,
  type GridBucket,
  type ServerPair,
  type SourceReader,
} from '../src/index.js';

const H = 3_600_000_000_000n;
const S = BigInt(Date.parse('2024-05-01T00:00:00Z')) * 1_000_000n;

let srcServer: InfluxServer;
let bakServer: InfluxServer;
let source: InfluxClient;
let backup: InfluxClient;

before(async () => {
  [srcServer, bakServer] = await Promise.all([startInflux(), startInflux()]);
  source = new InfluxClient({ host: srcServer.host, port: srcServer.port, retries: 0 });
  backup = new InfluxClient({ host: bakServer.host, port: bakServer.port, retries: 0 });
});

after(async () => {
  source?.close();
  backup?.close();
  await Promise.all([srcServer?.destroy(), bakServer?.destroy()]);
});

/** A reader that records the queries (COUNTs, LAST) and the selects (values read) it is asked. */
function counting(reader: SourceReader, queries: string[], selects: string[] = []): SourceReader {
  return {
    endpoint: reader.endpoint,
    fieldKeys: (d, m, rp) => reader.fieldKeys(d, m, rp),
    select: (q, d, n) => {
      selects.push(q);
      return reader.select(q, d, n);
    },
    query: (q, d) => {
      queries.push(q);
      return reader.query(q, d);
    },
  };
}

async function all(it: AsyncGenerator<GridBucket>): Promise<GridBucket[]> {
  const out: GridBucket[] = [];
  for await (const b of it) out.push(b);
  return out;
}

async function databases(name: string, sourceLines: string[], backupLines: string[]): Promise<ServerPair> {
  await srcServer.query(`CREATE DATABASE "${name}"`);
  await bakServer.query(`CREATE DATABASE "${name}_b"`);
  if (sourceLines.length) await srcServer.write(name, sourceLines.join('\n'));
  if (backupLines.length) await bakServer.write(`${name}_b`, backupLines.join('\n'));
  return { source, backup, sourceDb: name, backupDb: `${name}_b` };
}

test('compareCounts: both servers counted per field on the grid, one query per server for every field, merged by bucket', async () => {
  // a in hours 0, 1, 3 of the source; the backup lacks hour 1's second value and holds hour 5 alone; b only in hour 3.
  const src = [`m,s=x a=1,b=1i ${S + 5n}`, `m,s=x a=2 ${S + H + 5n}`, `m,s=y a=3 ${S + H + 6n}`, `m,s=x a=4,b=2i ${S + 3n * H}`];
  const bak = [`m,s=x a=1,b=1i ${S + 5n}`, `m,s=x a=2 ${S + H + 5n}`, `m,s=x a=4,b=2i ${S + 3n * H}`, `m,s=z a=9 ${S + 5n * H}`];
  const pair = await databases('grid', src, bak);
  const queries: string[] = [];
  const counted = { ...pair, source: counting(source, queries), backup: counting(backup, queries) };
  const buckets = await all(
    compareCounts(counted, 'm', ['a', 'b'], undefined, { originNs: S, startNs: S, endNs: S + 6n * H - 1n, sizeNs: H }),
  );
  assert.equal(queries.length, 2, 'one COUNT query per server for both fields');
  assert.deepEqual(
    buckets.map((b) => [(b.startNs - S) / H, b.endNs - b.startNs, b.source, b.backup]),
    [
      [0n, H - 1n, [1, 1], [1, 1]],
      [1n, H - 1n, [2, 0], [1, 0]],
      [3n, H - 1n, [1, 1], [1, 1]],
      [5n, H - 1n, [0, 0], [1, 0]],
    ],
  );
});

test('compareCounts: a range that starts mid-bucket stays on the origin grid, clipped, whatever the pieces', async () => {
  const times = Array.from({ length: 10 }, (_, i) => S + BigInt(i) * H + 30n * 60_000_000_000n);
  const pair = await databases(
    'window',
    times.map((t, i) => `w v=${i} ${t}`),
    times.slice(0, 9).map((t, i) => `w v=${i} ${t}`),
  );
  // From 02:45 to 08:45: buckets 2..8 of the grid starting at S, the first and last clipped.
  const range = { originNs: S, startNs: S + 2n * H + 45n * 60_000_000_000n, endNs: S + 8n * H + 45n * 60_000_000_000n, sizeNs: H };
  const whole = await all(compareCounts(pair, 'w', ['v'], undefined, range));
  assert.deepEqual(
    whole.map((b) => [b.startNs, b.endNs]),
    [
      // 02:45 to 03:00 holds no value (02:30 is before the range): the first bucket is hour 3.
      [S + 3n * H, S + 4n * H - 1n],
      [S + 4n * H, S + 5n * H - 1n],
      [S + 5n * H, S + 6n * H - 1n],
      [S + 6n * H, S + 7n * H - 1n],
      [S + 7n * H, S + 8n * H - 1n],
      [S + 8n * H, range.endNs],
    ],
  );
  assert.ok(whole.every((b) => b.source[0] === 1 && b.backup[0] === 1));
  for (const bucketsPerQuery of [1, 2, 3]) {
    const pieces = await all(compareCounts(pair, 'w', ['v'], undefined, { ...range, bucketsPerQuery }));
    assert.deepEqual(pieces, whole, `${bucketsPerQuery} buckets per query count each bucket once, whole`);
  }
  const tail = await all(compareCounts(pair, 'w', ['v'], undefined, { ...range, endNs: S + 10n * H }));
  assert.deepEqual(tail.at(-1)?.source, [1]);
  assert.deepEqual(tail.at(-1)?.backup, [0], 'the backup lacks hour 9');
});

test('judgeChunk: counts decide where they can; values are read where the backup holds more, or with deep', async () => {
  const t: FieldTarget = { measurement: 'j', field: 'v', type: 'float' };
  const pair = await databases(
    'judge',
    [`j,s=a v=1 ${S}`, `j,s=a v=2 ${S + 1n}`, `j,s=b v=3 ${S + H}`, `j,s=a v=4 ${S + 2n * H}`, `j,s=a v=5 ${S + 3n * H}`],
    // hour 0: one missing; hour 1: the value plus one the source lost; hour 2: missing, and two of its own; hour 3: rewritten.
    [
      `j,s=a v=1 ${S}`,
      `j,s=b v=3 ${S + H}`,
      `j,s=c v=8 ${S + H + 9n}`,
      `j,s=c v=8 ${S + 2n * H + 1n}`,
      `j,s=c v=8 ${S + 2n * H + 2n}`,
      `j,s=a v=6 ${S + 3n * H}`,
    ],
  );
  const reads: string[] = [];
  const watched = { ...pair, source: counting(source, [], reads) };
  const chunk = (h: bigint, s: number, b: number): { startNs: bigint; endNs: bigint; source: number; backup: number } => ({
    startNs: S + h * H,
    endNs: S + (h + 1n) * H - 1n,
    source: s,
    backup: b,
  });
  const shallow = { deep: false, pieceRows: 100 };
  assert.deepEqual(await judgeChunk(watched, t, chunk(0n, 2, 1), shallow), {
    missing: 1,
    extra: 0,
    changed: 0,
    repair: true,
    exact: false,
  });
  assert.deepEqual(reads, [], 'more values in the source: a repair, known from the counts alone');
  assert.deepEqual(await judgeChunk(watched, t, chunk(1n, 1, 2), shallow), {
    missing: 0,
    extra: 1,
    changed: 0,
    repair: false,
    exact: true,
  });
  assert.equal(reads.length, 1, 'fewer in the source: read to tell extra values from missing ones');
  assert.deepEqual(await judgeChunk(watched, t, chunk(2n, 1, 2), shallow), { missing: 1, extra: 2, changed: 0, repair: true, exact: true });
  assert.deepEqual(await judgeChunk(watched, t, chunk(3n, 1, 1), shallow), {
    missing: 0,
    extra: 0,
    changed: 0,
    repair: false,
    exact: false,
  });
  const seen: string[] = [];
  const deep = await judgeChunk(watched, t, chunk(3n, 1, 1), {
    deep: true,
    pieceRows: 100,
    onDifference: (d) => seen.push(`${d.kind} ${d.source} ${d.backup}`),
  });
  assert.deepEqual(deep, { missing: 0, extra: 0, changed: 1, repair: true, exact: true });
  assert.deepEqual(seen, ['changed 5 6'], 'deep sees the value rewritten at the same time');
});

test('lastValueTime: the newest value of the field in the range, over every series; null when none', async () => {
  const t: FieldTarget = { measurement: 'l', field: 'v', type: 'integer' };
  const pair = await databases(
    'last',
    [`l,s=a v=1i ${S + 10n}`, `l,s=b v=2i ${S + 30n}`, `l,s=a v=3i,other=1 ${S + 20n}`, `l other=5 ${S + 40n}`],
    [],
  );
  assert.equal(await lastValueTime(pair.source, pair.sourceDb, t, S, S + H), S + 30n);
  assert.equal(await lastValueTime(pair.source, pair.sourceDb, t, S, S + 25n), S + 20n);
  assert.equal(await lastValueTime(pair.source, pair.sourceDb, t, S + 31n, S + H), null);
});
