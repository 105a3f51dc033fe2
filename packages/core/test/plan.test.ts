// discoverFields and planFieldChunks against a real influxd: only chunks that
// hold values are planned, on the grid of the range's start, with exact counts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, type InfluxServer } from '@influx-backup/testkit';
import { InfluxClient } from '@influx-backup/influx';
import { chunkBounds, discoverFields, planFieldChunks, FieldTypeConflictError, type Chunk } from '../src/index.js';

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
  await server.write(db, [`x";\\ DROP\\ DATABASE\\ "hostileplan f\\ "q\\=1=1i ${S}`, `x";\\ DROP\\ DATABASE\\ "hostileplan f\\ "q\\=1=2i ${S + 2n * H}`].join('\n'));
  const chunks = await planFieldChunks(client, db, { measurement: 'x"; DROP DATABASE "hostileplan', field: 'f "q=1', type: 'integer' }, S, S + DAY, H);
  assert.equal(chunks.length, 2);
  assert.ok((await client.databases()).includes(db));
});
