// `verify --repair` end to end: real InfluxDB servers, real Redis, the real CLI and
// worker and planner processes. Late points that incremental runs skip, a value
// rewritten in place, values only in the backup, a Redis that lost every checkpoint,
// a scheduled check, and a worker killed mid-repair. What the backup was asked to
// write is counted from its own statistics (SHOW STATS).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, namer, pointsWritten, spawnCli, tempDir, testConfig, type TestNames } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let conn: Redis;
let dir: string;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  dir = tempDir('repair');
});
after(async () => {
  conn?.disconnect();
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

const names = namer('rp');
const H = 3_600_000_000_000n;
const MIN = 60_000_000_000n;
const T = BigInt(Date.parse('2024-06-01T00:00:00Z')) * 1_000_000n;
const MEASUREMENT = `    - name: "sensors"\n      start_time: "2024-06-01T00:00:00Z"\n      end_time: "2030-01-01T00:00:00Z"`;

/** A day of two fields every 5 minutes in two series: 24 one-hour chunks per field, 1,152 values. */
async function loadDay(n: TestNames): Promise<void> {
  await source.query(`CREATE DATABASE "${n.src}"`);
  const lines: string[] = [];
  for (let t = T; t < T + 24n * H; t += 5n * MIN)
    for (const site of ['a', 'b']) lines.push(`sensors,site=${site} temp=${Number((t - T) / MIN) / 8},hum=${(t - T) / MIN}i ${t}`);
  await source.write(n.src, lines.join('\n'));
}

function config(n: TestNames, extra = '', processing?: string): string {
  return testConfig(dir, { source, backup, redis }, n, MEASUREMENT, { extra, ...(processing ? { processing } : {}) });
}

/** The source's values of `field` in [from, to]. */
async function count(db: string, field: string, from: bigint, to: bigint, server = source): Promise<number> {
  const answer = (await server.query(`SELECT COUNT("${field}") FROM "sensors" WHERE time >= ${from} AND time <= ${to}`, db)) as {
    results: { series?: { values: number[][] }[] }[];
  };
  return Number(answer.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
}

async function assertExact(n: TestNames, measurement = 'sensors'): Promise<void> {
  const a = await dump(client(source.port), n.src, measurement);
  const b = await dump(client(backup.port), n.dst, measurement);
  assert.ok(a.points.length > 0);
  assert.deepEqual(b.types, a.types);
  assert.deepEqual(b.points, a.points);
}

/** Runs the CLI and returns how many points the backup was asked to write meanwhile. */
async function writes(args: string[], code = 0): Promise<{ wrote: number; stdout: string }> {
  const before = await pointsWritten(backup);
  const r = await cli(args);
  assert.equal(r.code, code, r.stdout + r.stderr);
  return { wrote: (await pointsWritten(backup)) - before, stdout: r.stdout };
}

interface Checkpoint {
  field: string;
  checkpointNs: string;
}
async function checkpoints(file: string): Promise<Checkpoint[]> {
  const r = await cli(['status', '--json', '--config', file]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { checkpoints: Checkpoint[] }).checkpoints.map(({ field, checkpointNs }) => ({ field, checkpointNs }));
}

describe('verify --repair', () => {
  test('late points into a series and a new series older than the checkpoint: verify exits 1, --repair copies only their chunks, exact', async () => {
    const n = names();
    await loadDay(n);
    const file = config(n);
    assert.equal((await cli(['run', '--config', file])).code, 0);
    const held = await checkpoints(file);
    // A sensor that was offline uploads late: into an existing series, and a series the backup never saw.
    await source.write(
      n.src,
      [`sensors,site=a temp=99.5 ${T + 5n * H + 1n}`, `sensors,site=late temp=1.5,hum=7i ${T + 20n * H + 2n}`].join('\n'),
    );
    const incremental = await writes(['run', '--config', file]);
    // It reads from each checkpoint on (the values at it again, overlap 0s): the late points are older.
    assert.match(incremental.stdout, /2 chunks \(0 already queued\), 4 values to copy/);
    const v = await cli(['verify', '--config', file]);
    assert.equal(v.code, 1, v.stdout + v.stderr);

    const repair = await writes(['verify', '--repair', '--config', file]);
    // temp in hours 5 and 20, hum in hour 20: three grid chunks, each copied whole, nothing else.
    const expected =
      (await count(n.src, 'temp', T + 5n * H, T + 6n * H - 1n)) +
      (await count(n.src, 'temp', T + 20n * H, T + 21n * H - 1n)) +
      (await count(n.src, 'hum', T + 20n * H, T + 21n * H - 1n));
    assert.equal(repair.wrote, expected, repair.stdout);
    assert.match(repair.stdout, /sensors\.temp +24 +2 +2 +0 +REPAIR/);
    assert.match(repair.stdout, /sensors\.hum +24 +1 +1 +0 +REPAIR/);
    assert.match(repair.stdout, /3 chunks \(0 already queued\)/);
    assert.match(repair.stdout, /2 fields hold every value of the source in range/);
    await assertExact(n);
    assert.equal((await cli(['verify', '--deep', '--config', file])).code, 0);
    assert.deepEqual(await checkpoints(file), held, 'the checkpoints did not move back for values older than them');

    // The check is recorded per field, for status and the dashboard.
    const status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as {
      verifications: { field: string; compared: number; different: number; copied: number; stillMissing: number; ok: boolean }[];
      repairTotalsBySource: { compared: number; different: number; repaired: number }[];
    };
    assert.deepEqual(
      status.verifications.map((c) => [c.field, c.compared, c.different, c.stillMissing, c.ok]),
      [
        ['hum', 24, 1, 0, true],
        ['temp', 24, 2, 0, true],
      ],
    );
    assert.deepEqual(status.repairTotalsBySource[0], { source: n.src, compared: 48, different: 3, repaired: expected });
    const text = (await cli(['status', '--config', file])).stdout;
    assert.match(text, /^last checks \(verify --repair, scheduled checks\):$/m);
    assert.match(text, /sensors\.temp +\S+ +24 +2 +\d+ +0 +repaired 2 chunks$/m);
  });

  test('--deep --repair mends a value rewritten at the same time, which counts alone cannot see', async () => {
    const n = names();
    await loadDay(n);
    const file = config(n);
    assert.equal((await cli(['run', '--config', file])).code, 0);
    await backup.write(n.dst, `sensors,site=b temp=-273.15 ${T + 9n * H + 10n * MIN}`);
    const shallow = await writes(['verify', '--repair', '--config', file]);
    assert.equal(shallow.wrote, 0, 'counts alike: nothing to copy');
    const deep = await writes(['verify', '--deep', '--repair', '--config', file]);
    assert.equal(deep.wrote, await count(n.src, 'temp', T + 9n * H, T + 10n * H - 1n), deep.stdout);
    assert.match(deep.stdout, /sensors,site=b 2024-06-01T09:10:00Z: source 68\.75, backup -273\.15/);
    assert.match(deep.stdout, /sensors\.temp +24 +1 +0 +0 +1 +REPAIR/);
    await assertExact(n);
  });

  test('values only in the backup stay and are reported; they cause no copy, at this check or the next', async () => {
    const n = names();
    await loadDay(n);
    const file = config(n);
    assert.equal((await cli(['run', '--config', file])).code, 0);
    // A series the source has since lost, in hours 3 and 6; in hour 6 the backup also lacks a point of the source.
    await backup.write(n.dst, [3n, 6n, 6n].map((h, i) => `sensors,site=gone temp=${i}.5 ${T + h * H + BigInt(i) * MIN + 7n}`).join('\n'));
    await backup.query(`DELETE FROM "sensors" WHERE "site" = 'a' AND time = ${T + 6n * H + 30n * MIN}`, n.dst);
    const first = await writes(['verify', '--repair', '--config', file]);
    // hour 6: the backup holds more temp values than the source, yet lacks one: read, found missing, copied.
    assert.equal(
      first.wrote,
      (await count(n.src, 'temp', T + 6n * H, T + 7n * H - 1n)) + (await count(n.src, 'hum', T + 6n * H, T + 7n * H - 1n)),
      first.stdout,
    );
    assert.match(first.stdout, /3 values only in the backup, kept/);
    assert.match(first.stdout, /sensors,site=gone 2024-06-01T03:00:00\.000000007Z: in the backup only \(backup 0\.5\): kept/);
    const second = await writes(['verify', '--repair', '--config', file]);
    assert.equal(second.wrote, 0, 'values only in the backup are no reason to copy again');
    assert.match(second.stdout, /nothing to copy again/);
    assert.match(second.stdout, /2 fields hold every value of the source in range \(3 values only in the backup, kept\)/);
    assert.equal(await count(n.dst, 'temp', T, T + 24n * H, backup), (await count(n.src, 'temp', T, T + 24n * H)) + 3, 'nothing deleted');
  });

  test('after FLUSHALL, --repair writes nothing and puts each checkpoint where the run had it; the next run copies only new data', async () => {
    const n = names();
    await loadDay(n);
    const file = config(n);
    assert.equal((await cli(['run', '--config', file])).code, 0);
    const held = await checkpoints(file);
    assert.equal(held.length, 2);
    await conn.flushall();
    assert.deepEqual(await checkpoints(file), []);
    const repair = await writes(['verify', '--repair', '--config', file]);
    assert.equal(repair.wrote, 0, repair.stdout);
    assert.match(repair.stdout, /nothing to copy again/);
    assert.deepEqual(await checkpoints(file), held, "each field's checkpoint where the run left it");

    const next = T + 24n * H;
    await source.write(n.src, [0n, 1n, 2n].map((i) => `sensors,site=a temp=${i}.25,hum=${i}i ${next + i * MIN}`).join('\n'));
    const run = await writes(['run', '--config', file]);
    // From each checkpoint on (overlap 0s: the value at the checkpoint itself is read again, as every run does).
    let expected = 0;
    for (const c of held) expected += await count(n.src, c.field, BigInt(c.checkpointNs), next + H);
    assert.equal(run.wrote, expected, run.stdout);
    assert.ok(run.wrote < 20, `${run.wrote} points: only the new ones, not the day`);
    await assertExact(n);
  });

  test('a scheduled daily_full_check tick is a repair pass (not a full copy) and repairs a late point', async () => {
    const n = names();
    await loadDay(n);
    const file = config(n, `scheduler:\n  enabled: true\n  jobs:\n    - { id: "daily_full_check", trigger: "cron", second: "*/3" }\n`);
    assert.equal((await cli(['run', '--config', file])).code, 0);
    await source.write(n.src, `sensors,site=late temp=3.75 ${T + 11n * H + 1n}`);
    const chunk = await count(n.src, 'temp', T + 11n * H, T + 12n * H - 1n);
    const before = await pointsWritten(backup);
    const worker = spawnCli(['worker', '--config', file]);
    const planner = spawnCli(['planner', '--config', file, '--log-level', 'INFO']);
    try {
      await waitFor(
        'the late point in the backup',
        async () => (await count(n.dst, 'temp', T + 11n * H + 1n, T + 11n * H + 1n, backup)) === 1,
        {
          timeoutMs: 60_000,
        },
      );
    } finally {
      planner.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
      assert.equal(await planner.exited, 0, planner.output());
      assert.equal(await worker.exited, 0, worker.output());
    }
    assert.match(planner.output(), /schedule daily_full_check: "\*\/3 \* \* \* \* \*" UTC, repair/);
    assert.match(
      planner.output(),
      /schedule daily_full_check: compared \d+ chunks of 2 fields; 1 differ, 1 repair chunks queued for the workers/,
    );
    const wrote = (await pointsWritten(backup)) - before;
    // A full copy would write all 1,152 values at each tick.
    assert.ok(wrote >= chunk && wrote <= 3 * chunk, `${wrote} points written, the repaired chunk holds ${chunk}`);
    await assertExact(n);
    const queue = new Queue('copy', { connection: conn, prefix: n.prefix });
    try {
      const names = (await queue.getJobs(['completed'])).map((j) => j.name);
      assert.ok(names.includes('repair-chunk'), names.join(', '));
    } finally {
      await queue.close();
    }
    const status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as {
      verifications: { field: string; at: string }[];
      repairTotalsBySource: { different: number; repaired: number }[];
    };
    assert.deepEqual(
      status.verifications.map((v) => v.field),
      ['hum', 'temp'],
    );
    assert.ok(status.repairTotalsBySource[0]!.different >= 1);
    assert.ok(status.repairTotalsBySource[0]!.repaired >= chunk);
  });

  test('--enqueue --wait with two workers, one killed with SIGKILL mid-repair: the other finishes, exit 0, the backup exact', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    // 4 series every 10 s for 6 hours: 1,440 values per field and hour.
    const lines: string[] = [];
    for (let t = T; t < T + 6n * H; t += 10_000_000_000n)
      for (const site of ['a', 'b', 'c', 'd'])
        lines.push(`sensors,site=${site} temp=${Number((t - T) / 1_000_000_000n) / 4},hum=${(t - T) / MIN}i ${t}`);
    while (lines.length > 0) await source.write(n.src, lines.splice(0, 5000).join('\n'));
    const file = config(n, '', 'max_workers: 2, batch_size: 50, batch_interval: 0.05');
    assert.equal((await cli(['run', '--config', file])).code, 0);
    // The backup loses hours 1 to 4 of both fields: 8 chunks to copy again, each slow enough to be caught mid-way.
    await backup.query(`DELETE FROM "sensors" WHERE time >= ${T + H} AND time < ${T + 5n * H}`, n.dst);
    const queue = new Queue('copy', { connection: conn, prefix: n.prefix });
    const workers = [spawnCli(['worker', '--config', file]), spawnCli(['worker', '--config', file])];
    try {
      const repair = spawnCli(['verify', '--repair', '--enqueue', '--wait', '--config', file]);
      const victim = workers[0]!;
      const victimId = await waitFor('the first worker to register', async () => {
        const all = await conn.hgetall(`${n.prefix}:state:workers`);
        return Object.entries(all).find(([, seen]) => (JSON.parse(seen) as { pid: number }).pid === victim.child.pid)?.[0];
      });
      const killed = await waitFor(
        'a repair chunk half copied by the first worker',
        async () => {
          for (const job of await queue.getJobs(['active'])) {
            const values = (job.progress as { values?: number } | undefined)?.values ?? 0;
            if (job.name.startsWith('repair-chunk') && values > 0 && job.processedBy === victimId) return job.id;
          }
          return undefined;
        },
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      victim.child.kill('SIGKILL');
      assert.equal(await victim.exited, 'SIGKILL');
      assert.equal(await repair.exited, 0, repair.output());
      assert.match(repair.output(), /8 chunks \(0 already queued\)/);
      assert.match(repair.output(), /8 \(8 done, 0 failed\)/);
      assert.match(repair.output(), /2 fields hold every value of the source in range/);
      const finished = await queue.getJob(killed ?? '');
      assert.equal(await finished?.getState(), 'completed');
      assert.notEqual(finished?.processedBy, victimId, 'the surviving worker finished the killed chunk');
      await assertExact(n);
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await queue.close();
    }
  });

  test('what no copy can mend (a type conflict in the backup) exits 1, naming the field and the chunks still missing', async () => {
    const n = names();
    await loadDay(n);
    // The backup holds temp as an integer in the day's shard: every copy of temp there is refused.
    await backup.query(`CREATE DATABASE "${n.dst}"`);
    await backup.write(n.dst, `sensors,site=x temp=5i ${T + 30n * MIN + 3n}`);
    const file = config(n);
    assert.equal((await cli(['run', '--config', file])).code, 1);
    const r = await cli(['verify', '--repair', '--json', '--config', file]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      fields: { field: string; backupTypes: string[]; different: number; stillMissing: number; still: { start: string }[]; ok: boolean }[];
    };
    assert.equal(report.ok, false);
    const temp = report.fields.find((f) => f.field === 'temp');
    assert.deepEqual(temp?.backupTypes, ['integer']);
    assert.equal(temp?.different, 24);
    // From counts: hour 0 holds the backup's own integer, so at least 23 of its 24 are missing.
    assert.equal(temp?.stillMissing, (await count(n.src, 'temp', T, T + 24n * H)) - 1);
    assert.equal(temp?.still[0]?.start, '2024-06-01T00:00:00Z');
    assert.equal(temp?.ok, false);
    assert.equal(report.fields.find((f) => f.field === 'hum')?.ok, true);
    const text = await cli(['verify', '--repair', '--config', file]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /type conflict: autogen sensors\.temp is integer in the backup/);
    assert.match(text.stdout, /still missing: autogen sensors\.temp 2024-06-01T00:00:00Z \.\. 2024-06-01T00:59:59\.999999999Z: 23 values/);
    assert.match(text.stdout, /verify --repair: 1 of 2 fields still differs/);
    // Counts cannot vouch for a field the backup holds with another type: its checkpoint does not move.
    assert.deepEqual(
      (await checkpoints(file)).map((c) => c.field),
      ['hum'],
    );
  });

  test('bad usage: --enqueue without --repair, --wait without --enqueue', async () => {
    const n = names();
    const file = config(n);
    for (const [args, flag] of [
      [['--enqueue'], /--enqueue .*--repair/],
      [['--repair', '--wait'], /--wait .*--enqueue/],
      [['--repair', '--start-time', 'yesterday'], /--start-time/],
    ] as const) {
      const r = await cli(['verify', ...args, '--config', file]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, flag);
    }
  });
});
