// Preparing the backup database against real influxd servers with auth on: what an
// admin gets created, what a least-privileged user can do once it exists, and the
// statement an operator is told to run when it cannot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, type InfluxServer } from '@influx-backup/testkit';
import { InfluxClient, type RetentionPolicyInfo } from '@influx-backup/influx';
import {
  prepareBackupTarget,
  PrivilegeError,
  silentLogger,
  sourcePolicies,
  UnknownRetentionPolicyError,
  type Logger,
} from '../src/index.js';

const ADMIN = { username: 'admin', password: 'adm1n-pw' };
const H = 3_600_000_000_000n;
const DAY = 24n * H;
const QUOTED = `one "year" it's`;

let srcServer: InfluxServer;
let bakServer: InfluxServer;
const clients: InfluxClient[] = [];

function client(server: InfluxServer, username: string, password: string, role: string): InfluxClient {
  const c = new InfluxClient({ host: server.host, port: server.port, username, password, retries: 0, role });
  clients.push(c);
  return c;
}

function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const log: Logger & { warnings: string[] } = { ...silentLogger, warnings, warn: (m: string) => void warnings.push(m), child: () => log };
  return log;
}

const byName = (ps: RetentionPolicyInfo[]): Map<string, RetentionPolicyInfo> => new Map(ps.map((p) => [p.name, p]));

before(async () => {
  [srcServer, bakServer] = await Promise.all([startInflux({ admin: ADMIN }), startInflux({ admin: ADMIN })]);
  const src = client(srcServer, ADMIN.username, ADMIN.password, 'source InfluxDB');
  for (const q of [
    'CREATE DATABASE "iot"',
    'CREATE RETENTION POLICY "raw" ON "iot" DURATION 30d REPLICATION 1 SHARD DURATION 1h DEFAULT',
    `CREATE RETENTION POLICY "one \\"year\\" it's" ON "iot" DURATION 52w REPLICATION 1 SHARD DURATION 1d`,
    `CREATE USER "reader" WITH PASSWORD 'r'`,
    'GRANT READ ON "iot" TO "reader"',
  ]) {
    await src.query(q);
  }
  const bak = client(bakServer, ADMIN.username, ADMIN.password, 'backup InfluxDB');
  for (const q of [
    'CREATE DATABASE "least"',
    'CREATE DATABASE "ready"',
    `CREATE USER "writer" WITH PASSWORD 'w'`,
    'GRANT ALL ON "least" TO "writer"',
    'GRANT ALL ON "ready" TO "writer"',
  ]) {
    await bak.query(q);
  }
});

after(async () => {
  for (const c of clients) c.close();
  await Promise.all([srcServer?.destroy(), bakServer?.destroy()]);
});

test('a READ user on the source lists every policy and the default; unknown names are errors naming them', async () => {
  const reader = client(srcServer, 'reader', 'r', 'source InfluxDB');
  const all = await sourcePolicies(reader, 'iot');
  assert.deepEqual(
    all.policies.map((p) => p.name),
    ['autogen', 'raw', QUOTED],
  );
  assert.equal(all.defaultPolicy, 'raw');
  const some = await sourcePolicies(reader, 'iot', [QUOTED]);
  assert.deepEqual(
    some.policies.map((p) => p.name),
    [QUOTED],
  );
  assert.equal(some.defaultPolicy, 'raw');
  await assert.rejects(sourcePolicies(reader, 'iot', ['raw', 'rwa']), (err: unknown) => {
    assert.ok(err instanceof UnknownRetentionPolicyError);
    assert.match(err.message, /"rwa" not found in database "iot" on the source InfluxDB 127\.0\.0\.1:\d+ \(it has "autogen", "raw",/);
    return true;
  });
});

test('an admin gets the database and every policy created with the source durations and default', async () => {
  const source = await sourcePolicies(client(srcServer, 'reader', 'r', 'source InfluxDB'), 'iot');
  const admin = client(bakServer, ADMIN.username, ADMIN.password, 'backup InfluxDB');
  const log = recorder();
  const { created } = await prepareBackupTarget({ backup: admin, backupDb: 'iot_backup', source, retention: 'source', logger: log });
  assert.equal(created.length, 3, created.join('\n'));
  const got = byName(await admin.retentionPolicies('iot_backup'));
  assert.equal(got.get('raw')?.durationNs, 30n * DAY);
  assert.equal(got.get('raw')?.shardGroupDurationNs, H);
  assert.equal(got.get('raw')?.isDefault, true);
  assert.equal(got.get(QUOTED)?.durationNs, 52n * 7n * DAY);
  assert.equal(got.get(QUOTED)?.shardGroupDurationNs, DAY);
  assert.equal(got.get('autogen')?.isDefault, false);
  assert.deepEqual(log.warnings, []);

  const again = await prepareBackupTarget({ backup: admin, backupDb: 'iot_backup', source, retention: 'source', logger: log });
  assert.deepEqual(again.created, [], 'a second run creates nothing');
});

test('retention infinite creates every policy without a duration', async () => {
  const source = await sourcePolicies(client(srcServer, 'reader', 'r', 'source InfluxDB'), 'iot');
  const admin = client(bakServer, ADMIN.username, ADMIN.password, 'backup InfluxDB');
  await prepareBackupTarget({ backup: admin, backupDb: 'archive', source, retention: 'infinite', logger: recorder() });
  const got = byName(await admin.retentionPolicies('archive'));
  for (const name of ['raw', QUOTED]) assert.equal(got.get(name)?.durationNs, 0n, name);
  assert.equal(got.get('raw')?.shardGroupDurationNs, H, "the shard duration stays the source's");
  assert.equal(got.get('raw')?.isDefault, true);
});

test('a user with ALL on an existing database needs no admin once the policies exist, and is told what to run before', async () => {
  const source = await sourcePolicies(client(srcServer, 'reader', 'r', 'source InfluxDB'), 'iot');
  const writer = client(bakServer, 'writer', 'w', 'backup InfluxDB');
  await assert.rejects(
    prepareBackupTarget({ backup: writer, backupDb: 'least', source, retention: 'source', logger: recorder() }),
    (err: unknown) => {
      assert.ok(err instanceof PrivilegeError, String(err));
      assert.match(
        err.message,
        /^the retention policy "raw" of "least" does not exist on the backup InfluxDB 127\.0\.0\.1:\d+, and its user may not create it \(permission denied .*requires admin privilege\); an admin must run: CREATE RETENTION POLICY "raw" ON "least" DURATION 720h REPLICATION 1 SHARD DURATION 1h DEFAULT$/,
      );
      return true;
    },
  );

  const missingDb = prepareBackupTarget({ backup: writer, backupDb: 'nowhere', source, retention: 'source', logger: recorder() });
  await assert.rejects(
    missingDb,
    /the backup database "nowhere" does not exist on the backup InfluxDB .*an admin must run: CREATE DATABASE "nowhere"$/,
  );

  // The admin runs what it was told (here: through the product, as an admin), and the writer goes on.
  const admin = client(bakServer, ADMIN.username, ADMIN.password, 'backup InfluxDB');
  await prepareBackupTarget({ backup: admin, backupDb: 'ready', source, retention: 'source', logger: recorder() });
  const log = recorder();
  const { created } = await prepareBackupTarget({ backup: writer, backupDb: 'ready', source, retention: 'source', logger: log });
  assert.deepEqual(created, []);
  assert.deepEqual(log.warnings, []);
});

test("a backup policy shorter than the source's is a loud warning; a different default a quiet one for a non-admin", async () => {
  const source = await sourcePolicies(client(srcServer, 'reader', 'r', 'source InfluxDB'), 'iot');
  const admin = client(bakServer, ADMIN.username, ADMIN.password, 'backup InfluxDB');
  await admin.query('CREATE DATABASE "short"');
  await admin.query('CREATE RETENTION POLICY "raw" ON "short" DURATION 7d REPLICATION 1 SHARD DURATION 1h');
  await admin.query(`CREATE RETENTION POLICY "one \\"year\\" it's" ON "short" DURATION 52w REPLICATION 1 SHARD DURATION 1d`);
  await admin.query(`GRANT ALL ON "short" TO "writer"`);
  const writer = client(bakServer, 'writer', 'w', 'backup InfluxDB');
  const log = recorder();
  await prepareBackupTarget({ backup: writer, backupDb: 'short', source, retention: 'source', logger: log });
  assert.equal(log.warnings.length, 2, log.warnings.join('\n'));
  assert.match(
    log.warnings[0]!,
    /^DATA LOSS AHEAD: the backup's retention policy "raw" keeps data for 1w, the source's 30d: .*ALTER RETENTION POLICY "raw" ON "short" DURATION 720h$/,
  );
  assert.match(
    log.warnings[1]!,
    /default retention policy is "raw", the backup's "autogen".*ALTER RETENTION POLICY "raw" ON "short" DEFAULT$/,
  );

  const infinite = recorder();
  await prepareBackupTarget({ backup: admin, backupDb: 'short', source, retention: 'infinite', logger: infinite });
  assert.equal(infinite.warnings.length, 2, 'both finite policies are shorter than infinite');
  assert.match(infinite.warnings[1]!, /"one \\"year\\" it's" keeps data for 52w.*DURATION INF$/);
  assert.equal(byName(await admin.retentionPolicies('short')).get('raw')?.isDefault, true, 'an admin moves the default');
});
