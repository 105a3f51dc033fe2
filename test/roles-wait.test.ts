// A worker and a planner started before their data is there (the source database not
// created yet, or the source server not up yet) say so once at WARNING and wait for
// it, instead of dying; `run` still fails at once with its clear message. Real
// processes against a real Redis and real InfluxDB servers started late.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, spawnCli, tempDir, writeConfig, type LongRunning } from './helpers.js';

let backup: InfluxServer;
let redis: RedisServer;
const servers: InfluxServer[] = [];
const t0 = BigInt(Date.parse('2024-03-01T00:00:00Z')) * 1_000_000n;
const LINES = Array.from(
  { length: 120 },
  (_, i) => `pump,site=s${i % 3} flow=${i / 4},runs=${i}i ${t0 + BigInt(i) * 60_000_000_000n}`,
).join('\n');

before(async () => {
  [backup, redis] = await Promise.all([startInflux(), startRedis()]);
});
after(async () => {
  await Promise.allSettled([backup?.destroy(), redis?.destroy(), ...servers.map((s) => s.destroy())]);
});

function config(name: string, sourcePort: number): string {
  return writeConfig(
    tempDir('wait'),
    `${name}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${sourcePort}, database: "late_db", retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: "${name}_copy" }
processing: { max_workers: 2, batch_size: 50, batch_interval: 0 }
backup:
  measurements:
    - { name: "pump", start_time: "2024-03-01T00:00:00Z", end_time: "2024-03-01T01:59:59Z" }
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
scheduler:
  enabled: true
  jobs:
    - { id: "every_two_seconds", trigger: "cron", second: "*/2" }
redis: { url: "${redis.url}", prefix: "${name}" }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
`,
  );
}

async function rolesWaitThenWork(name: string, sourcePort: number, waitingFor: RegExp, appear: () => Promise<void>): Promise<void> {
  const file = config(name, sourcePort);
  // A run is a command: it fails at once, naming what is missing.
  const run = await cli(['run', '--config', file]);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stderr, waitingFor);
  const roles: Record<'worker' | 'planner', LongRunning> = {
    worker: spawnCli(['worker', '--config', file]),
    planner: spawnCli(['planner', '--config', file]),
  };
  try {
    for (const [role, p] of Object.entries(roles)) {
      await waitFor(`${role} to say it waits`, () => new RegExp(`${waitingFor.source}[^\\n]*; waiting for it`).test(p.output()), {
        timeoutMs: 30_000,
      });
    }
    // Still running, having said it once; it starts below only by trying again after the data appears.
    for (const [role, p] of Object.entries(roles)) {
      assert.equal(p.child.exitCode, null, `${role} is still running:\n${p.output()}`);
      assert.equal(p.output().match(/; waiting for it/g)?.length, 1, `${role} said it once:\n${p.output()}`);
    }
    await appear();
    for (const [role, p] of Object.entries(roles)) {
      await waitFor(`${role} to start`, () => /the servers answer; starting/.test(p.output()), { timeoutMs: 30_000 });
    }
    // The planner plans on its next tick and the worker copies: the backup ends exact.
    const src = servers.at(-1)!;
    await waitFor(
      'the backup to hold every value',
      async () => (await dump(client(backup.port), `${name}_copy`, 'pump').catch(() => ({ points: [] }))).points.length === 240,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    assert.deepEqual(await dump(client(backup.port), `${name}_copy`, 'pump'), await dump(client(src.port), 'late_db', 'pump'));
    for (const p of Object.values(roles)) p.child.kill('SIGTERM');
    for (const [role, p] of Object.entries(roles)) assert.equal(await p.exited, 0, `${role}:\n${p.output()}`);
  } finally {
    for (const p of Object.values(roles)) p.child.kill('SIGKILL');
  }
}

test('the source database not created yet: worker and planner wait for it, then plan and copy exactly; run fails at once naming the database', async () => {
  const source = await startInflux();
  servers.push(source);
  await rolesWaitThenWork('nodb', source.port, /database "late_db" does not exist/, async () => {
    await source.query('CREATE DATABASE "late_db"');
    await source.write('late_db', LINES);
  });
});

test('the source server not up yet: worker and planner wait for it, then plan and copy exactly; run fails at once naming the server', async () => {
  const port = await freePort();
  await rolesWaitThenWork('noserver', port, new RegExp(`source InfluxDB 127\\.0\\.0\\.1:${port}: connection refused`), async () => {
    const source = await startInflux({ port });
    servers.push(source);
    await source.query('CREATE DATABASE "late_db"');
    await source.write('late_db', LINES);
  });
});
