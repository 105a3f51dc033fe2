// TLS to InfluxDB: ssl, verify_ssl and ca_file, against a real influxd serving
// HTTPS with a certificate from a throw-away CA.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InfluxClient, InfluxError } from '@influx-backup/influx';
import { makeCertificate, startInflux, startRedis, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, dump, tempDir, writeConfig, y } from './helpers.js';

let secure: InfluxServer;
let plain: InfluxServer;
let redis: RedisServer;
let cert: ReturnType<typeof makeCertificate>;

before(async () => {
  cert = makeCertificate();
  [secure, plain, redis] = await Promise.all([
    startInflux({ tls: { certFile: cert.certFile, keyFile: cert.keyFile } }),
    startInflux(),
    startRedis(),
  ]);
  await secure.query('CREATE DATABASE "sec"');
  await secure.write('sec', 'probe,site=x v=1.25,n=7i 1700000000000000000\nprobe,site=y v=2.5,n=8i 1700000000000000001');
});
after(async () => {
  await Promise.allSettled([secure?.destroy(), plain?.destroy(), redis?.destroy()]);
});

describe('TLS', () => {
  test('verify_ssl with the CA file connects; without it the certificate is refused for good; verify_ssl false connects', async () => {
    const withCa = new InfluxClient({ host: '127.0.0.1', port: secure.port, ssl: true, verifySsl: true, caFile: cert.caFile, retries: 0 });
    assert.ok((await withCa.databases()).includes('sec'));
    withCa.close();

    const noCa = new InfluxClient({ host: '127.0.0.1', port: secure.port, ssl: true, verifySsl: true, retries: 0 });
    await assert.rejects(noCa.ping(), (err: unknown) => {
      assert.ok(err instanceof InfluxError);
      assert.equal(err.retriable, false, 'an untrusted certificate does not get better with retries');
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${secure.port}`));
      return true;
    });
    noCa.close();

    const unverified = new InfluxClient({ host: '127.0.0.1', port: secure.port, ssl: true, verifySsl: false, retries: 0 });
    assert.ok((await unverified.databases()).includes('sec'));
    unverified.close();
  });

  test('run copies from an HTTPS source verified with ca_file', async () => {
    const file = writeConfig(
      tempDir('tls'),
      'tls.yaml',
      `databases:
  source: { host: "127.0.0.1", port: ${secure.port}, database: "sec", ssl: true, verify_ssl: true, ca_file: ${y(cert.caFile)} }
  backup: { host: "127.0.0.1", port: ${plain.port}, database: "sec_copy" }
backup:
  measurements:
    - name: "probe"
      start_time: "2023-01-01T00:00:00Z"
      end_time: "2024-01-01T00:00:00Z"
redis: { url: ${y(redis.url)}, prefix: "tls" }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
`,
    );
    const r = await cli(['run', '--config', file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const src = new InfluxClient({ host: '127.0.0.1', port: secure.port, ssl: true, caFile: cert.caFile });
    const dst = new InfluxClient({ host: '127.0.0.1', port: plain.port });
    const a = await dump(src, 'sec', 'probe');
    assert.equal(a.points.length, 4);
    assert.deepEqual((await dump(dst, 'sec_copy', 'probe')).points, a.points);
    src.close();
    dst.close();
  });
});
