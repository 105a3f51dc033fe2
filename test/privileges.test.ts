// Least privilege, end to end through the real CLI: a READ-only source user and a
// backup user with ALL on an existing backup database (neither admin) back up
// exactly; what they may not do is refused with the statement an admin must run,
// and a wrong password or a closed port names the server and the keys to check.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startInflux, startRedis, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { InfluxClient } from '@influx-backup/influx';
import { cli, dump, tempDir, writeConfig, y } from './helpers.js';

const ADMIN = { username: 'root', password: 'r00t-pw' };
let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let dir: string;
let n = 0;
const clients: InfluxClient[] = [];

function admin(server: InfluxServer): InfluxClient {
  const c = new InfluxClient({ host: server.host, port: server.port, ...ADMIN, retries: 0 });
  clients.push(c);
  return c;
}

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux({ admin: ADMIN }), startInflux({ admin: ADMIN }), startRedis()]);
  dir = tempDir('privileges');
  for (const q of [`CREATE USER "reader" WITH PASSWORD 'reader-pw'`]) await admin(source).query(q);
  for (const q of [`CREATE USER "writer" WITH PASSWORD 'writer-pw'`]) await admin(backup).query(q);
});
after(async () => {
  for (const c of clients) c.close();
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

interface Setup {
  src: string;
  dst: string;
  file: string;
}

/** A source database the reader may read, a backup database the writer may use, and a config as those two users. */
async function setup(opts: { sourcePassword?: string; backupPort?: number; createBackup?: boolean } = {}): Promise<Setup> {
  n++;
  const src = `plant ${n}`;
  const dst = `plant ${n} copy`;
  await admin(source).query(`CREATE DATABASE "${src}"`);
  await admin(source).query(`GRANT READ ON "${src}" TO "reader"`);
  await source.write(src, ['m,site=a v=1i,t="x" 1700000000000000001', 'm,site=b v=-9223372036854775808i 1700000003600000000'].join('\n'));
  if (opts.createBackup !== false) {
    await admin(backup).query(`CREATE DATABASE "${dst}"`);
    await admin(backup).query(`GRANT ALL ON "${dst}" TO "writer"`);
  }
  const file = writeConfig(
    dir,
    `c${n}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: ${y(src)}, username: "reader", password: ${y(opts.sourcePassword ?? 'reader-pw')}, retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${opts.backupPort ?? backup.port}, database: ${y(dst)}, username: "writer", password: "writer-pw", retries: 0, timeout: 5 }
backup:
  measurements:
    - { name: "m", start_time: "2023-11-01T00:00:00Z", end_time: "2023-11-30T00:00:00Z" }
  time_chunks: { size: "1d", overlap: "0s" }
  retry: { max_attempts: 1, backoff_factor: 1, max_backoff: 1 }
redis: { url: ${y(redis.url)}, prefix: "p${n}" }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
`,
  );
  return { src, dst, file };
}

describe('least privilege', () => {
  test('a READ source user and an ALL backup user (no admin) back up exactly, verify and run again', async () => {
    const s = await setup();
    const first = await cli(['run', '--config', s.file]);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const a = admin(source);
    const b = admin(backup);
    assert.deepEqual(await dump(b, s.dst, 'm'), await dump(a, s.src, 'm'));
    assert.equal((await dump(b, s.dst, 'm')).points.length, 3);
    const verify = await cli(['verify', '--deep', '--config', s.file]);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    await source.write(s.src, 'm,site=a v=7i 1700000007200000000');
    const again = await cli(['run', '--config', s.file]);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.deepEqual(await dump(b, s.dst, 'm'), await dump(a, s.src, 'm'));
  });

  test('a missing backup database the user may not create: exit 1 with the statement an admin must run', async () => {
    const s = await setup({ createBackup: false });
    const r = await cli(['run', '--config', s.file]);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /the backup database "plant \d+ copy" does not exist on the backup InfluxDB 127\.0\.0\.1:\d+, and its user may not create it/,
    );
    assert.match(r.stderr, /an admin must run: CREATE DATABASE "plant \d+ copy"/);
    assert.doesNotMatch(r.stderr, /authentication failed/);
  });

  test('a source policy missing on the backup that only an admin may create: exit 1 with the statement; after it, the copy goes on', async () => {
    const s = await setup();
    await admin(source).query(`CREATE RETENTION POLICY "raw" ON "${s.src}" DURATION INF REPLICATION 1 SHARD DURATION 1d`);
    await admin(source).write(s.src, 'm,site=r v=5i 1700000000000000007', 'raw');
    const r = await cli(['run', '--config', s.file]);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    const statement = `CREATE RETENTION POLICY "raw" ON "${s.dst}" DURATION INF REPLICATION 1 SHARD DURATION 24h`;
    assert.ok(r.stderr.includes(`an admin must run: ${statement}`), r.stderr);
    assert.match(r.stderr, /backup InfluxDB 127\.0\.0\.1:\d+/);
    await admin(backup).query(statement);
    const again = await cli(['run', '--config', s.file]);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.deepEqual(await dump(admin(backup), s.dst, 'm', 'raw'), await dump(admin(source), s.src, 'm', 'raw'));
  });

  test('a wrong source password: exit 1, an authentication failure of the source, the keys to check, no password', async () => {
    const s = await setup({ sourcePassword: 'not-the-reader-pw' });
    const r = await cli(['run', '--config', s.file]);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /source InfluxDB 127\.0\.0\.1:\d+: authentication failed \(HTTP 401\).*check databases\.source\.username and databases\.source\.password/,
    );
    assert.ok(!r.stderr.includes('not-the-reader-pw'));
  });

  test('config --check tries each server and reports each as one line', async () => {
    const good = await setup();
    const ok = await cli(['config', '--check', '--config', good.file]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^ok +Redis 127\.0\.0\.1:\d+ +Redis \S+$/m);
    assert.match(
      ok.stdout,
      /^ok +source InfluxDB 127\.0\.0\.1:\d+ +InfluxDB \S+, credentials accepted; database "plant \d+" readable, retention policies "autogen"$/m,
    );
    assert.match(
      ok.stdout,
      /^ok +backup InfluxDB 127\.0\.0\.1:\d+ +InfluxDB \S+, credentials accepted; database "plant \d+ copy" present$/m,
    );

    const wrong = await setup({ sourcePassword: 'nope-pw', createBackup: false, backupPort: await freePort() });
    const bad = await cli(['config', '--check', '--config', wrong.file], { timeoutMs: 60_000 });
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(
      bad.stdout,
      /^FAILED +source InfluxDB 127\.0\.0\.1:\d+ +authentication failed \(HTTP 401\).*\(check databases\.source\.username and databases\.source\.password\)$/m,
    );
    assert.match(
      bad.stdout,
      /^FAILED +backup InfluxDB 127\.0\.0\.1:\d+ +connection refused \(check databases\.backup\.host and databases\.backup\.port\)$/m,
    );
    assert.match(bad.stdout, /^ok +Redis/m);
    assert.ok(!bad.stderr.includes('nope-pw') && !bad.stdout.includes('nope-pw'));
  });

  test('a backup port nobody listens on: exit 1 naming the backup server and the keys to check', async () => {
    const s = await setup({ backupPort: await freePort() });
    const r = await cli(['run', '--config', s.file], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /backup InfluxDB 127\.0\.0\.1:\d+: connection refused \(check databases\.backup\.host and databases\.backup\.port\)/,
    );
  });
});
