// Retention policies and privileges against a real influxd with auth on: what a
// least-privileged backup user can see and do, and how a refusal reads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, rejection, type InfluxServer } from '@influx-backup/testkit';
import {
  InfluxClient,
  InfluxError,
  createRetentionPolicyStatement,
  describeDuration,
  formatInfluxDuration,
  parseGoDuration,
  type RetentionPolicyInfo,
} from '../src/index.js';

const ADMIN = { username: 'admin', password: 'adm1n-pw' };
const H = 3_600_000_000_000n;
const HOSTILE = `one "year" it's ü, =`;

let influx: InfluxServer;
const clients: InfluxClient[] = [];

function client(username: string, password: string, role?: string): InfluxClient {
  const c = new InfluxClient({ host: '127.0.0.1', port: influx.port, username, password, retries: 0, role });
  clients.push(c);
  return c;
}

const failure = (p: Promise<unknown>): Promise<InfluxError> => rejection(p, InfluxError);

before(async () => {
  influx = await startInflux({ admin: ADMIN });
  const admin = client(ADMIN.username, ADMIN.password);
  for (const q of [
    'CREATE DATABASE "src"',
    'CREATE DATABASE "bak"',
    'CREATE RETENTION POLICY "raw" ON "src" DURATION 30d REPLICATION 1 SHARD DURATION 1h DEFAULT',
    `CREATE RETENTION POLICY "one \\"year\\" it's ü, =" ON "src" DURATION 52w REPLICATION 1 SHARD DURATION 1d`,
    `CREATE USER "reader" WITH PASSWORD 'r-pw'`,
    'GRANT READ ON "src" TO "reader"',
    `CREATE USER "writer" WITH PASSWORD 'w-pw'`,
    'GRANT ALL ON "bak" TO "writer"',
  ]) {
    await admin.query(q);
  }
});

after(async () => {
  for (const c of clients) c.close();
  await influx?.destroy();
});

test('Go durations read as nanoseconds and written back as InfluxQL literals', () => {
  assert.equal(parseGoDuration('0s'), 0n);
  assert.equal(parseGoDuration('8736h0m0s'), 8736n * H);
  assert.equal(parseGoDuration('1h30m0s'), H + H / 2n);
  assert.equal(parseGoDuration('1ms'), 1_000_000n);
  for (const bad of ['', 'h', '1.5s', '1d', '10 h', '1h; DROP DATABASE x']) {
    assert.throws(() => parseGoDuration(bad), RangeError, bad);
  }
  assert.equal(formatInfluxDuration(0n), 'INF');
  assert.equal(formatInfluxDuration(8736n * H), '8736h');
  assert.equal(formatInfluxDuration(H + H / 2n + 1n), '1h30m1ns');
  assert.throws(() => formatInfluxDuration(-1n), RangeError);
  assert.equal(describeDuration(0n), 'infinite');
  assert.equal(describeDuration(52n * 7n * 24n * H), '52w');
  assert.equal(describeDuration(30n * 24n * H), '30d');
  assert.equal(describeDuration(H + H / 2n), '1h30m');
});

test('a READ user lists the policies of its database: durations, shard durations and the default', async () => {
  const policies = await client('reader', 'r-pw').retentionPolicies('src');
  const byName = new Map(policies.map((p) => [p.name, p]));
  assert.deepEqual([...byName.keys()].sort(), ['autogen', HOSTILE, 'raw'].sort());
  assert.deepEqual(byName.get('raw'), { name: 'raw', durationNs: 720n * H, shardGroupDurationNs: H, replicaN: 1, isDefault: true });
  assert.deepEqual(byName.get(HOSTILE), {
    name: HOSTILE,
    durationNs: 52n * 7n * 24n * H,
    shardGroupDurationNs: 24n * H,
    replicaN: 1,
    isDefault: false,
  });
  assert.equal(byName.get('autogen')?.durationNs, 0n, 'autogen keeps data forever');
  assert.equal(byName.get('autogen')?.isDefault, false);
});

test("policies created from another server's answer come back the same, hostile names as data", async () => {
  const admin = client(ADMIN.username, ADMIN.password);
  const source = await admin.retentionPolicies('src');
  await admin.query('CREATE DATABASE "copy"');
  for (const p of source) if (p.name !== 'autogen') await admin.createRetentionPolicy('copy', p);
  const copied = await admin.retentionPolicies('copy');
  const strip = (ps: RetentionPolicyInfo[]): RetentionPolicyInfo[] =>
    ps.filter((p) => p.name !== 'autogen').sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(strip(copied), strip(source));
  assert.equal(copied.find((p) => p.isDefault)?.name, 'raw', 'the default moved with the policy');

  await admin.setDefaultRetentionPolicy('copy', HOSTILE);
  assert.equal((await admin.retentionPolicies('copy')).find((p) => p.isDefault)?.name, HOSTILE);
  assert.ok((await admin.databases()).includes('src'), 'a policy name was run as a statement');

  const infinite = createRetentionPolicyStatement('copy', { ...source[0]!, name: 'forever', durationNs: 0n, isDefault: false });
  assert.match(infinite, /DURATION INF /);
  await admin.query(infinite);
  assert.equal((await admin.retentionPolicies('copy')).find((p) => p.name === 'forever')?.durationNs, 0n);
});

test('a missing privilege (403) and wrong credentials (401) read differently, and name the server', async () => {
  const writer = client('writer', 'w-pw', 'backup InfluxDB');
  assert.deepEqual(await writer.databases(), ['bak'], 'SHOW DATABASES lists what the user may use');
  const denied = await failure(writer.createDatabase('bak'));
  assert.equal(denied.status, 403);
  assert.equal(denied.retriable, false);
  assert.match(denied.message, /^backup InfluxDB 127\.0\.0\.1:\d+: permission denied \(HTTP 403\): .*requires admin privilege/);
  assert.doesNotMatch(denied.message, /authentication/);
  const rp = await failure(
    writer.createRetentionPolicy('bak', { name: 'raw', durationNs: 720n * H, shardGroupDurationNs: H, replicaN: 1, isDefault: false }),
  );
  assert.equal(rp.status, 403);

  const wrong = client('writer', 'not-it', 'source InfluxDB');
  const refused = await failure(wrong.databases());
  assert.equal(refused.status, 401);
  assert.equal(refused.retriable, false);
  assert.match(refused.message, /^source InfluxDB 127\.0\.0\.1:\d+: authentication failed \(HTTP 401\): wrong user name or password/);
  assert.ok(!refused.message.includes('not-it'), refused.message);

  const reader = client('reader', 'r-pw');
  const noWrite = await failure(reader.write('src', 'm v=1 1'));
  assert.equal(noWrite.status, 403);
  assert.match(noWrite.message, /permission denied/);
});

test('a write into a policy that does not exist fails for good, naming it', async () => {
  const writer = client('writer', 'w-pw');
  const e = await failure(writer.write('bak', 'm v=1 1', 'nope'));
  assert.equal(e.retriable, false, 'InfluxDB answers 500, but no retry creates the policy');
  assert.match(e.message, /retention policy not found: nope/);
  await writer.write('bak', 'm v=1 1', 'autogen');
});
