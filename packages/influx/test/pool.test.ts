// InfluxPool: one socket pool per server, whatever the number of sources (clients) on it,
// at most MAX_SOCKETS_PER_SERVER sockets. The sockets are counted as the kernel lists
// them (/proc/net/tcp), while requests are held open by reading only their first piece.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { startInflux, waitFor, type InfluxServer } from '@influx-backup/testkit';
import { InfluxError, InfluxPool, MAX_SOCKETS_PER_SERVER, type InfluxClient, type SeriesPiece } from '../src/index.js';

const ADMIN = { username: 'admin', password: 'pool-admin-pw' };
const READER = { username: 'reader', password: 'pool-reader-pw' };
const DB = 'pooldb';
const ROWS = 400;
/**
 * Rows per piece. An answer (20 pieces of 1 KB rows, about 400 KB) is far more than Node reads from a socket before its reader
 * takes the first piece: a request whose reader stops there keeps its socket, however fast the server answers.
 */
const PIECE = 20;
/** More requests at once than the pool may open sockets. */
const BURST = 100;

let server: InfluxServer;
before(async () => {
  server = await startInflux({ admin: ADMIN });
  await server.query(`CREATE DATABASE "${DB}"`);
  await server.query(`CREATE USER "${READER.username}" WITH PASSWORD '${READER.password}'`);
  await server.query(`GRANT READ ON "${DB}" TO "${READER.username}"`);
  const t0 = 1_700_000_000_000_000_000n;
  const text = 'x'.repeat(1000);
  await server.write(
    DB,
    Array.from({ length: ROWS }, (_, i) => `m,s=s${i % 7} v="${text}${i}" ${t0 + BigInt(i) * 1_000_000_000n}`).join('\n'),
  );
  // The test's own set-up requests went through Node's global keep-alive agent: close them, so every
  // connection counted below is the pool's.
  http.globalAgent.destroy();
});
after(async () => {
  await server?.destroy();
});

/** Local ports of the ESTABLISHED connections from this machine to `port` (client side), as /proc/net/tcp and tcp6 list them. */
function connectionsTo(port: number): Set<number> {
  const out = new Set<number>();
  const portOf = (address: string): number => parseInt(address.slice(address.lastIndexOf(':') + 1), 16);
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (local && remote && state === '01' && portOf(remote) === port) out.add(portOf(local));
    }
  }
  return out;
}

/** A SELECT of every row, read up to its first piece and then held until `release`, which reads the rest and returns the row count. */
interface Held {
  first: Promise<void>;
  release(): Promise<number>;
}

function hold(c: InfluxClient): Held {
  const pieces = c.select('SELECT v FROM m GROUP BY *', DB, PIECE)[Symbol.asyncIterator]();
  let rows = 0;
  const count = (r: IteratorResult<SeriesPiece>): boolean => {
    if (!r.done) rows += r.value.values.length;
    return r.done !== true;
  };
  const first = pieces.next().then((r) => void count(r));
  return {
    first,
    async release() {
      await first;
      while (count(await pieces.next()));
      return rows;
    },
  };
}

/** The requests whose first piece has arrived, in the order they arrived. */
function arrived(held: readonly Held[]): Held[] {
  const out: Held[] = [];
  for (const h of held) void h.first.then(() => out.push(h));
  return out;
}

test(`more than ${MAX_SOCKETS_PER_SERVER} requests at once to one server: at most ${MAX_SOCKETS_PER_SERVER} sockets, the rest wait for one and are served`, async () => {
  assert.equal(MAX_SOCKETS_PER_SERVER, 64, "the README's cap");
  const pool = new InfluxPool();
  try {
    await waitFor('no connection to the server left from the set-up', () => connectionsTo(server.port).size === 0);
    const a = pool.client({ host: '127.0.0.1', port: server.port, ...ADMIN, timeoutMs: 60_000, retries: 0 });
    const held = Array.from({ length: BURST }, () => hold(a));
    const answered = arrived(held);
    await waitFor(`${MAX_SOCKETS_PER_SERVER} requests answering`, () => answered.length >= MAX_SOCKETS_PER_SERVER, { timeoutMs: 30_000 });
    // Every request was issued at once; a pool without the cap would have opened a socket for each by now.
    const sockets = connectionsTo(server.port);
    assert.equal(sockets.size, MAX_SOCKETS_PER_SERVER, `${sockets.size} connections to the server`);
    assert.equal(answered.length, MAX_SOCKETS_PER_SERVER, 'only requests that have a socket are answered');

    // One request read to its end frees its socket: a waiting request takes it, over the same connection.
    assert.equal(await answered[0]!.release(), ROWS);
    await waitFor('a waiting request served', () => answered.length === MAX_SOCKETS_PER_SERVER + 1);
    assert.deepEqual(connectionsTo(server.port), sockets, 'it reused a socket; none was opened');

    const rows = await Promise.all(held.map((h) => h.release()));
    assert.deepEqual(
      rows,
      held.map(() => ROWS),
      'every request got every row',
    );
    // Kept alive for the next requests, and never more than the cap: the same sockets.
    assert.deepEqual(connectionsTo(server.port), sockets);
  } finally {
    pool.close();
  }
});

test('two sources on one server with different credentials share its sockets, each with its own credentials; another host name is another pool', async () => {
  const pool = new InfluxPool();
  try {
    await waitFor('no connection to the server left from the last test', () => connectionsTo(server.port).size === 0);
    const a = pool.client({ host: '127.0.0.1', port: server.port, ...ADMIN, timeoutMs: 60_000, retries: 0, role: 'source "a" InfluxDB' });
    const b = pool.client({ host: '127.0.0.1', port: server.port, ...READER, timeoutMs: 60_000, retries: 0, role: 'source "b" InfluxDB' });

    // a alone opens the pool's sockets.
    const warm = Array.from({ length: BURST }, () => hold(a));
    await waitFor('the pool full', () => connectionsTo(server.port).size >= MAX_SOCKETS_PER_SERVER, { timeoutMs: 30_000 });
    await Promise.all(warm.map((h) => h.release()));
    const sockets = connectionsTo(server.port);
    assert.equal(sockets.size, MAX_SOCKETS_PER_SERVER);

    // Both at once: b's requests go over the sockets a opened, and the two together stay within the cap.
    const held = Array.from({ length: BURST }, (_, i) => hold(i % 2 === 0 ? a : b));
    const answered = arrived(held);
    await waitFor(`${MAX_SOCKETS_PER_SERVER} requests answering`, () => answered.length >= MAX_SOCKETS_PER_SERVER, { timeoutMs: 30_000 });
    assert.deepEqual(connectionsTo(server.port), sockets, 'the two sources share the sockets; none was opened');
    assert.equal(answered.length, MAX_SOCKETS_PER_SERVER);
    const from = (c: InfluxClient): number => held.filter((h, i) => answered.includes(h) && (i % 2 === 0 ? a : b) === c).length;
    assert.ok(from(a) > 0 && from(b) > 0, `answered: ${from(a)} of a, ${from(b)} of b`);

    // While the pool is full, a client of another host name (the same server) has its own pool and is answered at once.
    const other = pool.client({ host: 'localhost', port: server.port, ...READER, timeoutMs: 10_000, retries: 0 });
    assert.match(await other.ping(), /^1\./);
    assert.ok(connectionsTo(server.port).size > MAX_SOCKETS_PER_SERVER, 'localhost opened a connection of its own');

    const rows = await Promise.all(held.map((h) => h.release()));
    assert.deepEqual(
      rows,
      held.map(() => ROWS),
    );

    // Over the shared sockets, each request carries its own client's credentials: the reader may not write, the admin may.
    const write = 'm,s=w written=1i 1700000000000000000';
    const refused = await b.write(DB, write).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(refused instanceof InfluxError, String(refused));
    assert.equal(refused.status, 403, refused.message);
    assert.match(refused.message, /^source "b" InfluxDB 127\.0\.0\.1:\d+: permission denied/);
    await a.write(DB, write);
  } finally {
    pool.close();
  }
});
