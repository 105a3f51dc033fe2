// `influx-backup restore` end to end: real InfluxDB servers, real Redis, the real CLI.
// Each test backs data up with the product itself, damages the source, restores,
// and compares value by value (with types) against what the backup holds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import {
  cli,
  client,
  column,
  dump,
  exact,
  HOSTILE_LINES,
  HOSTILE_M,
  HOSTILE_M_LP,
  namer,
  spawnCli,
  tempDir,
  testConfig,
  y,
  type LongRunning,
  type TestNames,
} from './helpers.js';
import { formQuery, pausingProxy } from './proxy.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let dir: string;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  dir = tempDir('restore');
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

/** A fresh source database, backup database and Redis prefix for one test. */
const names = namer('r');

/** `through`: the source as the CLI reaches it (a proxy in front of it), with requests that wait 2 minutes for an answer. */
function config(n: TestNames, measurements: string, through?: { port: number }): string {
  return testConfig(dir, { source: through ?? source, backup, redis }, n, measurements, {
    processing: 'max_workers: 3, batch_size: 7, batch_interval: 0, fields_per_job: 2',
    maxValues: 3,
    ...(through ? { timeout: 120 } : {}),
  });
}

function measurement(name: string, start = '1960-01-01T00:00:00Z'): string {
  return `    - name: ${y(name)}\n      start_time: "${start}"\n      end_time: "2030-01-01T00:00:00Z"`;
}

/** The checkpoints as `status --json` reports them: a restore must leave them exactly as they were. */
async function checkpoints(file: string): Promise<unknown> {
  const r = await cli(['status', '--json', '--config', file]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { checkpoints: unknown }).checkpoints;
}

/** The jobs being copied now under a Redis prefix, as BullMQ lists them. */
async function activeJobs(prefix: string): Promise<{ id: string; name: string }[]> {
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('copy', { connection: conn, prefix });
  try {
    return (await queue.getJobs(['active'])).map((j) => ({ id: j.id ?? '', name: j.name }));
  } finally {
    await queue.close();
    conn.disconnect();
  }
}

async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 0, `${args.join(' ')}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const T = 1_700_000_000_000_000_000n;
const HOUR = 3_600_000_000_000n;

describe('influx-backup restore', () => {
  test('a dropped measurement comes back exactly: hostile names, int64 extremes, ns and pre-1970 times, every type; no checkpoint moves', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    await source.write(
      n.src,
      [
        ...HOSTILE_LINES,
        `${HOSTILE_M_LP} same=-0 1`,
        `${HOSTILE_M_LP},t\\ a\\,g\\=1=v3 fl=0.1,big=-1i,b=true ${T + 5n * HOUR + 1n}`,
        `kept x=1i ${T}`,
      ].join('\n'),
    );
    const file = config(n, [measurement(HOSTILE_M), measurement('kept')].join('\n'));
    await ok(['run', '--config', file]);
    const src = client(source.port);
    const dst = client(backup.port);
    const before = await dump(src, n.src, HOSTILE_M);
    assert.equal(before.points.length, 15);
    // The float -0 at t=1 keeps its sign through the backup and back: its row says "-0", not "0".
    const negativeZero = JSON.stringify([HOSTILE_M, [], 'same', '1', 'number', '-0']);
    assert.ok(before.points.includes(negativeZero), `the source holds -0: ${before.points.join('\n')}`);
    const backedUp = await dump(dst, n.dst, HOSTILE_M);
    assert.ok(backedUp.points.includes(negativeZero), 'the backup holds -0');
    assert.deepEqual(backedUp, before, 'the backup is exact before the restore');
    const marks = await checkpoints(file);

    await source.query(`DROP MEASUREMENT ${JSON.stringify(HOSTILE_M)}`, n.src);
    assert.equal((await dump(src, n.src, HOSTILE_M)).points.length, 0, 'the measurement is gone from the source');

    // Its stdin stays open and silent: a restore that asked for a confirmation would never end.
    const r = await cli(['restore', '--measurement', HOSTILE_M, '--config', file], { openStdin: true, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = r.stdout;
    // Before writing: the fields, each one's range and the backup's count of values.
    assert.match(
      out,
      new RegExp(
        `restore from database "${n.dst}" on the backup InfluxDB 127\\.0\\.0\\.1:${backup.port} into database "${n.src}" on the source InfluxDB`,
      ),
    );
    assert.match(out, /\.f 1,x=y \(integer\)  1960-01-01T00:00:00Z \.\. 2030-01-01T00:00:00Z  2 values/);
    assert.match(out, /6 fields, \d+ chunks?, 15 values in the backup to restore/);
    assert.ok(out.indexOf('values in the backup') < out.indexOf('done in'), 'the preview comes before the copy');
    assert.match(out, /done in/);

    const restored = await dump(src, n.src, HOSTILE_M);
    assert.deepEqual(restored.types, before.types, 'every field keeps its type');
    assert.deepEqual(restored.points, before.points, 'every value, tag set and ns time comes back');
    assert.ok(restored.points.includes(negativeZero), 'the restore brought -0 back, not 0');
    // int64 extremes and 2^53 + 1 are whole (the client reads integers past 2^53 as decimal
    // text), each value checked on its own; so are ns and pre-1970 times.
    assert.deepEqual(column(restored.points, 'f 1,x=y').sort(), ['"-9223372036854775807"', '"9223372036854775807"']);
    assert.deepEqual(column(restored.points, 'big').sort(), ['"9007199254740993"', '-1']);
    assert.deepEqual(column(restored.points, 'b', 'time').sort(), ['-86400000000001', '0', String(T + 5n * HOUR + 1n)].sort());
    assert.ok(column(restored.points, 'same', 'time').includes('1700000000123456789'));
    assert.deepEqual((await dump(src, n.src, 'kept')).points.length, 1, 'other measurements are untouched');
    assert.deepEqual(await checkpoints(file), marks, 'a restore moves no checkpoint');

    // status shows the restore apart; the backup's last run stays the last run.
    const status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as {
      lastRun: { mode: string };
      lastRestore: { mode: string; ok: boolean; values: number };
    };
    assert.equal(status.lastRun.mode, 'run');
    assert.deepEqual([status.lastRestore.mode, status.lastRestore.ok, status.lastRestore.values], ['restore', true, 15]);
  });

  test('a range restore rewrites that range only: points outside it, and a point newer in the source, keep the source values', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    const lines = [0n, 1n, 2n, 3n, 4n, 5n].flatMap((h) => [
      `m,host=a v=${h}i,s="a${h}" ${T + h * HOUR}`,
      `m,host=b v=${-h}i ${T + h * HOUR + 7n}`,
    ]);
    await source.write(n.src, lines.join('\n'));
    const file = config(n, measurement('m'));
    await ok(['run', '--config', file]);
    const backedUp = await dump(client(backup.port), n.dst, 'm');

    // The source loses hours 2 and 3 (both series), while hour 5 of host a changes
    // and a new point arrives after the backup.
    await source.query(`DELETE FROM "m" WHERE time >= ${T + 2n * HOUR} AND time <= ${T + 3n * HOUR + 7n}`, n.src);
    await source.write(n.src, [`m,host=a v=500i,s="newer" ${T + 5n * HOUR}`, `m,host=a v=600i ${T + 6n * HOUR}`].join('\n'));
    const iso = (ns: bigint): string =>
      new Date(Number(ns / 1_000_000n)).toISOString().replace(/\.\d+Z$/, '.') + String(ns % 1_000_000_000n).padStart(9, '0') + 'Z';
    const out = await ok([
      'restore',
      '--measurement',
      'm',
      '--start-time',
      iso(T + 2n * HOUR),
      '--end-time',
      iso(T + 3n * HOUR + 7n),
      '--config',
      file,
    ]);
    assert.match(out, /2 fields, \d+ chunks?, 6 values in the backup to restore/);

    const after = await dump(client(source.port), n.src, 'm');
    const row = (host: string, field: string, t: bigint, v: number | string): string =>
      JSON.stringify(['m', [['host', host]], field, String(t), typeof v, exact(v)]);
    const expected = new Set(backedUp.points);
    // The source's changes outside the range stay the source's.
    expected.delete(row('a', 'v', T + 5n * HOUR, 5));
    expected.delete(row('a', 's', T + 5n * HOUR, 'a5'));
    for (const p of [row('a', 'v', T + 5n * HOUR, 500), row('a', 's', T + 5n * HOUR, 'newer'), row('a', 'v', T + 6n * HOUR, 600)]) {
      expected.add(p);
    }
    assert.deepEqual(after.points, [...expected].sort());
    assert.deepEqual(after.types, backedUp.types);
  });

  test('--target-db restores into a new database with the same retention policies; the source database is left alone', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    await source.query(`CREATE RETENTION POLICY "rp two" ON "${n.src}" DURATION INF REPLICATION 1 SHARD DURATION 1d`);
    await source.write(n.src, [`m,k=1 a=1.5,b=true ${T}`, `m,k=2 a=-2.5,b=false ${T + HOUR + 1n}`].join('\n'));
    const res = await fetch(`${source.url}/write?db=${n.src}&rp=${encodeURIComponent('rp two')}&precision=ns`, {
      method: 'POST',
      body: `m,k=3 a=3.25,c="rp" ${T + 2n * HOUR}`,
    });
    assert.equal(res.status, 204);
    const file = config(n, measurement('m'));
    await ok(['run', '--config', file]);
    await source.query(`DROP MEASUREMENT "m"`, n.src);

    const scratch = `scratch ${n.src}`;
    const out = await ok(['restore', '--all', '--target-db', scratch, '--config', file]);
    assert.match(out, new RegExp(`into database "${scratch}" on the source InfluxDB`));
    const src = client(source.port);
    const dst = client(backup.port);
    assert.ok((await src.databases()).includes(scratch), 'the target database was created');
    const policies = await src.retentionPolicies(scratch);
    assert.deepEqual(policies.map((p) => p.name).sort(), ['autogen', 'rp two']);
    for (const rp of ['autogen', 'rp two']) {
      const want = await dump(dst, n.dst, 'm', rp);
      assert.ok(want.points.length > 0, `the backup holds ${rp}`);
      assert.deepEqual(await dump(src, scratch, 'm', rp), want, `policy ${rp} restored into its namesake`);
    }
    for (const rp of ['autogen', 'rp two'])
      assert.equal((await dump(src, n.src, 'm', rp)).points.length, 0, `the source's ${rp} got nothing`);
  });

  test('--dry-run prints what it would restore and writes nothing: no database, no point, no Redis key', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    await source.write(n.src, [`m a=1i,b="x" ${T}`, `m a=2i ${T + 3n * HOUR}`].join('\n'));
    const file = config(n, measurement('m'));
    await ok(['run', '--config', file]);
    await source.query(`DROP MEASUREMENT "m"`, n.src);
    const r = new Redis(redis.url);
    try {
      const keysBefore = (await r.keys(`${n.prefix}:*`)).sort();
      const volatile = new Set((await Promise.all(keysBefore.map(async (k) => ((await r.pttl(k)) > 0 ? [k] : [])))).flat());
      const out = await ok(['restore', '--measurement', 'm', '--dry-run', '--config', file]);
      assert.match(out, /m\.a \(integer\)  1960-01-01T00:00:00Z \.\. 2030-01-01T00:00:00Z  2 values/);
      assert.match(out, /m\.b \(string\)  .* 1 value\n/);
      assert.match(out, /2 fields, \d+ chunks?, 3 values in the backup \(dry run: nothing written\)/);
      const out2 = await ok(['restore', '--measurement', 'm', '--dry-run', '--target-db', 'never made', '--config', file]);
      assert.match(out2, /into database "never made"/);
      assert.equal((await dump(client(source.port), n.src, 'm')).points.length, 0, 'no point written');
      assert.ok(!(await client(source.port).databases()).includes('never made'), 'no database created');
      // No key is added; none goes but those that expire on their own (BullMQ's stalled-check lock).
      const keysAfter = await r.keys(`${n.prefix}:*`);
      assert.deepEqual(
        keysAfter.filter((k) => !keysBefore.includes(k)),
        [],
        'nothing planned or queued in Redis',
      );
      const lost = keysBefore.filter((k) => !keysAfter.includes(k));
      assert.deepEqual(
        lost.filter((k) => !volatile.has(k)),
        [],
        'no key removed',
      );
    } finally {
      r.disconnect();
    }
  });

  test('a restore while a worker is copying a backup of other fields (one of its chunks held mid-read): the restore finishes first, both exactly', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    const restoreLines: string[] = [];
    for (let i = 0n; i < 300n; i++) restoreLines.push(`lost,s=${i % 3n} v=${i}i,w=${i}.5 ${T + i * 60_000_000_000n}`);
    await source.write(n.src, restoreLines.join('\n'));
    // The CLI reaches the source through a proxy, which holds the first read of a chunk of "busy".
    const proxy = await pausingProxy(source.port);
    const file = config(n, [measurement('lost'), measurement('busy')].join('\n'), proxy);
    const worker = spawnCli(['worker', '--config', file]);
    let plan: LongRunning | undefined;
    try {
      await ok(['run', '--measurement', 'lost', '--config', file]);
      const lost = await dump(client(backup.port), n.dst, 'lost');
      assert.equal(lost.points.length, 600);
      await source.query(`DROP MEASUREMENT "lost"`, n.src);
      const busyLines: string[] = [];
      for (let i = 0n; i < 3000n; i++) busyLines.push(`busy,h=${i % 5n} x=${i}i,y="${i}" ${T + i * 10_000_000_000n}`);
      await source.write(n.src, busyLines.join('\n'));

      const readsBusy = (sent: string): boolean =>
        /^SELECT .* FROM (?:"[^"]*"\.)?"busy" WHERE time >= -?\d+ AND time <= -?\d+ GROUP BY \*$/.test(formQuery(sent));
      let holding = false;
      void proxy.holdWhen(readsBusy, 'connection').then(() => (holding = true));
      plan = spawnCli(['plan', '--wait', '--measurement', 'busy', '--config', file]);
      await waitFor('a chunk of the backup held mid-read', () => holding, { timeoutMs: 60_000 });
      const copying = (await activeJobs(n.prefix)).filter((j) => j.name.startsWith('copy-chunk'));

      // The restore's jobs go to the same worker, beside the held chunk, and finish while it waits.
      const r = await cli(['restore', '--measurement', 'lost', '--config', file]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /600 values in the backup to restore/);
      assert.equal(plan.child.exitCode, null, 'the backup is still running');
      // The held chunk was in flight before the restore began and still is once it ended.
      const still = new Set((await activeJobs(n.prefix)).map((j) => j.id));
      assert.ok(
        copying.some((j) => still.has(j.id)),
        `a chunk of the backup in flight through the whole restore (then ${copying.map((j) => j.id).join(', ')}, now ${[...still].join(', ')})`,
      );

      proxy.release();
      const planned = await plan.exited;
      assert.equal(planned, 0, plan.output());
      // Neither followed the other's chunks: their claims are apart.
      assert.match(plan.output(), /\(0 already queued\)/);
      assert.match(r.stdout, /\(0 already queued\), 600 values to restore/);

      const src = client(source.port);
      const dst = client(backup.port);
      assert.deepEqual(await dump(src, n.src, 'lost'), lost, 'the restore is exact');
      const busy = await dump(src, n.src, 'busy');
      assert.equal(busy.points.length, 6000);
      assert.deepEqual(await dump(dst, n.dst, 'busy'), busy, 'the backup is exact');
      // The backup's checkpoints are each field's newest value; the restore added none.
      const marks = (await checkpoints(file)) as { measurement: string; field: string; checkpointNs: string }[];
      assert.deepEqual(marks.map((c) => [c.measurement, c.field, c.checkpointNs]).sort(), [
        ['busy', 'x', String(T + 2999n * 10_000_000_000n)],
        ['busy', 'y', String(T + 2999n * 10_000_000_000n)],
        ['lost', 'v', String(T + 299n * 60_000_000_000n)],
        ['lost', 'w', String(T + 299n * 60_000_000_000n)],
      ]);
    } finally {
      proxy.release();
      plan?.child.kill('SIGKILL');
      worker.child.kill('SIGTERM');
      await Promise.all([worker.exited, plan?.exited]);
      await proxy.close();
    }
  });

  test('a restore runs the backup engine: a group that fails for good (a type conflict in the source) splits, the healthy field comes back', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    await source.write(n.src, [0n, 1n, 2n].map((h) => `m,k=1 a=${h}i,b=${h}.5 ${T + h * HOUR}`).join('\n'));
    const file = config(n, measurement('m'));
    await ok(['run', '--config', file]);
    const a = (await dump(client(backup.port), n.dst, 'm')).points.filter((p) => (JSON.parse(p) as string[])[2] === 'a');
    await source.query(`DROP MEASUREMENT "m"`, n.src);
    // The source now holds b as a string in the same shard: the backup's floats cannot go back.
    await source.write(n.src, `m,k=2 b="text" ${T}`);
    const r = await cli(['restore', '--measurement', 'm', '--config', file]);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /FAILED in/);
    assert.match(r.stdout, /failed {5}m\.b .*field type conflict/);
    const after = await dump(client(source.port), n.src, 'm');
    assert.deepEqual(
      after.points.filter((p) => (JSON.parse(p) as string[])[2] === 'a'),
      a,
      'the healthy field is restored exactly',
    );
    const status = await cli(['status', '--config', file]);
    assert.match(status.stdout, /chunks failed for good[^]*\n  restore m\.b  .*field type conflict/);
    assert.match(status.stdout, /last restore:\n  restore-\S+ \(restore\): FAILED/);
  });

  test('a bare restore is a usage error naming --measurement and --all', async () => {
    const n = names();
    const file = config(n, measurement('m'));
    const r = await cli(['restore', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--measurement/);
    assert.match(r.stderr, /--all/);
    assert.equal(r.stdout, '');
    const both = await cli(['restore', '--all', '--measurement', 'm', '--config', file]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--measurement or --all, not both/);
    // A name the backup does not have is named, with exit 2, before anything is written.
    await source.query(`CREATE DATABASE "${n.src}"`);
    await backup.query(`CREATE DATABASE "${n.dst}"`);
    await backup.write(n.dst, `weather t=1 ${T}`);
    const wrong = await cli(['restore', '--measurement', 'wether', '--config', file]);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(
      wrong.stderr,
      /--measurement "wether": the backup database "rdst\d+" on 127\.0\.0\.1:\d+ has no such measurement \(did you mean "weather"\?\)/,
    );
  });
});
