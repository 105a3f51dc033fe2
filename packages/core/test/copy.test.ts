// copyChunk between two real influxd servers. Every check compares the backup
// with the source value by value (series, tags, nanosecond time, value, type),
// never by counts alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_TIME as ALL, assertSameField, snapshot, startInflux, type FieldSide, type InfluxServer } from '@influx-backup/testkit';
import { InfluxClient, InfluxError, LineProtocolError, type FieldType, type SeriesPiece } from '@influx-backup/influx';
import { chunkBounds, copyChunk, type BackupWriter, type CopyChunkResult, type SourceReader } from '../src/index.js';

const H = 3_600_000_000_000n;
const DAY = 24n * H;

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

// The test's own escaping, written from the line protocol and InfluxQL
// references, so the product's escaping is checked against an independent one.
const lp = {
  measurement: (s: string): string => s.replace(/[, ]/g, (c) => `\\${c}`),
  key: (s: string): string => s.replace(/[,= ]/g, (c) => `\\${c}`),
  string: (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`,
};
const ident = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

type Value = number | string | boolean;
type Point = { tags: Record<string, string>; fields: Record<string, Value | { int: string }>; time: bigint };

function line(measurement: string, p: Point): string {
  const tags = Object.entries(p.tags)
    .map(([k, v]) => `,${lp.key(k)}=${lp.key(v)}`)
    .join('');
  const fields = Object.entries(p.fields)
    .map(([k, v]) => {
      let text: string;
      if (typeof v === 'object') text = `${v.int}i`;
      else if (typeof v === 'string') text = lp.string(v);
      else if (typeof v === 'number') text = Object.is(v, -0) ? '-0' : String(v);
      else text = String(v);
      return `${lp.key(k)}=${text}`;
    })
    .join(',');
  return `${lp.measurement(measurement)}${tags} ${fields} ${p.time}`;
}

async function writeSource(db: string, measurement: string, points: Point[]): Promise<void> {
  await srcServer.write(db, points.map((p) => line(measurement, p)).join('\n'));
}

async function createDbs(...dbs: [string, InfluxServer][]): Promise<void> {
  for (const [db, server] of dbs) await server.query(`CREATE DATABASE ${ident(db)}`);
}

const src = (db: string): FieldSide => ({ client: source, db });
const bak = (db: string): FieldSide => ({ client: backup, db });

async function fieldType(db: string, measurement: string, field: string): Promise<FieldType> {
  const key = (await source.fieldKeys(db, measurement)).find((k) => k.field === field);
  assert.ok(key, `${measurement}.${field} is not in ${db}`);
  return key.type;
}

async function copy(
  srcDb: string,
  bakDb: string,
  measurement: string,
  field: string,
  [startNs, endNs]: [bigint, bigint],
  extra: {
    batchSize?: number;
    pieceRows?: number;
    source?: SourceReader;
    backup?: BackupWriter;
    onProgress?: (n: number, more: boolean) => void;
  } = {},
): Promise<CopyChunkResult> {
  return copyChunk({
    source: extra.source ?? source,
    backup: extra.backup ?? backup,
    sourceDb: srcDb,
    backupDb: bakDb,
    measurement,
    fields: [{ field, type: await fieldType(srcDb, measurement, field) }],
    startNs,
    endNs,
    batchSize: extra.batchSize ?? 5_000,
    batchIntervalMs: 0,
    pieceRows: extra.pieceRows ?? 1_000,
    ...(extra.onProgress ? { onProgress: extra.onProgress } : {}),
  });
}

test('hostile names, int64 extremes, exact floats, strings and times before 1970 round-trip exactly', async () => {
  const srcDb = 'hostile';
  const bakDb = 'hostile_backup';
  await createDbs([srcDb, srcServer], [bakDb, bakServer]);
  const M = 'we ird,m=eas "q" back\\slash; ü 温度 🚀';
  const F = {
    float: 'fl oat,=f"q',
    int: 'int;eger',
    str: 'str ing\\x',
    bool: 'bo"ol=',
    sparse: 'sp ärse',
  };
  const floats = [0.1, -0, 1e21, 5e-324, -1.7976931348623157e308, 2, Math.PI];
  const ints = ['9223372036854775807', '-9223372036854775807', '9007199254740993', '-9007199254740993', '0', '42', '-1'];
  const strings = ['say "hi"', 'C:\\dir\\', 'line1\nline2\n', '', 'ü 温度 🚀', 'a, b = c; d', '\\"', "it's"];
  const times = [
    -2_000_000_000_000_000_001n,
    -86_400_000_000_000_001n,
    -1n,
    0n,
    1n,
    1_700_000_000_123_456_789n,
    1_700_000_000_123_456_790n,
  ];
  const tagSets: Record<string, string>[] = [
    { 'tag key,=x': 'va lue,=x "q"', ключ: 'значение 🚀', 'se;mi': 'a;b#c' },
    { 'tag key,=x': 'other\\value' },
    {},
  ];
  const points: Point[] = [];
  let n = 0;
  for (const tags of tagSets) {
    for (const time of times) {
      const fields: Point['fields'] = {
        [F.float]: floats[n % floats.length] as number,
        [F.int]: { int: ints[n % ints.length] as string },
        [F.str]: strings[n % strings.length] as string,
        [F.bool]: n % 2 === 0,
      };
      if (n % 3 === 0) fields[F.sparse] = n + 0.5;
      points.push({ tags, fields, time });
      n++;
    }
  }
  const range: [bigint, bigint] = [-2_500_000_000_000_000_000n, 2_000_000_000_000_000_000n];
  // Values just outside the range, which must stay out of the backup.
  for (const time of [range[0] - 1n, range[1] + 1n, -2_600_000_000_000_000_000n, 3_000_000_000_000_000_000n]) {
    points.push({
      tags: tagSets[0] as Record<string, string>,
      fields: { [F.float]: 9.5, [F.int]: { int: '7' }, [F.str]: 'out', [F.bool]: true, [F.sparse]: 1.5 },
      time,
    });
  }
  await writeSource(srcDb, M, points);

  for (const field of Object.values(F)) {
    const result = await copy(srcDb, bakDb, M, field, range);
    const want = await assertSameField(src(srcDb), bak(bakDb), M, field, range);
    assert.equal(result.values, want.rows.length);
    assert.equal(result.lastTimeNs, 1_700_000_000_123_456_790n);
  }
  assert.deepEqual(await backup.measurements(bakDb), [M]);
  const bakKeys = (await backup.fieldKeys(bakDb, M)).sort((a, b) => (a.field < b.field ? -1 : 1));
  const srcKeys = (await source.fieldKeys(srcDb, M)).sort((a, b) => (a.field < b.field ? -1 : 1));
  assert.deepEqual(bakKeys, srcKeys);
});

test('a measurement, field and tag named like InfluxQL statements are copied as data', async () => {
  const srcDb = 'src';
  const bakDb = 'src_backup';
  await createDbs([srcDb, srcServer], [bakDb, bakServer]);
  const M = 'x"; DROP DATABASE "src';
  const M2 = "m' OR '1'='1\"; DROP MEASUREMENT \"x";
  const field = 'f"; DROP DATABASE "src_backup';
  const tags = { 't"; DROP SERIES FROM "x': 'v\'; DELETE FROM "x' };
  await writeSource(srcDb, M, [
    { tags, fields: { [field]: 1.25 }, time: 10n },
    { tags: {}, fields: { [field]: -3.5 }, time: 20n },
  ]);
  await writeSource(srcDb, M2, [{ tags, fields: { v: { int: '-9223372036854775807' } }, time: 30n }]);
  await copy(srcDb, bakDb, M, field, [0n, 100n]);
  await copy(srcDb, bakDb, M2, 'v', [0n, 100n]);
  assert.ok((await source.databases()).includes(srcDb));
  assert.ok((await backup.databases()).includes(bakDb));
  await assertSameField(src(srcDb), bak(bakDb), M, field, [0n, 100n]);
  await assertSameField(src(srcDb), bak(bakDb), M2, 'v', [0n, 100n]);
  assert.deepEqual((await backup.measurements(bakDb)).sort(), [M, M2].sort());
});

test('a tag and a field with the same name keep both', async () => {
  const srcDb = 'samename';
  const bakDb = 'samename_backup';
  await createDbs([srcDb, srcServer], [bakDb, bakServer]);
  await writeSource(srcDb, 'dup', [
    { tags: { x: 'tag value' }, fields: { x: 1.5, y: { int: '1' } }, time: 1_000n },
    { tags: { x: 'other' }, fields: { x: -2.25, y: { int: '2' } }, time: 2_000n },
    { tags: {}, fields: { x: 7, y: { int: '3' } }, time: 3_000n },
  ]);
  const r = await copy(srcDb, bakDb, 'dup', 'x', [0n, 10_000n]);
  assert.equal(r.values, 3);
  await assertSameField(src(srcDb), bak(bakDb), 'dup', 'x', [0n, 10_000n]);
  const tagKeys = (await bakServer.query('SHOW TAG KEYS FROM "dup"', bakDb)) as { results: { series?: { values: string[][] }[] }[] };
  assert.deepEqual(tagKeys.results[0]?.series?.[0]?.values, [['x']]);
  assert.deepEqual(await backup.fieldKeys(bakDb, 'dup'), [{ field: 'x', type: 'float' }]);
});

test('sparse fields copy only where they have values; fields not copied stay out of the backup', async () => {
  const srcDb = 'sparse';
  const bakDb = 'sparse_backup';
  await createDbs([srcDb, srcServer], [bakDb, bakServer]);
  const points: Point[] = [];
  for (let i = 0; i < 60; i++) {
    const fields: Point['fields'] = { a: i + 0.25, c: `s${i}` };
    if (i % 3 === 0) fields.b = { int: String(BigInt(i) * 1_000_000_000_007n) };
    points.push({ tags: { host: i % 2 ? 'odd' : 'even' }, fields, time: 1_600_000_000_000_000_000n + BigInt(i) * 1_000_000_001n });
  }
  // A line with b alone, and one without b at the newest time.
  points.push({ tags: { host: 'solo' }, fields: { b: { int: '5' } }, time: 1_600_000_000_000_000_001n });
  points.push({ tags: { host: 'odd' }, fields: { a: 1 }, time: 1_700_000_000_000_000_000n });
  await writeSource(srcDb, 'sp', points);
  const range: [bigint, bigint] = [1_500_000_000_000_000_000n, 1_800_000_000_000_000_000n];
  const r = await copy(srcDb, bakDb, 'sp', 'b', range);
  assert.equal(r.values, 21);
  // The newest value of b, not the newest point of the measurement.
  assert.equal(r.lastTimeNs, 1_600_000_000_000_000_000n + 57n * 1_000_000_001n);
  await assertSameField(src(srcDb), bak(bakDb), 'sp', 'b', range);
  assert.deepEqual(await backup.fieldKeys(bakDb, 'sp'), [{ field: 'b', type: 'integer' }]);
  assert.deepEqual(await backup.measurements(bakDb), ['sp']);
});

test('chunk ends are inclusive and the next chunk starts at end + 1; times outside stay out', async () => {
  const srcDb = 'bounds';
  const bakDb = 'bounds_backup';
  await createDbs([srcDb, srcServer], [bakDb, bakServer]);
  const S = 1_700_000_000_000_000_000n;
  const E = S + 2n * H - 1n;
  const times = [S - 1n, S, S + 1n, S + H - 1n, S + H, E, E + 1n];
  await writeSource(
    srcDb,
    'b',
    times.map((time, i) => ({ tags: { k: 'v' }, fields: { v: { int: String(i) } }, time })),
  );
  const c0 = chunkBounds(S, E, H, 0n);
  const c1 = chunkBounds(S, E, H, 1n);
  assert.deepEqual(c0, { startNs: S, endNs: S + H - 1n });
  assert.equal(c1.startNs, c0.endNs + 1n);

  const r0 = await copy(srcDb, bakDb, 'b', 'v', [c0.startNs, c0.endNs]);
  assert.deepEqual(r0, { values: 3, batches: 1, lastTimeNs: S + H - 1n, fields: [{ values: 3, lastTimeNs: S + H - 1n }] });
  const after0 = await snapshot(backup, bakDb, 'b', 'v', ALL);
  assert.deepEqual(
    after0.rows.map((r) => (JSON.parse(r) as unknown[])[2]),
    [S, S + 1n, S + H - 1n].map(String).sort(),
  );

  const r1 = await copy(srcDb, bakDb, 'b', 'v', [c1.startNs, c1.endNs]);
  assert.deepEqual(r1, { values: 2, batches: 1, lastTimeNs: E, fields: [{ values: 2, lastTimeNs: E }] });
  await assertSameField(src(srcDb), bak(bakDb), 'b', 'v', [S, E]);

  // Copying a chunk again leaves the backup the same (jobs run at least once).
  const again = await copy(srcDb, bakDb, 'b', 'v', [c0.startNs, c0.endNs]);
  assert.equal(again.values, 3);
  await assertSameField(src(srcDb), bak(bakDb), 'b', 'v', [S, E]);

  // A chunk with nothing in it.
  const empty = await copy(srcDb, bakDb, 'b', 'v', [E + 2n, E + H]);
  assert.deepEqual(empty, { values: 0, batches: 0, lastTimeNs: null, fields: [{ values: 0, lastTimeNs: null }] });
});

test('small batches and pieces stream a few thousand values exactly, one write in flight', async () => {
  const srcDb = 'stream';
  const bakDb = 'stream_backup';
  await createDbs([srcDb, srcServer], [bakDb, bakServer]);
  const base = 1_650_000_000_000_000_000n;
  const points: Point[] = [];
  const perSeries = 1_000;
  for (const host of ['a', 'b', 'c']) {
    for (let i = 0; i < perSeries; i++) {
      points.push({
        tags: { host },
        fields: { v: { int: (9_007_199_254_740_993n + BigInt(i) * (host === 'b' ? -3n : 1n)).toString() } },
        time: base + BigInt(i) * 1_000_001n + (host === 'c' ? 7n : 0n),
      });
    }
  }
  await writeSource(srcDb, 's', points);

  // The real clients, observed: what piece size the engine asks for, and how
  // many writes it keeps in flight.
  const pieceSizes: number[] = [];
  let askedChunk = 0;
  const observedSource: SourceReader = {
    endpoint: source.endpoint,
    query: (q, db) => source.query(q, db),
    fieldKeys: (db, m) => source.fieldKeys(db, m),
    async *select(q: string, db: string, chunkSize: number): AsyncIterable<SeriesPiece> {
      askedChunk = chunkSize;
      for await (const piece of source.select(q, db, chunkSize)) {
        pieceSizes.push(piece.values.length);
        yield piece;
      }
    },
  };
  let inFlight = 0;
  let maxInFlight = 0;
  const batchLines: number[] = [];
  const observedBackup: BackupWriter = {
    endpoint: backup.endpoint,
    async write(db: string, body: string): Promise<void> {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      batchLines.push(body.split('\n').filter((l) => l !== '').length);
      try {
        await backup.write(db, body);
      } finally {
        inFlight--;
      }
    },
  };
  const progress: number[] = [];
  const more: boolean[] = [];
  const range: [bigint, bigint] = [base, base + DAY];
  const r = await copy(srcDb, bakDb, 's', 'v', range, {
    batchSize: 7,
    pieceRows: 5,
    source: observedSource,
    backup: observedBackup,
    onProgress: (n, m) => {
      progress.push(n);
      more.push(m);
    },
  });
  const total = 3 * perSeries;
  assert.equal(r.values, total);
  assert.equal(r.batches, Math.ceil(total / 7));
  assert.equal(r.lastTimeNs, base + BigInt(perSeries - 1) * 1_000_001n + 7n);
  assert.equal(askedChunk, 5);
  assert.ok(pieceSizes.length >= total / 5);
  assert.ok(
    pieceSizes.every((s) => s <= 5),
    `pieces of ${Math.max(...pieceSizes)} rows`,
  );
  assert.equal(maxInFlight, 1);
  assert.ok(
    batchLines.every((n) => n <= 7),
    'a batch over batchSize',
  );
  assert.equal(
    batchLines.reduce((a, b) => a + b, 0),
    total,
  );
  assert.equal(progress.length, r.batches);
  assert.equal(progress.at(-1), total);
  // The last batch is partial here, so it alone says no more follows.
  assert.notEqual(total % 7, 0);
  assert.deepEqual(more, [...Array<boolean>(r.batches - 1).fill(true), false]);
  assert.ok(
    progress.every((v, i) => i === 0 || v > (progress[i - 1] as number)),
    'progress went backwards',
  );
  await assertSameField(src(srcDb), bak(bakDb), 's', 'v', range);
});

test('a chunk whose write fails permanently rejects with the server reason', async () => {
  const srcDb = 'failing';
  const bakDb = 'failing_backup';
  await createDbs([srcDb, srcServer], [bakDb, bakServer]);
  const day0 = 1_700_006_400_000_000_000n;
  const later = day0 + 30n * DAY; // another shard group: the conflict only bites there
  const points: Point[] = [];
  for (let i = 0n; i < 10n; i++) {
    points.push({ tags: {}, fields: { v: Number(i) + 0.5 }, time: day0 + i });
    points.push({ tags: {}, fields: { v: Number(i) + 100.5 }, time: later + i });
  }
  await writeSource(srcDb, 'f', points);
  await bakServer.write(bakDb, `f v="a string" ${later + 5n}`);
  const err = await copy(srcDb, bakDb, 'f', 'v', [day0, later + DAY], { batchSize: 3 }).then(
    () => assert.fail('a copy with a rejected batch resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InfluxError, String(err));
  assert.equal(err.retriable, false);
  assert.match(err.message, /field type conflict/);
  assert.ok(err.message.includes(backup.endpoint), err.message);

  const missing = await copy(srcDb, 'no_such_backup_db', 'f', 'v', [day0, day0 + 100n]).then(
    () => assert.fail('a copy into a missing database resolved'),
    (e: unknown) => e,
  );
  assert.ok(missing instanceof InfluxError);
  assert.equal(missing.retriable, false);
  assert.match(missing.message, /database not found/);
});

test('a source error inside a 200 answer fails the chunk instead of copying nothing', async () => {
  await createDbs(['srcerr_backup', bakServer]);
  const err = await copyChunk({
    source,
    backup,
    sourceDb: 'no_such_source_db',
    backupDb: 'srcerr_backup',
    measurement: 'm',
    fields: [{ field: 'v', type: 'float' }],
    startNs: 0n,
    endNs: 100n,
    batchSize: 10,
    batchIntervalMs: 0,
    pieceRows: 10,
  }).then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InfluxError);
  assert.match(err.message, /database not found/);
  assert.equal(err.retriable, false);
});

test('a name holding a newline is refused with LineProtocolError, not written as another name', async () => {
  const srcDb = 'newline';
  const bakDb = 'newline_backup';
  await createDbs([srcDb, srcServer], [bakDb, bakServer]);
  await writeSource(srcDb, 'base', [{ tags: { t: 'v' }, fields: { f: 1.5 }, time: 100n }]);
  // Line protocol cannot write such a name; SELECT INTO can.
  await srcServer.query(`SELECT "f" INTO "two\\nlines" FROM "base" GROUP BY *`, srcDb);
  assert.ok((await source.measurements(srcDb)).includes('two\nlines'));
  await assert.rejects(copy(srcDb, bakDb, 'two\nlines', 'f', [0n, 1_000n]), LineProtocolError);
  assert.deepEqual(await backup.measurements(bakDb), []);
});

/**
 * Names SELECT INTO can create but that line protocol may not carry. A copy must
 * then be exact or fail with LineProtocolError; reporting values copied while the
 * backup holds them under no name, or another name, loses data quietly. Any other
 * failure is a failure of the test.
 */
async function exactOrRefused(srcDb: string, bakDb: string, measurement: string, field: string): Promise<void> {
  let result: CopyChunkResult | undefined;
  try {
    result = await copy(srcDb, bakDb, measurement, field, [0n, 1_000n]);
  } catch (err) {
    if (!(err instanceof LineProtocolError)) throw err;
  }
  if (result !== undefined) {
    await assertSameField(src(srcDb), bak(bakDb), measurement, field, [0n, 1_000n]);
  } else {
    assert.deepEqual(await backup.measurements(bakDb), []);
  }
}

test('a measurement whose name starts with # is refused with LineProtocolError, naming it and the reason', async () => {
  const srcDb = 'hash';
  const bakDb = 'hash_backup';
  await createDbs([srcDb, srcServer], [bakDb, bakServer]);
  await writeSource(srcDb, 'base', [
    { tags: { t: 'v' }, fields: { f: 1.5 }, time: 100n },
    { tags: { t: 'w' }, fields: { f: 2.5 }, time: 200n },
  ]);
  await srcServer.query(`SELECT "f" INTO "#hash" FROM "base" GROUP BY *`, srcDb);
  assert.ok((await source.measurements(srcDb)).includes('#hash'));
  // InfluxDB would answer 204 to such a line and store nothing: a comment.
  await assert.rejects(copy(srcDb, bakDb, '#hash', 'f', [0n, 1_000n]), (err: unknown) => {
    assert.ok(err instanceof LineProtocolError, `not a LineProtocolError: ${String(err)}`);
    assert.match(err.message, /"#hash"/);
    assert.match(err.message, /starts with '#'/);
    return true;
  });
  assert.deepEqual(await backup.measurements(bakDb), []);
});

test('a field whose name holds a backslash before a quote is copied exactly or refused', async () => {
  const srcDb = 'bsquote';
  const bakDb = 'bsquote_backup';
  await createDbs([srcDb, srcServer], [bakDb, bakServer]);
  await writeSource(srcDb, 'base', [{ tags: { t: 'v' }, fields: { f: 1.5 }, time: 100n }]);
  await srcServer.query(`SELECT "f" AS "a\\\\\\"b" INTO "fq" FROM "base" GROUP BY *`, srcDb);
  assert.deepEqual(await source.fieldKeys(srcDb, 'fq'), [{ field: 'a\\"b', type: 'float' }]);
  await exactOrRefused(srcDb, bakDb, 'fq', 'a\\"b');
});
