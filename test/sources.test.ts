// Several sources at once (databases.sources), end to end with the real CLI: two
// source servers, one of them with two configured databases (three sources), one
// backup server, one Redis. Each source is copied exactly into its own backup
// database; a source stopped mid-run fails only its own chunks; --source selects.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { escapeMeasurement } from '@influx-backup/influx';
import { cli, client, dump, spawnCli, tempDir, testConfig, writeConfig, y } from './helpers.js';

let serverA: InfluxServer;
let serverB: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let dir: string;
let n = 0;

const HOSTILE_M = 'we"ird, m=1; back\\slash ü 🌡';
const HOSTILE_DB = 'site two, "x"';
const T0 = BigInt(Date.parse('2024-05-01T00:00:00Z')) * 1_000_000n;
const MIN = 60_000_000_000n;
/** Points per hour and hours of the big measurement of source B (the one stopped mid-run). */
const B_HOURS = 40;
const B_PER_HOUR = 120;

function lp(measurement: string, tags: string, fields: string, t: bigint): string {
  return `${escapeMeasurement(measurement)}${tags ? `,${tags}` : ''} ${fields} ${t}`;
}

before(async () => {
  [serverA, serverB, backup, redis] = await Promise.all([startInflux(), startInflux(), startInflux(), startRedis()]);
  dir = tempDir('sources');
  // Server A: "iot" and a database with a hostile name; server B: another "iot".
  await serverA.query('CREATE DATABASE "iot"');
  await serverA.query(`CREATE DATABASE "${HOSTILE_DB.replace(/"/g, '\\"')}"`);
  await serverB.query('CREATE DATABASE "iot"');
  const a: string[] = [];
  const two: string[] = [];
  for (let i = 0n; i < 180n; i++) {
    const t = T0 + i * MIN;
    a.push(lp(HOSTILE_M, `t\\ a\\,g\\=1=v${i % 3n}`, `temp=${Number(i) / 8},count=${9223372036854775000n + i}i,s="a \\"${i}\\"\nx"`, t));
    two.push(lp('power m=1', `site=two`, `watts=${i * 3n}i,on=${i % 2n === 0n}`, t + 7n));
  }
  await serverA.write('iot', a.join('\n'));
  await serverA.write(HOSTILE_DB, two.join('\n'));
  const b: string[] = [];
  for (let h = 0n; h < BigInt(B_HOURS); h++) {
    for (let p = 0n; p < BigInt(B_PER_HOUR); p++) {
      const t = T0 + h * 60n * MIN + p * 30_000_000_000n;
      b.push(lp(HOSTILE_M, `m=${p % 4n}`, `temp=${-Number(h * 1000n + p) / 7},count=${-(h * 1000n + p)}i`, t));
    }
  }
  for (let i = 0; i < b.length; i += 5000) await serverB.write('iot', b.slice(i, i + 5000).join('\n'));
});
after(async () => {
  await Promise.allSettled([serverA?.destroy(), serverB?.destroy(), backup?.destroy(), redis?.destroy()]);
});

interface Rig {
  file: string;
  prefix: string;
  /** Backup database of each source, by name. */
  dbs: { a_iot: string; a_two: string; b_iot: string };
}

/**
 * Three sources, each with its own Redis prefix per test and its own backup
 * databases. `firstB` lists source B first, so its chunks are queued before the others'.
 */
function rig({ extra = '', firstB = false, defaultTwo = false, batch = 'batch_size: 50, batch_interval: 0' } = {}): Rig {
  n++;
  const dbs = { a_iot: `a_iot${n}`, a_two: defaultTwo ? `${HOSTILE_DB}_backup` : `a two ${n}`, b_iot: `b_iot${n}` };
  const to = 'measurements:\n        - name: ' + y(HOSTILE_M) + '\n          start_time: "2024-05-01T00:00:00Z"\n          end_time: "2024-05-03T00:00:00Z"';
  const a = [
    `    - name: "a_iot"\n      host: "127.0.0.1"\n      port: ${serverA.port}\n      database: "iot"\n      backup_database: ${y(dbs.a_iot)}\n      retries: 0\n      timeout: 5`,
    `    - name: "a_two"\n      host: "127.0.0.1"\n      port: ${serverA.port}\n      database: ${y(HOSTILE_DB)}\n${defaultTwo ? '' : `      backup_database: ${y(dbs.a_two)}\n`}      measurements:\n        - name: "power m=1"\n          start_time: "2024-05-01T00:00:00Z"\n          end_time: "2024-05-03T00:00:00Z"`,
  ];
  const b = `    - name: "b_iot"\n      host: "127.0.0.1"\n      port: ${serverB.port}\n      database: "iot"\n      backup_database: ${y(dbs.b_iot)}\n      retries: 0\n      timeout: 2\n      ${to}`;
  const file = writeConfig(
    dir,
    `sources${n}.yaml`,
    `databases:
  sources:
${(firstB ? [b, ...a] : [...a, b]).join('\n')}
  backup: { host: "127.0.0.1", port: ${backup.port}, retries: 1, timeout: 5 }
processing: { max_workers: 3, ${batch} }
backup:
  measurements:
    - name: ${y(HOSTILE_M)}
      start_time: "2024-05-01T00:00:00Z"
      end_time: "2024-05-03T00:00:00Z"
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
  retry: { max_attempts: 2, backoff_factor: 1, max_backoff: 1 }
redis: { url: ${y(redis.url)}, prefix: "s${n}" }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
${extra}`,
  );
  return { file, prefix: `s${n}`, dbs };
}

/** The source's measurement and the backup's hold the same values, tags, times and types; returns how many. */
async function assertExact(server: InfluxServer, db: string, backupDb: string, measurement: string): Promise<number> {
  const a = await dump(client(server.port), db, measurement);
  const b = await dump(client(backup.port), backupDb, measurement);
  assert.ok(a.points.length > 0, `${db}: ${measurement} has data`);
  assert.deepEqual(b.types, a.types, `${backupDb}: ${measurement} types`);
  assert.equal(b.points.length, a.points.length, `${backupDb}: ${measurement} count`);
  assert.deepEqual(b.points, a.points, `${backupDb}: ${measurement} values`);
  return a.points.length;
}

async function backupDatabases(): Promise<string[]> {
  return client(backup.port).databases();
}

describe('several sources', () => {
  test('three sources on two servers: each is copied exactly into its own backup database, keyed by source everywhere', async () => {
    const r = rig({ defaultTwo: true });
    const run = await cli(['run', '--config', r.file]);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    // One run per source, named after it.
    for (const name of ['a_iot', 'a_two', 'b_iot']) assert.match(run.stdout, new RegExp(`^run-\\S+\\.${name}: `, 'm'));
    assert.match(run.stdout, /source {5}a_two: done/);
    assert.equal(await assertExact(serverA, 'iot', r.dbs.a_iot, HOSTILE_M), 180 * 3);
    assert.equal(await assertExact(serverA, HOSTILE_DB, r.dbs.a_two, 'power m=1'), 180 * 2);
    assert.equal(await assertExact(serverB, 'iot', r.dbs.b_iot, HOSTILE_M), B_HOURS * B_PER_HOUR * 2);
    // Nothing crossed: source A's measurement is not in B's backup, nor the reverse.
    assert.equal((await dump(client(backup.port), r.dbs.b_iot, 'power m=1')).points.length, 0);
    assert.equal((await dump(client(backup.port), r.dbs.a_two, HOSTILE_M)).points.length, 0);
    assert.ok((await backupDatabases()).includes(`${HOSTILE_DB}_backup`), 'the default backup database is <database>_backup');

    // Jobs in Bull Board carry their source's name.
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('copy', { connection: conn, prefix: r.prefix });
    try {
      const names = new Set((await queue.getJobs(['completed'], 0, 999)).map((j) => j.name));
      assert.deepEqual([...names].sort(), ['copy-chunk a_iot', 'copy-chunk a_two', 'copy-chunk b_iot']);
    } finally {
      await queue.close();
      conn.disconnect();
    }

    // status: checkpoints and the last run, per source.
    const status = await cli(['status', '--json', '--config', r.file]);
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout) as {
      sources: { name: string; checkpoints: number }[];
      checkpoints: { sourceName: string; field: string }[];
      lastRun: { ok: boolean; sources: { source: string; ok: boolean; completed: number }[] };
    };
    assert.deepEqual(report.sources.map((s) => [s.name, s.checkpoints]), [['a_iot', 3], ['a_two', 2], ['b_iot', 2]]);
    assert.equal(report.lastRun.ok, true);
    assert.deepEqual(report.lastRun.sources.map((s) => s.source), ['a_iot', 'a_two', 'b_iot']);
    assert.equal(report.lastRun.sources.find((s) => s.source === 'b_iot')?.completed, B_HOURS * 2, 'a chunk per hour and field');
    const text = await cli(['status', '--config', r.file]);
    assert.match(text.stdout, /^ {2}source {2}.*server/m);
    assert.match(text.stdout, /^ {2}a_two +autogen +power m=1\.watts/m);
    assert.ok(text.stdout.indexOf('  a_iot   autogen') < text.stdout.indexOf('  b_iot   autogen'), 'checkpoints in the order of the sources');

    // verify compares each source with its own backup database.
    const verify = await cli(['verify', '--deep', '--config', r.file]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /verify: 7 fields identical value by value/);
    assert.match(verify.stdout, /^b_iot autogen we"ird/m);

    // A second run starts every field of every source at its own checkpoint: its newest value only.
    const again = await cli(['run', '--config', r.file]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^ {2}chunks {5}7 \(7 done, 0 failed\)$/m);
  });

  test('--source selects sources on run, verify and status; an unknown name is bad usage', async () => {
    const r = rig();
    const run = await cli(['run', '--source', 'a_two', '--source', 'b_iot', '--config', r.file]);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.doesNotMatch(run.stdout, /\.a_iot:/);
    await assertExact(serverA, HOSTILE_DB, r.dbs.a_two, 'power m=1');
    await assertExact(serverB, 'iot', r.dbs.b_iot, HOSTILE_M);
    assert.equal((await dump(client(backup.port), r.dbs.a_iot, HOSTILE_M).catch(() => ({ points: [] }))).points.length, 0);

    const ok = await cli(['verify', '--source', 'b_iot', '--config', r.file]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /verify: 2 fields identical/);
    assert.doesNotMatch(ok.stdout, /a_iot|a_two/);
    // a_iot was not copied: its backup database is there but empty.
    await backup.query(`CREATE DATABASE "${r.dbs.a_iot}"`);
    const differs = await cli(['verify', '--source', 'a_iot', '--config', r.file]);
    assert.equal(differs.code, 1, differs.stdout + differs.stderr);
    assert.match(differs.stdout, /^a_iot autogen .* DIFFERENT$/m);

    const status = await cli(['status', '--json', '--source', 'b_iot', '--config', r.file]);
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout) as { sources: { name: string }[]; checkpoints: { sourceName: string }[] };
    assert.deepEqual(report.sources.map((s) => s.name), ['b_iot']);
    assert.ok(report.checkpoints.length === 2 && report.checkpoints.every((c) => c.sourceName === 'b_iot'));

    // restore: --source picks the source, read from its own backup database and written on its own server.
    const restored = `a two restored ${n}`;
    const oneTarget = await cli(['restore', '--all', '--target-db', restored, '--config', r.file]);
    assert.equal(oneTarget.code, 2, oneTarget.stderr);
    assert.match(oneTarget.stderr, /--target-db writes one database: give it with one --source \(of a_iot, a_two, b_iot\)/);
    const restore = await cli(['restore', '--all', '--source', 'a_two', '--target-db', restored, '--config', r.file]);
    assert.equal(restore.code, 0, restore.stdout + restore.stderr);
    assert.match(restore.stdout, /^source a_two: restore from database "a two \d+" on the backup InfluxDB/m);
    const back = await dump(client(serverA.port), restored, 'power m=1');
    assert.deepEqual(back.points, (await dump(client(serverA.port), HOSTILE_DB, 'power m=1')).points);
    assert.ok(!(await client(serverB.port).databases()).includes(restored), 'nothing written to the other sources');

    const unknown = await cli(['run', '--source', 'b_iotx', '--config', r.file]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--source "b_iotx" is not a configured source \(did you mean "b_iot"\?\); the sources: a_iot, a_two, b_iot/);
  });

  test('a source stopped mid-run fails only its own chunks: the others finish exactly, the run exits 1 naming it, the next run copies its rest', async () => {
    // B's chunks are queued first and copied slowly, so B stops with most of them left and the others' chunks behind them.
    const r = rig({ firstB: true, batch: 'batch_size: 40, batch_interval: 0.05' });
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const run = spawnCli(['run', '--config', r.file]);
    let stopped = false;
    try {
      const endpointB = `"127.0.0.1:${serverB.port}"`;
      await waitFor(
        'some of source B copied',
        async () => Object.keys(await conn.hgetall(`${r.prefix}:state:checkpoints`)).some((k) => k.includes(endpointB)),
        { timeoutMs: 60_000, intervalMs: 20 },
      );
      await serverB.stop();
      stopped = true;
      const code = await run.exited;
      const out = run.output();
      assert.equal(code, 1, out);
      assert.match(out, /source b_iot FAILED: \d+ chunks? failed for good/);
      assert.match(out, /^ {2}source {5}a_iot: done/m);
      assert.match(out, /^ {2}source {5}b_iot: FAILED/m);
      // Refused, or cut off mid-answer by the stop: the reason names the source and its server.
      assert.match(out, /failed {5}b_iot .*source "b_iot" InfluxDB 127\.0\.0\.1:\d+: /);
      assert.doesNotMatch(out, /failed {5}a_/);
      await assertExact(serverA, 'iot', r.dbs.a_iot, HOSTILE_M);
      await assertExact(serverA, HOSTILE_DB, r.dbs.a_two, 'power m=1');
      const partial = (await dump(client(backup.port), r.dbs.b_iot, HOSTILE_M)).points.length;
      assert.ok(partial > 0 && partial < B_HOURS * B_PER_HOUR * 2, `source B was stopped mid-run (${partial} values copied)`);

      // With B down from the start, the run still copies the others and exits 1 naming B.
      const down = await cli(['run', '--config', r.file]);
      assert.equal(down.code, 1, down.stdout + down.stderr);
      assert.match(down.stderr, /source b_iot FAILED: .*source "b_iot" InfluxDB 127\.0\.0\.1:\d+: connection refused \(check databases\.sources\[0\]\.host and databases\.sources\[0\]\.port\)/);
      assert.match(down.stdout, /\.a_iot: /);

      await serverB.start();
      stopped = false;
      const rest = await cli(['run', '--config', r.file]);
      assert.equal(rest.code, 0, rest.stdout + rest.stderr);
      assert.match(rest.stdout, /\.b_iot: [1-9]/);
      // The others start again at their checkpoints: one chunk per field, its newest value.
      assert.match(rest.stdout, /\.a_iot: 3 fields, 3 chunks \(0 already queued\), 3 values/);
      await assertExact(serverB, 'iot', r.dbs.b_iot, HOSTILE_M);
    } finally {
      run.child.kill('SIGKILL');
      conn.disconnect();
      if (stopped) await serverB.start();
    }
  });

  test('a scheduled tick plans every source its schedule applies to (schedule_ids), one run each', async () => {
    const r = rig({
      extra: `scheduler:
  enabled: true
  jobs:
    - { id: "every_second", second: "*" }
    - { id: "yearly", month: 1, day: 1, hour: 3 }`,
    });
    const { readFileSync, writeFileSync } = await import('node:fs');
    const text = readFileSync(r.file, 'utf8')
      .replace(`backup_database: ${y(r.dbs.a_iot)}`, `backup_database: ${y(r.dbs.a_iot)}\n      schedule_ids: ["yearly"]`)
      .replace(`backup_database: ${y(r.dbs.b_iot)}`, `backup_database: ${y(r.dbs.b_iot)}\n      schedule_ids: ["every_second", "yearly"]`);
    writeFileSync(r.file, text);
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const copy = new Queue('copy', { connection: conn, prefix: r.prefix });
    const schedule = new Queue('schedule', { connection: conn, prefix: r.prefix });
    const planner = spawnCli(['planner', '--config', r.file]);
    try {
      await waitFor('a tick planned', async () => ((await schedule.getJobCounts('completed')).completed ?? 0) >= 1, { timeoutMs: 30_000 });
      const waiting = await copy.getJobs(['waiting'], 0, -1);
      // a_two has no schedule_ids (every schedule plans it), b_iot names this one, a_iot only the yearly one.
      assert.deepEqual([...new Set(waiting.map((j) => j.name))].sort(), ['copy-chunk a_two', 'copy-chunk b_iot']);
      assert.equal(waiting.filter((j) => j.name === 'copy-chunk b_iot').length, B_HOURS * 2);
    } finally {
      planner.child.kill('SIGTERM');
      await planner.exited;
      await Promise.all([copy.close(), schedule.close()]);
      conn.disconnect();
    }
  });

  test('configuration errors name both sources: a duplicate name, two sources aimed at one backup database', async () => {
    const r = rig();
    const text = (await import('node:fs')).readFileSync(r.file, 'utf8');
    const dup = writeConfig(dir, `dup${n}.yaml`, text.replace('name: "a_two"', 'name: "a_iot"'));
    const a = await cli(['config', '--config', dup]);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /databases\.sources\[1\]\.name/);
    assert.match(a.stderr, /"a_iot" is already the name of databases\.sources\[0\]/);
    const clash = writeConfig(dir, `clash${n}.yaml`, text.replace(`backup_database: ${y(r.dbs.b_iot)}`, `backup_database: ${y(r.dbs.a_iot)}`));
    const b = await cli(['config', '--config', clash]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /databases\.sources\[2\]\.backup_database/);
    assert.match(b.stderr, /is also the backup database of databases\.sources\[0\] \("a_iot"\): databases\.sources\[0\] \("a_iot"\) and databases\.sources\[2\] \("b_iot"\)/);
  });
});

describe('the single databases.source after upgrading', () => {
  test('works as before: its checkpoints (even from before policies were named) stay valid, job names and run ids unchanged', async () => {
    n++;
    const prefix = `single${n}`;
    const dst = `single_copy${n}`;
    const measurements = `    - name: ${y(HOSTILE_M)}\n      fields: ["temp"]\n      start_time: "2024-05-01T00:00:00Z"\n      end_time: "2024-05-03T00:00:00Z"`;
    const file = testConfig(dir, { source: serverA, backup, redis }, { src: 'iot', dst, prefix }, measurements);
    // A checkpoint as an earlier version stored it: keyed by server, database, measurement and field,
    // with no policy (the default policy adopts it). The field's values up to 01:59 are "already copied".
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const legacy = JSON.stringify([`127.0.0.1:${serverA.port}`, 'iot', HOSTILE_M, 'temp']);
    const checkpointNs = T0 + 119n * MIN;
    try {
      await conn.hset(`${prefix}:state:checkpoints`, legacy, checkpointNs.toString());
      const run = await cli(['run', '--config', file]);
      assert.equal(run.code, 0, run.stderr + run.stdout);
      assert.match(run.stdout, /^run-\d{8}-\d{6}-\d+: 1 field, \d+ chunks?/m, 'one run, named as before');
      assert.doesNotMatch(run.stdout, /source /);
      const copied = await dump(client(backup.port), dst, HOSTILE_M);
      // Only the values from the checkpoint on: 01:59 .. 02:59 (minute 119 to 179).
      assert.equal(copied.points.length, 61);
      assert.ok(copied.points.every((p) => BigInt(JSON.parse(p)[3] as string) >= checkpointNs));
      const all = await conn.hgetall(`${prefix}:state:checkpoints`);
      const adopted = JSON.stringify([`127.0.0.1:${serverA.port}`, 'iot', HOSTILE_M, 'temp', 'autogen']);
      assert.deepEqual(Object.keys(all), [adopted], 'the checkpoint keeps its identity, now under its policy');
      assert.equal(all[adopted], (T0 + 179n * MIN).toString());
      const queue = new Queue('copy', { connection: conn, prefix });
      try {
        assert.deepEqual([...new Set((await queue.getJobs(['completed'])).map((j) => j.name))], ['copy-chunk']);
      } finally {
        await queue.close();
      }
      const status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as { sources: { name: string }[]; lastRun: { run?: string; sources?: unknown } };
      assert.deepEqual(status.sources.map((s) => s.name), ['iot']);
      assert.equal(typeof status.lastRun.run, 'string');
      assert.equal(status.lastRun.sources, undefined);
    } finally {
      conn.disconnect();
    }
  });
});
