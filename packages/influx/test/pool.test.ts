// InfluxPool: one socket pool per server, whatever the number of sources (clients) on it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, type InfluxServer } from '@influx-backup/testkit';
import { InfluxPool } from '../src/index.js';

let server: InfluxServer;
before(async () => {
  server = await startInflux();
});
after(async () => {
  await server?.destroy();
});

test('clients of one server share its socket pool, each with its own role; another server gets its own', async () => {
  const pool = new InfluxPool();
  try {
    const a = pool.client({ host: '127.0.0.1', port: server.port, role: 'source "a" InfluxDB' });
    const b = pool.client({ host: '127.0.0.1', port: server.port, username: 'other', role: 'source "b" InfluxDB' });
    assert.equal(pool.servers, 1);
    // Both answer through the one pool, each request with its own client.
    await Promise.all([a.ping(), b.ping(), a.databases()]);
    pool.client({ host: 'localhost', port: server.port });
    pool.client({ host: '127.0.0.1', port: server.port, ssl: true });
    assert.equal(pool.servers, 3, 'another host name, or TLS, is another pool');
    // Closing one client leaves the shared pool to the others.
    a.close();
    await b.ping();
  } finally {
    pool.close();
  }
});
