// InfluxClient against a real influxd: exact int64, float and nanosecond reads
// through MessagePack, streamed pieces, and how failures are classified.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startInflux, freePort, rejection, type InfluxServer } from '@influx-backup/testkit';
import { InfluxClient, InfluxError, type SeriesPiece } from '../src/index.js';

const ADMIN = { username: 'backup-admin', password: 'S3cr3t:p@ss/wörd' };

let influx: InfluxServer;
let secured: InfluxServer;
let client: InfluxClient;
const clients: InfluxClient[] = [];

function newClient(opts: Partial<ConstructorParameters<typeof InfluxClient>[0]> & { port: number }): InfluxClient {
  const c = new InfluxClient({ host: '127.0.0.1', ...opts });
  clients.push(c);
  return c;
}

before(async () => {
  [influx, secured] = await Promise.all([startInflux(), startInflux({ admin: ADMIN })]);
  client = newClient({ port: influx.port, retries: 0 });
});

after(async () => {
  for (const c of clients) c.close();
  await Promise.all([influx?.destroy(), secured?.destroy()]);
});

interface Row {
  series: string;
  time: string;
  value: unknown;
}

async function selectRows(c: InfluxClient, q: string, db: string, chunkSize = 1000): Promise<Row[]> {
  const out: Row[] = [];
  for await (const piece of c.select(q, db, chunkSize)) {
    const series = JSON.stringify([piece.name, piece.tags ?? {}]);
    for (const row of piece.values) out.push({ series, time: String(row[0]), value: row[1] });
  }
  return out;
}

const failure = (p: Promise<unknown>): Promise<InfluxError> => rejection(p, InfluxError);

async function drain(it: AsyncIterable<SeriesPiece>): Promise<number> {
  let rows = 0;
  for await (const p of it) rows += p.values.length;
  return rows;
}

test('ping answers with the server version', async () => {
  const version = await client.ping();
  assert.match(version, /^v?1\./);
});

test('the constructor refuses a missing host or an impossible port', () => {
  assert.throws(() => new InfluxClient({ host: '', port: 8086 }), TypeError);
  assert.throws(() => new InfluxClient({ host: 'h', port: 0 }), RangeError);
  assert.throws(() => new InfluxClient({ host: 'h', port: 70000 }), RangeError);
  assert.throws(() => new InfluxClient({ host: 'h', port: 80.5 }), RangeError);
});

test('int64 extremes and integers past 2^53 arrive exact', async () => {
  const db = 'ints';
  await influx.query(`CREATE DATABASE ${db}`);
  const values = [
    '9223372036854775807',
    '-9223372036854775807',
    '9007199254740993',
    '-9007199254740993',
    '9007199254740992',
    '4611686018427387905',
    '2147483648',
    '-2147483649',
    '0',
    '42',
    '-1',
  ];
  await influx.write(db, values.map((v, i) => `n v=${v}i ${i + 1}`).join('\n'));
  const rows = await selectRows(client, 'SELECT "v"::field FROM "n"', db);
  assert.deepEqual(
    rows.map((r) => String(r.value)),
    values,
  );
  // Values past 2^53 are never JavaScript numbers: they would have lost digits.
  for (const r of rows) {
    if (typeof r.value === 'number') assert.ok(Number.isSafeInteger(r.value), `unsafe number ${r.value}`);
  }
  const [[piece] = []] = await client.query('SELECT MAX("v"), MIN("v") FROM "n"', db);
  assert.equal(String(piece?.values[0]?.[1]), '9223372036854775807');
  assert.equal(String(piece?.values[0]?.[2]), '-9223372036854775807');
  assert.deepEqual(await client.fieldKeys(db, 'n'), [{ field: 'v', type: 'integer' }]);
});

test('nanosecond times and times before 1970 arrive exact', async () => {
  const db = 'times';
  await influx.query(`CREATE DATABASE ${db}`);
  const times = [
    '-2000000000000000001',
    '-86400000000000001',
    '-1',
    '0',
    '1',
    '999999999',
    '1700000000123456789',
    '1700000000123456790',
    '4000000000000000007',
  ];
  await influx.write(db, times.map((t, i) => `t v=${i}i ${t}`).join('\n'));
  const rows = await selectRows(
    client,
    `SELECT "v"::field FROM "t" WHERE time >= -2000000000000000001 AND time <= 4000000000000000007`,
    db,
  );
  assert.deepEqual(
    rows.map((r) => r.time),
    times,
  );
  assert.deepEqual(
    rows.map((r) => String(r.value)),
    times.map((_, i) => String(i)),
  );
});

test('floats, strings and booleans arrive as they were written', async () => {
  const db = 'kinds';
  await influx.query(`CREATE DATABASE ${db}`);
  const floats: [string, number][] = [
    ['0.1', 0.1],
    ['-0', -0],
    ['1e+21', 1e21],
    ['5e-324', 5e-324],
    ['-1.7976931348623157e+308', -1.7976931348623157e308],
    ['2', 2],
    ['3.141592653589793', Math.PI],
  ];
  await influx.write(db, floats.map(([text], i) => `f v=${text} ${i + 1}`).join('\n'));
  const f = await selectRows(client, 'SELECT "v"::field FROM "f"', db);
  assert.equal(f.length, floats.length);
  f.forEach((r, i) => assert.ok(Object.is(r.value, floats[i]?.[1]), `float ${floats[i]?.[0]} came back as ${String(r.value)}`));

  const strings = ['say "hi"', 'C:\\dir\\', 'line1\nline2', '', 'ü 温度 🚀', 'a, b = c; d', '\\"'];
  const escape = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  await influx.write(db, strings.map((s, i) => `s v=${escape(s)} ${i + 1}`).join('\n'));
  const s = await selectRows(client, 'SELECT "v"::field FROM "s"', db);
  assert.deepEqual(
    s.map((r) => r.value),
    strings,
  );

  await influx.write(db, 'b v=true 1\nb v=false 2\nb v=t 3\nb v=F 4');
  const b = await selectRows(client, 'SELECT "v"::field FROM "b"', db);
  assert.deepEqual(
    b.map((r) => r.value),
    [true, false, true, false],
  );
  const keys = Object.fromEntries(
    await Promise.all(['f', 's', 'b'].map(async (m) => [m, (await client.fieldKeys(db, m))[0]?.type] as const)),
  );
  assert.deepEqual(keys, { f: 'float', s: 'string', b: 'boolean' });
});

test('select streams pieces of at most chunkSize rows, series by series, in time order', async () => {
  const db = 'stream';
  await influx.query(`CREATE DATABASE ${db}`);
  const lines: string[] = [];
  for (let i = 0; i < 700; i++) {
    lines.push(`p,host=a v=${i}i ${1_000_000_000 + i}`);
    lines.push(`p,host=b v=${-i}i ${2_000_000_000 + i}`);
  }
  await influx.write(db, lines.join('\n'));
  const pieces: SeriesPiece[] = [];
  for await (const piece of client.select('SELECT "v"::field FROM "p" GROUP BY *', db, 64)) pieces.push(piece);
  assert.ok(pieces.length >= 22, `only ${pieces.length} pieces`);
  for (const p of pieces) assert.ok(p.values.length <= 64, `a piece of ${p.values.length} rows`);
  const bySeries = new Map<string, string[]>();
  for (const p of pieces) {
    const host = p.tags?.host ?? '?';
    const list = bySeries.get(host) ?? [];
    for (const row of p.values) list.push(String(row[0]));
    bySeries.set(host, list);
  }
  assert.deepEqual([...bySeries.keys()], ['a', 'b']);
  const a = bySeries.get('a') ?? [];
  const bb = bySeries.get('b') ?? [];
  assert.equal(a.length, 700);
  assert.equal(bb.length, 700);
  assert.deepEqual(
    a,
    Array.from({ length: 700 }, (_, i) => String(1_000_000_000 + i)),
  );
  assert.deepEqual(
    bb,
    Array.from({ length: 700 }, (_, i) => String(2_000_000_000 + i)),
  );
  // The last piece of the answer has nothing after it.
  const last = pieces.at(-1);
  assert.notEqual(last?.partial, true);
});

test('a consumer that stops early leaves the connection pool usable', async () => {
  const db = 'early';
  await influx.query(`CREATE DATABASE ${db}`);
  const lines = Array.from({ length: 3000 }, (_, i) => `e v=${i}i ${i + 1}`);
  await influx.write(db, lines.join('\n'));
  for (let round = 0; round < 3; round++) {
    for await (const piece of client.select('SELECT "v"::field FROM "e"', db, 10)) {
      assert.equal(piece.values.length, 10);
      break;
    }
  }
  assert.equal(await drain(client.select('SELECT "v"::field FROM "e"', db, 500)), 3000);
  const [[count] = []] = await client.query('SELECT COUNT("v") FROM "e"', db);
  assert.equal(String(count?.values[0]?.[1]), '3000');
});

test('query returns one list of series per statement', async () => {
  const db = 'multi';
  await influx.query(`CREATE DATABASE ${db}`);
  await influx.write(db, 'a v=1 1\nb v=2 2');
  const results = await client.query('SELECT "v" FROM "a"; SELECT "v" FROM "b"', db);
  assert.equal(results.length, 2);
  assert.equal(results[0]?.[0]?.name, 'a');
  assert.equal(results[1]?.[0]?.name, 'b');
});

test('databases, createDatabase, measurements and fieldKeys take hostile names as data', async () => {
  // InfluxDB itself refuses '/' and '\\' in database names.
  const db = 'we ird"db; DROP DATABASE "ints ü';
  await client.createDatabase(db);
  await client.createDatabase(db); // idempotent
  assert.ok((await client.databases()).includes(db));
  assert.ok((await client.databases()).includes('ints'), 'a database name was run as a statement');
  const m = 'x"; DROP DATABASE "ints';
  await client.write(db, `x";\\ DROP\\ DATABASE\\ "ints,t\\ k=v f\\=ld"=1i,other="s" 5`);
  assert.deepEqual(await client.measurements(db), [m]);
  const keys = await client.fieldKeys(db, m);
  assert.deepEqual(
    keys.sort((x, y) => x.field.localeCompare(y.field)),
    [
      { field: 'f=ld"', type: 'integer' },
      { field: 'other', type: 'string' },
    ],
  );
  assert.ok((await client.databases()).includes('ints'));
});

test('a syntax error is permanent and names host:port', async () => {
  const endpoint = `127.0.0.1:${influx.port}`;
  const e = await failure(client.query('SELEC nonsense FROM'));
  assert.equal(e.retriable, false);
  assert.equal(e.endpoint, endpoint);
  assert.ok(e.message.includes(endpoint), e.message);
  assert.match(e.message, /error parsing query|found SELEC/);
  const s = await failure(drain(client.select('SELECT FROM WHERE', 'ints', 10)));
  assert.equal(s.retriable, false);
  assert.ok(s.message.includes(endpoint), s.message);
});

test('an error inside a 200 answer is a failure, not an empty result', async () => {
  const e = await failure(client.query('SELECT * FROM "m"', 'no_such_db'));
  assert.equal(e.retriable, false);
  assert.match(e.message, /database not found/);
  const s = await failure(drain(client.select('SELECT * FROM "m"', 'no_such_db', 10)));
  assert.match(s.message, /database not found/);
  assert.equal(s.retriable, false);
});

test('a write with a type conflict is permanent and carries the server reason', async () => {
  const db = 'conflict';
  await influx.query(`CREATE DATABASE ${db}`);
  await client.write(db, 'c v=1i 1');
  const e = await failure(client.write(db, 'c v="text" 2'));
  assert.equal(e.retriable, false);
  assert.equal(e.status, 400);
  assert.match(e.message, /field type conflict/);
  assert.ok(e.message.includes(`127.0.0.1:${influx.port}`), e.message);
  // The rejected point is not there.
  const [[count] = []] = await client.query('SELECT COUNT("v") FROM "c"', db);
  assert.equal(String(count?.values[0]?.[1]), '1');
});

test('unparsable line protocol and a missing database are permanent write failures', async () => {
  const bad = await failure(client.write('conflict', 'no fields here 1'));
  assert.equal(bad.retriable, false);
  assert.equal(bad.status, 400);
  assert.match(bad.message, /unable to parse|invalid/);
  const missing = await failure(client.write('no_such_db', 'm v=1 1'));
  assert.equal(missing.retriable, false);
  assert.equal(missing.status, 404);
  assert.match(missing.message, /database not found/);
});

test('nothing listening: a retriable error naming 127.0.0.1:<port>', async () => {
  const port = await freePort();
  const dead = newClient({ port, retries: 0 });
  for (const p of [
    dead.ping(),
    dead.query('SHOW DATABASES'),
    dead.write('db', 'm v=1 1'),
    drain(dead.select('SELECT * FROM m', 'db', 10)),
  ]) {
    const e = await failure(p);
    assert.equal(e.retriable, true);
    assert.equal(e.status, undefined);
    assert.ok(e.message.includes(`127.0.0.1:${port}`), e.message);
  }
});

test('a transient failure is retried until the server is back', async () => {
  const db = 'comeback';
  await influx.query(`CREATE DATABASE ${db}`);
  const patient = newClient({ port: influx.port, retries: 6 });
  await influx.stop();
  // 250 + 500 + 1000 + 2000 + 4000 + 4000 ms of backoff: far longer than a restart.
  const writing = patient.write(db, 'r v=1i 7');
  const restart = influx.start();
  await Promise.all([writing, restart]);
  const rows = await selectRows(client, 'SELECT "v"::field FROM "r"', db);
  assert.deepEqual(
    rows.map((r) => [r.time, String(r.value)]),
    [['7', '1']],
  );
});

test('auth: a wrong password is a permanent failure that never shows the password', async () => {
  const wrong = newClient({ port: secured.port, username: ADMIN.username, password: 'not-the-password', retries: 0 });
  const e = await failure(wrong.query('SHOW DATABASES'));
  assert.equal(e.retriable, false);
  assert.equal(e.status, 401);
  assert.match(e.message, /authentication failed/);
  assert.ok(!e.message.includes('not-the-password'), e.message);
  const w = await failure(wrong.write('any', 'm v=1 1'));
  assert.equal(w.retriable, false);
  assert.ok(!w.message.includes('not-the-password'), w.message);

  const anonymous = newClient({ port: secured.port, retries: 0 });
  const a = await failure(anonymous.query('SHOW DATABASES'));
  assert.equal(a.retriable, false);
  assert.equal(a.status, 401);

  // A right user with a password that is a prefix of the real one, for a message that might echo it.
  const partial = newClient({ port: secured.port, username: ADMIN.username, password: ADMIN.password.slice(0, 8), retries: 0 });
  const p = await failure(partial.query('SHOW DATABASES'));
  assert.ok(!p.message.includes(ADMIN.password.slice(0, 8)), p.message);
});

test('auth: the right password works for query, write and select', async () => {
  const ok = newClient({ port: secured.port, username: ADMIN.username, password: ADMIN.password, retries: 0 });
  await ok.createDatabase('secure');
  assert.ok((await ok.databases()).includes('secure'));
  await ok.write('secure', 'm v=9223372036854775807i 1700000000000000001');
  const rows = await selectRows(ok, 'SELECT "v"::field FROM "m"', 'secure');
  assert.deepEqual(
    rows.map((r) => [r.time, String(r.value)]),
    [['1700000000000000001', '9223372036854775807']],
  );
});

test('credentials travel in an Authorization header, never in the URL', async () => {
  const seen: { url: string; authorization: string | undefined; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization, body });
      if (req.url?.startsWith('/ping') || req.url?.startsWith('/write')) {
        res.writeHead(204).end();
      } else {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'recorded' }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as net.AddressInfo;
  try {
    const user = 'rec user';
    const password = 'pa:ss w0rd&p=1';
    const c = newClient({ port: addr.port, username: user, password, retries: 0 });
    await c.ping();
    await c.write('db', 'm v=1 1');
    const e = await failure(c.query('SHOW DATABASES'));
    assert.match(e.message, /recorded/);
    await failure(drain(c.select('SELECT * FROM m', 'db', 5)));
    assert.equal(seen.length, 4);
    const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    for (const s of seen) {
      assert.equal(s.authorization, expected);
      const decoded = decodeURIComponent(s.url);
      assert.ok(!decoded.includes(password) && !s.url.includes(encodeURIComponent(password)), `password in ${s.url}`);
      const params = new URL(s.url, 'http://x').searchParams;
      assert.equal(params.get('u'), null, s.url);
      assert.equal(params.get('p'), null, s.url);
      assert.ok(!s.body.includes(password), 'password in a request body');
    }
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('a response cut off mid-stream is a retriable failure, never a short success', async () => {
  const db = 'cutoff';
  await influx.query(`CREATE DATABASE ${db}`);
  const lines = Array.from({ length: 4000 }, (_, i) => `big v="${'x'.repeat(40)}${i}" ${i + 1}`);
  await influx.write(db, lines.join('\n'));

  // A TCP proxy in front of the real server that passes the request whole and
  // only the first bytes of the answer, then drops both sockets.
  const limit = 6_000;
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((down) => {
    const up = net.connect(influx.port, '127.0.0.1');
    sockets.add(down).add(up);
    let passed = 0;
    down.pipe(up);
    up.on('data', (d: Buffer) => {
      const room = limit - passed;
      if (room > 0) down.write(d.subarray(0, room));
      passed += d.length;
      if (passed >= limit) {
        up.destroy();
        down.end(() => down.destroy());
      }
    });
    const close = (): void => {
      up.destroy();
      down.destroy();
    };
    up.on('error', close);
    down.on('error', close);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const port = (proxy.address() as net.AddressInfo).port;
  try {
    const c = newClient({ port, retries: 0 });
    // One big piece: the cut falls inside it.
    const whole = await failure(drain(c.select('SELECT "v"::field FROM "big"', db, 10_000)));
    assert.equal(whole.retriable, true);
    assert.ok(whole.message.includes(`127.0.0.1:${port}`), whole.message);
    // Small pieces: some arrive, then the cut; the stream must still end in an error.
    let rows = 0;
    const e = await failure(
      (async () => {
        for await (const piece of c.select('SELECT "v"::field FROM "big"', db, 20)) rows += piece.values.length;
      })(),
    );
    assert.equal(e.retriable, true);
    assert.ok(rows < 4000, `${rows} rows came through a cut-off answer`);
    const q = await failure(c.query('SELECT "v"::field FROM "big"', db));
    assert.equal(q.retriable, true);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => proxy.close(r));
  }
});

test('large writes may travel gzipped and land the same', async () => {
  const db = 'gzip';
  await influx.query(`CREATE DATABASE ${db}`);
  const zipped = newClient({ port: influx.port, retries: 0, gzipMinBytes: 1 });
  const text = (i: number): string => `${'q"\\'.repeat(3)}${i}`;
  const escaped = (v: string): string => v.replace(/[\\"]/g, (c) => `\\${c}`);
  const lines = Array.from(
    { length: 500 },
    (_, i) => `z,t=ü v=${9_007_199_254_740_993n + BigInt(i)}i,s="${escaped(text(i))}" ${1_700_000_000_000_000_000n + BigInt(i)}`,
  );
  await zipped.write(db, lines.join('\n'));
  const rows = await selectRows(client, 'SELECT "v"::field FROM "z"', db);
  assert.equal(rows.length, 500);
  assert.equal(String(rows[499]?.value), String(9_007_199_254_740_993n + 499n));
  const s = await selectRows(client, 'SELECT "s"::field FROM "z"', db);
  assert.deepEqual(
    s.map((r) => r.value),
    Array.from({ length: 500 }, (_, i) => text(i)),
  );
});

test('a server that never answers times out with a retriable error', async () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const c = newClient({ port, retries: 0, timeoutMs: 300 });
    const e = await failure(c.query('SHOW DATABASES'));
    assert.equal(e.retriable, true);
    assert.ok(e.message.includes(`127.0.0.1:${port}`), e.message);
    assert.match(e.message, /300 ms|timed? ?out/i);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});
