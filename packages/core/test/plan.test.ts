// discoverFields and planFieldChunks against a real influxd: only chunks that
// hold values are planned, on the grid of the range's start, with exact counts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, type InfluxServer } from '@influx-backup/testkit';
import { InfluxClient } from '@influx-backup/influx';
import {
  chunkBounds,
  discoverFields,
  planFieldChunks,
  planMeasurementChunks,
  ChunkMerger,
  FieldTypeConflictError,
  type Chunk,
  type FieldRange,
  type SourceReader,
} from '../src/index.js';

const H = 3_600_000_000_000n;
const DAY = 24n * H;

let server: InfluxServer;
let client: InfluxClient;

before(async () => {
  server = await startInflux();
  client = new InfluxClient({ host: server.host, port: server.port, retries: 0 });
});

after(async () => {
  client?.close();
  await server?.destroy();
});

/** The chunks a correct planner returns for these point times, worked out by hand. */
function expectedChunks(times: bigint[], startNs: bigint, endNs: bigint, sizeNs: bigint): Chunk[] {
  const counts = new Map<bigint, number>();
  for (const t of times) {
    if (t < startNs || t > endNs) continue;
    const p = (t - startNs) / sizeNs;
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return [...counts.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((p, index) => ({ index, ...chunkBounds(startNs, endNs, sizeNs, p), expected: counts.get(p) ?? 0 }));
}

test('discoverFields: configured fields, every field, and fields the source lacks', async () => {
  const db = 'discover';
  await server.query(`CREATE DATABASE ${db}`);
  await server.write(db, 'm a=1,b="x",c=true,d=4i 1\nm e=1.5 2');
  const all = await discoverFields(client, db, 'm', undefined);
  assert.deepEqual(
    all.targets.sort((x, y) => x.field.localeCompare(y.field)),
    [
      { measurement: 'm', field: 'a', type: 'float' },
      { measurement: 'm', field: 'b', type: 'string' },
      { measurement: 'm', field: 'c', type: 'boolean' },
      { measurement: 'm', field: 'd', type: 'integer' },
      { measurement: 'm', field: 'e', type: 'float' },
    ],
  );
  assert.deepEqual(all.missing, []);
  const some = await discoverFields(client, db, 'm', ['d', 'nope', 'b']);
  assert.deepEqual(some.targets, [
    { measurement: 'm', field: 'd', type: 'integer' },
    { measurement: 'm', field: 'b', type: 'string' },
  ]);
  assert.deepEqual(some.missing, ['nope']);
  const none = await discoverFields(client, db, 'no_such_measurement', undefined);
  assert.deepEqual(none, { targets: [], missing: [] });
});

test('discoverFields refuses a field stored with two types in two shards', async () => {
  const db = 'twotypes';
  await server.query(`CREATE DATABASE ${db}`);
  const t0 = 1_700_000_000_000_000_000n;
  await server.write(db, `m v=1.5 ${t0}`);
  await server.write(db, `m v=2i ${t0 + 30n * DAY}`);
  await assert.rejects(discoverFields(client, db, 'm', ['v']), (err: unknown) => {
    assert.ok(err instanceof FieldTypeConflictError);
    assert.equal(err.retriable, false);
    assert.ok(err.message.includes(`${db}.m.v`), err.message);
    assert.ok(err.message.includes(client.endpoint), err.message);
    return true;
  });
});

test('planFieldChunks plans only chunks with values, ends inclusive, counts exact', async () => {
  const db = 'grid';
  await server.query(`CREATE DATABASE ${db}`);
  const S = 1_700_000_000_000_000_123n; // not on any round grid
  const E = S + 10n * H + 17n;
  const times = [S - 1n, S, S + 1n, S + H - 1n, S + H, S + 3n * H + 5n, S + 3n * H + 6n, S + 9n * H, E, E + 1n, S + 20n * H];
  await server.write(db, times.map((t, i) => `g,k=${i % 3} v=${i}i ${t}`).join('\n'));
  const chunks = await planFieldChunks(client, db, { measurement: 'g', field: 'v', type: 'integer' }, S, E, H);
  assert.deepEqual(chunks, expectedChunks(times, S, E, H));
  assert.deepEqual(
    chunks.map((c) => c.expected),
    [3, 1, 2, 1, 1],
  );
  assert.equal(chunks.at(-1)?.endNs, E);
  // A field with no values in the range plans nothing.
  assert.deepEqual(await planFieldChunks(client, db, { measurement: 'g', field: 'v', type: 'integer' }, E + 2n, E + H, H), []);
  assert.deepEqual(await planFieldChunks(client, db, { measurement: 'g', field: 'v', type: 'integer' }, E, S, H), []);
});

test('planFieldChunks counts one field only: another field of the measurement does not make chunks', async () => {
  const db = 'onefield';
  await server.query(`CREATE DATABASE ${db}`);
  const S = 1_600_000_000_000_000_000n;
  await server.write(db, [`o a=1,b=1 ${S + 1n}`, `o a=2 ${S + 2n * H}`, `o b=3 ${S + 5n * H}`, `o a=4,b=4 ${S + 7n * H}`].join('\n'));
  const a = await planFieldChunks(client, db, { measurement: 'o', field: 'a', type: 'float' }, S, S + DAY, H);
  const b = await planFieldChunks(client, db, { measurement: 'o', field: 'b', type: 'float' }, S, S + DAY, H);
  assert.deepEqual(
    a.map((c) => (c.startNs - S) / H),
    [0n, 2n, 7n],
  );
  assert.deepEqual(
    b.map((c) => (c.startNs - S) / H),
    [0n, 5n, 7n],
  );
});

test('planFieldChunks works before 1970 and across the epoch with an unaligned start', async () => {
  const db = 'old';
  await server.query(`CREATE DATABASE ${db}`);
  const S = -3n * H - 1_234_567n;
  const E = 2n * H + 99n;
  const times = [S, S + 1n, S + H - 1n, -H - 1_234_568n, -1n, 0n, 1n, H - 1_234_568n, H, E, -2_000_000_000_000_000_000n, E + 1n];
  await server.write(db, times.map((t, i) => `old v=${i}.5 ${t}`).join('\n'));
  const chunks = await planFieldChunks(client, db, { measurement: 'old', field: 'v', type: 'float' }, S, E, H);
  assert.deepEqual(chunks, expectedChunks(times, S, E, H));
  assert.equal(
    chunks.reduce((n, c) => n + c.expected, 0),
    10,
  );
});

test('planFieldChunks with a hostile measurement and field name', async () => {
  const db = 'hostileplan';
  await server.query(`CREATE DATABASE ${db}`);
  const S = 1_650_000_000_000_000_000n;
  await server.write(
    db,
    [`x";\\ DROP\\ DATABASE\\ "hostileplan f\\ "q\\=1=1i ${S}`, `x";\\ DROP\\ DATABASE\\ "hostileplan f\\ "q\\=1=2i ${S + 2n * H}`].join(
      '\n',
    ),
  );
  const chunks = await planFieldChunks(
    client,
    db,
    { measurement: 'x"; DROP DATABASE "hostileplan', field: 'f "q=1', type: 'integer' },
    S,
    S + DAY,
    H,
  );
  assert.equal(chunks.length, 2);
  assert.ok((await client.databases()).includes(db));
});

/** Every chunk planMeasurementChunks yields, per field position, in order. */
async function merged(
  source: SourceReader,
  db: string,
  m: string,
  fields: FieldRange[],
  sizeNs: bigint,
  maxValues: number,
  bucketsPerQuery?: number,
): Promise<Chunk[][]> {
  const out: Chunk[][] = fields.map(() => []);
  for await (const piece of planMeasurementChunks(source, db, m, fields, {
    sizeNs,
    maxValues,
    ...(bucketsPerQuery ? { bucketsPerQuery } : {}),
    piece: 2,
  })) {
    for (const { field, chunk } of piece.chunks) out[field]!.push(chunk);
  }
  return out;
}

/** Each value time lies in exactly one chunk; chunks are in order, disjoint, inside the range; counts add up. */
function assertCovers(chunks: Chunk[], times: bigint[], startNs: bigint, endNs: bigint, overcount = 0): void {
  chunks.forEach((c, i) => {
    assert.equal(c.index, i);
    assert.ok(c.startNs <= c.endNs, `chunk ${i} is empty`);
    assert.ok(c.startNs >= startNs && c.endNs <= endNs, `chunk ${i} [${c.startNs}, ${c.endNs}] leaves [${startNs}, ${endNs}]`);
    if (i > 0) assert.ok(c.startNs > chunks[i - 1]!.endNs, `chunks ${i - 1} and ${i} overlap`);
  });
  const inRange = times.filter((t) => t >= startNs && t <= endNs);
  for (const t of inRange) {
    assert.equal(chunks.filter((c) => c.startNs <= t && t <= c.endNs).length, 1, `value at ${t} is in exactly one chunk`);
  }
  assert.equal(
    chunks.reduce((n, c) => n + c.expected, 0),
    inRange.length + overcount,
  );
}

test('ChunkMerger: merges up to maxValues, keeps a bucket over it alone, 1 never merges', () => {
  const run = (max: number, buckets: [number, number][]): [number, number, number][] => {
    const m = new ChunkMerger(max);
    const out: Chunk[] = [];
    for (const [p, n] of buckets) {
      const c = m.push(BigInt(p * 10), BigInt(p * 10 + 9), n);
      if (c) out.push(c);
    }
    const last = m.flush();
    if (last) out.push(last);
    return out.map((c) => [Number(c.startNs), Number(c.endNs), c.expected]);
  };
  const buckets: [number, number][] = [
    [0, 2],
    [1, 1],
    [3, 2],
    [4, 9],
    [5, 1],
    [6, 1],
    [9, 3],
  ];
  assert.deepEqual(run(3, buckets), [
    [0, 19, 3],
    [30, 39, 2],
    [40, 49, 9],
    [50, 69, 2],
    [90, 99, 3],
  ]);
  assert.deepEqual(run(1, buckets).length, buckets.length);
  assert.deepEqual(run(1_000, buckets), [[0, 99, 19]]);
  assert.throws(() => new ChunkMerger(0), RangeError);
  assert.throws(() => new ChunkMerger(1.5), RangeError);
});

test('merged chunks cover exactly the data: inclusive ends, a value on a bucket edge, pieces of any size', async () => {
  const db = 'merge';
  await server.query(`CREATE DATABASE ${db}`);
  const S = BigInt(Date.parse('2024-02-01T00:00:00Z')) * 1_000_000n + 123n;
  const E = S + 12n * H - 1n;
  const times = [
    S - 1n, // before the range
    S, // first ns of bucket 0
    S + H - 1n, // last ns of bucket 0
    S + H, // first ns of bucket 1: on the edge
    S + 3n * H + 5n,
    S + 3n * H + 6n,
    ...Array.from({ length: 5 }, (_, i) => S + 7n * H + BigInt(i) * 1_000n), // bucket 7 over max
    S + 8n * H,
    E, // last ns of the range
    E + 1n, // after it
  ];
  await server.write(db, times.map((t, i) => `g,s=${i % 2} v=${i}i ${t}`).join('\n'));
  const f: FieldRange = { target: { measurement: 'g', field: 'v', type: 'integer' }, startNs: S, endNs: E };
  const [three] = await merged(client, db, 'g', [f], H, 3);
  assertCovers(three!, times, S, E);
  assert.deepEqual(
    three!.map((c) => [c.startNs - S, c.endNs - S, c.expected]),
    [
      [0n, 2n * H - 1n, 3], // buckets 0 and 1 (edge value included), 3 values
      [3n * H, 4n * H - 1n, 2],
      [7n * H, 8n * H - 1n, 5], // over max: alone
      [8n * H, 12n * H - 1n, 2], // bucket 8 and the last bucket, across empty ones
    ],
  );
  // 1 turns merging off: the grid chunks, as planFieldChunks plans them.
  const [one] = await merged(client, db, 'g', [f], H, 1);
  assert.deepEqual(one, await planFieldChunks(client, db, f.target, S, E, H));
  assertCovers(one, times, S, E);
  // Pieces of one or two buckets per query plan the same chunks.
  assert.deepEqual((await merged(client, db, 'g', [f], H, 3, 1))[0], three);
  assert.deepEqual((await merged(client, db, 'g', [f], H, 3, 2))[0], three);
  assert.deepEqual(
    (await merged(client, db, 'g', [f], H, 1_000_000))[0]?.map((c) => [c.startNs, c.endNs, c.expected]),
    [[S, E, 12]],
  );
});

test('one COUNT for several fields: each field its own range and counts; the later start clips its first chunk', async () => {
  const db = 'multi';
  await server.query(`CREATE DATABASE ${db}`);
  const S = BigInt(Date.parse('2024-02-01T00:00:00Z')) * 1_000_000n;
  const lines: string[] = [];
  for (let i = 0n; i < 48n; i++) lines.push(`w a=${i}i${i % 2n === 0n ? `,b=${i}.5` : ''} ${S + i * 30n * 60_000_000_000n}`);
  await server.write(db, lines.join('\n'));
  const E = S + DAY - 1n;
  const bStart = S + 5n * H + 1n; // mid-bucket
  const fields: FieldRange[] = [
    { target: { measurement: 'w', field: 'a', type: 'integer' }, startNs: S, endNs: E },
    { target: { measurement: 'w', field: 'b', type: 'float' }, startNs: bStart, endNs: E },
  ];
  const queries: string[] = [];
  const counting: SourceReader = {
    ...client,
    endpoint: client.endpoint,
    fieldKeys: (d, m) => client.fieldKeys(d, m),
    select: (q, d, n) => client.select(q, d, n),
    query: (q, d) => (queries.push(q), client.query(q, d)),
  };
  const [a, b] = await merged(counting, db, 'w', fields, H, 1);
  assert.equal(queries.length, 1, 'one query for both fields');
  assert.equal(a!.length, 24);
  assertCovers(
    a!,
    lines.map((_, i) => S + BigInt(i) * 30n * 60_000_000_000n),
    S,
    E,
  );
  const bTimes = Array.from({ length: 24 }, (_, i) => S + BigInt(i) * H);
  assert.equal(b![0]!.startNs, bStart, 'b starts at its own start, not at the bucket');
  assert.deepEqual(
    b!.map((c) => c.startNs > bStart),
    [false, ...Array<boolean>(b!.length - 1).fill(true)],
  );
  // The clipped bucket's count still holds b's value at 05:00, before its start: an estimate, by design.
  assertCovers(b!, bTimes, bStart, E, 1);
});

test('a server limit on buckets per query is met by asking smaller pieces', async () => {
  const db = 'limited';
  await server.query(`CREATE DATABASE ${db}`);
  const S = BigInt(Date.parse('2024-02-01T00:00:00Z')) * 1_000_000n;
  const times = Array.from({ length: 30 }, (_, i) => S + BigInt(i) * H + 7n);
  await server.write(db, times.map((t, i) => `l v=${i}i ${t}`).join('\n'));
  const limit = 4n;
  let refused = 0;
  // The real server answers; like InfluxDB with coordinator max-select-buckets = 4, it refuses more.
  const limited: SourceReader = {
    endpoint: client.endpoint,
    fieldKeys: (d, m) => client.fieldKeys(d, m),
    select: (q, d, n) => client.select(q, d, n),
    query: async (q, d) => {
      const [, lo, hi] = /time >= (-?\d+) AND time <= (-?\d+)/.exec(q) ?? [];
      if ((BigInt(hi!) - BigInt(lo!)) / H + 1n > limit) {
        refused++;
        throw new Error(`${client.endpoint}: max-select-buckets limit exceeded: (${(BigInt(hi!) - BigInt(lo!)) / H + 1n}/${limit})`);
      }
      return client.query(q, d);
    },
  };
  const f: FieldRange = { target: { measurement: 'l', field: 'v', type: 'integer' }, startNs: S, endNs: S + 30n * H - 1n };
  const [chunks] = await merged(limited, db, 'l', [f], H, 10, 64);
  assert.ok(refused > 0);
  assert.deepEqual(
    chunks!.map((c) => c.expected),
    [10, 10, 10],
  );
  assertCovers(chunks!, times, f.startNs, f.endNs);
});
