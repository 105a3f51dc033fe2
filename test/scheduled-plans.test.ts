// Scheduled planning end to end: the standalone programs apps/planner and apps/worker
// planning and copying on a near schedule, and every tick reading the source's and the
// backup's retention policies afresh. Real processes, real InfluxDB and Redis.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { client, dump, HOSTILE_LINES, HOSTILE_M, ROOT, spawnCli, tempDir, writeConfig, y, type LongRunning } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let conn: Redis;
let dir: string;
const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
const main = (role: string): string => join(ROOT, 'apps', role, 'dist/main.js');

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  dir = tempDir('scheduled');
});
after(async () => {
  conn?.disconnect();
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

const EVERY_TWO_SECONDS = `scheduler:
  enabled: true
  jobs:
    - { id: "every_two_seconds", trigger: "cron", second: "*/2" }
`;

function config(src: string, dst: string, prefix: string, measurements: string): string {
  return writeConfig(
    dir,
    `${prefix}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: ${y(src)}, retries: 1, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: ${y(dst)}, retries: 1, timeout: 5 }
processing: { max_workers: 2, batch_size: 7, batch_interval: 0 }
backup:
  measurements:
${measurements}
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
redis: { url: ${y(redis.url)}, prefix: ${y(prefix)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
${EVERY_TWO_SECONDS}`,
  );
}

/** Waits until the backup holds exactly what the source holds of `measurement` (in `policy`), value by value. */
async function copiedExactly(src: string, dst: string, measurement: string, policy?: string): Promise<void> {
  const want = await dump(client(source.port), src, measurement, policy);
  assert.ok(want.points.length > 0, `the source holds no ${measurement}`);
  await waitFor(
    `${measurement}${policy ? ` in ${policy}` : ''} copied exactly`,
    async () => JSON.stringify(await dump(client(backup.port), dst, measurement, policy).catch(() => undefined)) === JSON.stringify(want),
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

async function stop(roles: readonly LongRunning[]): Promise<void> {
  for (const r of roles) r.child.kill('SIGTERM');
  for (const r of roles) assert.equal(await r.exited, 0, r.output());
}

describe('scheduled planning', () => {
  test('apps/planner plans on its schedule and apps/worker copies: the backup is exact value by value (hostile names, int64 extremes, ns and pre-1970 times); both stop on SIGTERM with 0', async () => {
    await source.query('CREATE DATABASE "apps_src"');
    const t0 = ns('2024-05-01T00:00:00Z');
    await source.write(
      'apps_src',
      [
        ...HOSTILE_LINES,
        ...Array.from(
          { length: 90 },
          (_, i) => `line,machine=m${i % 3} speed=${i * 0.37},count=${i}i,ok=${i % 2 === 0} ${t0 + BigInt(i) * 120_000_000_000n}`,
        ),
      ].join('\n'),
    );
    const file = config(
      'apps_src',
      'apps_copy',
      'apps',
      `    - { name: ${y(HOSTILE_M)}, start_time: "1960-01-01T00:00:00Z", end_time: "2030-01-01T00:00:00Z" }
    - { name: "line", start_time: "2024-05-01T00:00:00Z", end_time: "2024-05-01T02:59:59Z" }`,
    );
    const schedule = new Queue('schedule', { connection: conn, prefix: 'apps' });
    const roles = [spawnCli(['--config', file], {}, main('planner')), spawnCli(['--config', file], {}, main('worker'))];
    const [planner, worker] = roles as [LongRunning, LongRunning];
    try {
      await copiedExactly('apps_src', 'apps_copy', HOSTILE_M);
      await copiedExactly('apps_src', 'apps_copy', 'line');
      assert.ok(((await schedule.getJobCounts('completed')).completed ?? 0) >= 1, 'a tick of the schedule was planned');
      assert.match(planner.output(), /schedule every_two_seconds: "\*\/2 \* \* \* \* \*" UTC, incremental/);
      assert.match(planner.output(), /planned run=every_two_seconds-\S+ fields=\d+ chunks=\d+/);
      assert.match(worker.output(), /worker \S+ started: 2 jobs at once/);
      const all = (await dump(client(backup.port), 'apps_copy', HOSTILE_M)).points.join('\n');
      for (const v of ['-9223372036854775807', '9223372036854775807', '9007199254740993', '"-86400000000001"'])
        assert.ok(all.includes(v), v);
      await stop(roles);
      assert.match(planner.output(), /SIGTERM: stopping the planner/);
      assert.match(worker.output(), /SIGTERM: finishing active chunks, then exiting/);
    } finally {
      for (const r of roles) r.child.kill('SIGKILL');
      await schedule.close();
    }
  });

  test('each scheduled plan reads the policies afresh: a policy added to the source while the planner runs is created on the backup and copied; a backup policy shortened meanwhile is warned about at the next tick', async () => {
    await source.query('CREATE DATABASE "ticks_src"');
    const t0 = ns('2024-06-01T00:00:00Z');
    const points = (field: string): string =>
      Array.from({ length: 30 }, (_, i) => `m,site=s${i % 2} ${field}=${i}i ${t0 + BigInt(i) * 300_000_000_000n}`).join('\n');
    await source.write('ticks_src', points('early'));
    const file = config(
      'ticks_src',
      'ticks_copy',
      'ticks',
      `    - { name: "m", start_time: "2024-06-01T00:00:00Z", end_time: "2024-06-01T23:59:59Z" }`,
    );
    const roles = [spawnCli(['planner', '--config', file]), spawnCli(['worker', '--config', file])];
    const [planner] = roles as [LongRunning];
    try {
      await copiedExactly('ticks_src', 'ticks_copy', 'm', 'autogen');
      const ticksBefore = planner.output().split('incremental pass of').length;

      // A new default policy on the source, and values in it: no restart, the next ticks find it.
      await source.query('CREATE RETENTION POLICY "fresh" ON "ticks_src" DURATION INF REPLICATION 1 DEFAULT');
      await source.write('ticks_src', points('late'));
      await copiedExactly('ticks_src', 'ticks_copy', 'm', 'fresh');
      assert.ok(planner.output().split('incremental pass of').length > ticksBefore);
      assert.match(planner.output(), /created retention policy "fresh" \(infinite\) in "ticks_copy"/);
      assert.match(planner.output(), /made "fresh" the default retention policy of "ticks_copy", as on the source/);
      const backupPolicies = (await backup.query('SHOW RETENTION POLICIES ON "ticks_copy"')) as {
        results: { series: { values: unknown[][] }[] }[];
      };
      assert.deepEqual(
        backupPolicies.results[0]!.series[0]!.values.map((v) => [v[0], v[1], v[4]]),
        [
          ['autogen', '0s', false],
          ['fresh', '0s', true],
        ],
      );

      // The backup's autogen shortened behind the planner's back: the next tick says so.
      assert.doesNotMatch(planner.output(), /DATA LOSS AHEAD/);
      await backup.query('ALTER RETENTION POLICY "autogen" ON "ticks_copy" DURATION 1w');
      await waitFor(
        'DATA LOSS AHEAD at a tick',
        () => /DATA LOSS AHEAD: the backup's retention policy "autogen" keeps data for 1w/.test(planner.output()),
        {
          timeoutMs: 30_000,
        },
      );
      await stop(roles);
    } finally {
      for (const r of roles) r.child.kill('SIGKILL');
    }
  });
});
