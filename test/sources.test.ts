// Several sources at once (databases.sources), end to end with the real CLI: two
// source servers, one of them with two configured databases (three sources), one
// backup server, one Redis. Each source is copied exactly into its own backup
// database; a source stopped mid-run fails only its own chunks; --source selects.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '@influx-backup/config';
import type { Logger } from '@influx-backup/core';
import { createMetricsRegistry } from '@influx-backup/dashboard';
import { escapeMeasurement } from '@influx-backup/influx';
import type { MetricsBlock } from '@influx-backup/monitoring';
import { collectStatus, createRuntime } from '@influx-backup/runtime';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, ROOT, spawnCli, tempDir, testConfig, writeConfig, y } from './helpers.js';
import { formQuery, pausingProxy, type PausingProxy } from './proxy.js';

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
function rig({
  extra = '',
  firstB = false,
  defaultTwo = false,
  batch = 'batch_size: 50, batch_interval: 0',
  bPort = serverB.port,
}: { extra?: string; firstB?: boolean; defaultTwo?: boolean; batch?: string; bPort?: number } = {}): Rig {
  n++;
  const dbs = { a_iot: `a_iot${n}`, a_two: defaultTwo ? `${HOSTILE_DB}_backup` : `a two ${n}`, b_iot: `b_iot${n}` };
  const to =
    'measurements:\n        - name: ' +
    y(HOSTILE_M) +
    '\n          start_time: "2024-05-01T00:00:00Z"\n          end_time: "2024-05-03T00:00:00Z"';
  const a = [
    `    - name: "a_iot"\n      host: "127.0.0.1"\n      port: ${serverA.port}\n      database: "iot"\n      backup_database: ${y(dbs.a_iot)}\n      retries: 0\n      timeout: 5`,
    `    - name: "a_two"\n      host: "127.0.0.1"\n      port: ${serverA.port}\n      database: ${y(HOSTILE_DB)}\n${defaultTwo ? '' : `      backup_database: ${y(dbs.a_two)}\n`}      measurements:\n        - name: "power m=1"\n          start_time: "2024-05-01T00:00:00Z"\n          end_time: "2024-05-03T00:00:00Z"`,
  ];
  const b = `    - name: "b_iot"\n      host: "127.0.0.1"\n      port: ${bPort}\n      database: "iot"\n      backup_database: ${y(dbs.b_iot)}\n      retries: 0\n      timeout: 2\n      ${to}`;
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

/** Values in a backup database's measurement; 0 when the database is not there (any other error fails). */
async function backedUp(db: string, measurement: string): Promise<number> {
  if (!(await backupDatabases()).includes(db)) return 0;
  return (await dump(client(backup.port), db, measurement)).points.length;
}

interface TotalsRow {
  source: string;
  values: number;
  done: number;
  failed: number;
  retried: number;
}

interface StatusJson {
  totals: Omit<TotalsRow, 'source'>;
  totalsBySource: TotalsRow[];
  metrics: MetricsBlock;
  metricsBySource: Record<string, MetricsBlock>;
}

async function statusJson(file: string, ...args: string[]): Promise<StatusJson> {
  const status = await cli(['status', '--json', ...args, '--config', file]);
  assert.equal(status.code, 0, status.stderr);
  return JSON.parse(status.stdout) as StatusJson;
}

/** /metrics as the dashboard serves it, from a runtime of this configuration. */
async function scrape(file: string): Promise<string> {
  const quiet: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    child: () => quiet,
  };
  const rt = createRuntime(loadConfig({ file, cwd: ROOT }), quiet);
  try {
    return await createMetricsRegistry(() => collectStatus(rt), { defaultMetrics: false }).metrics();
  } finally {
    await rt.close();
  }
}

/** `fn` with a long-running `worker` of the configuration beside it, stopped (SIGTERM) after. */
async function withWorker<T>(r: Rig, fn: () => Promise<T>): Promise<T> {
  const worker = spawnCli(['worker', '--config', r.file]);
  try {
    return await fn();
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
}

/**
 * Server B goes away mid-copy, whatever the machine's speed. To be called before the
 * copy starts (it arms the proxy at once); B is reached through `proxy`, which holds all of B's traffic from the first
 * read of a chunk at hour 20 or later: B's chunks are queued first, in order, and taken
 * 3 at once, so by then most earlier ones are done and that one is not. Then server B
 * stops and the proxy refuses connections, as a stopped server does. Resolves then.
 */
async function stopBMidCopy(proxy: PausingProxy): Promise<void> {
  const late = T0 + 20n * 60n * MIN;
  let held = false;
  void proxy
    .holdWhen((sent) => {
      const read = /^SELECT .* WHERE time >= (-?\d+) AND time <= -?\d+ GROUP BY \*$/.exec(formQuery(sent));
      return read !== null && BigInt(read[1]!) >= late;
    })
    .then(() => (held = true));
  await waitFor('a late chunk of source B read', () => held, { timeoutMs: 60_000 });
  await serverB.stop();
  await proxy.close();
}

/** Values and chunks of each source's data in the rig's range (max_values 1: a chunk per hour and field). */
const A_IOT = { values: 180 * 3, chunks: 3 * 3 };
const A_TWO = { values: 180 * 2, chunks: 3 * 2 };
const B_IOT = { values: B_HOURS * B_PER_HOUR * 2, chunks: B_HOURS * 2 };

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
    assert.deepEqual(
      report.sources.map((s) => [s.name, s.checkpoints]),
      [
        ['a_iot', 3],
        ['a_two', 2],
        ['b_iot', 2],
      ],
    );
    assert.equal(report.lastRun.ok, true);
    assert.deepEqual(
      report.lastRun.sources.map((s) => s.source),
      ['a_iot', 'a_two', 'b_iot'],
    );
    assert.equal(report.lastRun.sources.find((s) => s.source === 'b_iot')?.completed, B_HOURS * 2, 'a chunk per hour and field');
    const text = await cli(['status', '--config', r.file]);
    assert.match(text.stdout, /^ {2}source {2}.*server/m);
    assert.match(text.stdout, /^ {2}a_two +autogen +power m=1\.watts/m);
    assert.ok(
      text.stdout.indexOf('  a_iot   autogen') < text.stdout.indexOf('  b_iot   autogen'),
      'checkpoints in the order of the sources',
    );

    // verify compares each source with its own backup database.
    const verify = await cli(['verify', '--deep', '--config', r.file]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /verify: 7 fields identical value by value/);
    assert.match(verify.stdout, /^b_iot +autogen +we"ird/m);

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
    assert.equal(await backedUp(r.dbs.a_iot, HOSTILE_M), 0, 'a_iot not copied');

    const ok = await cli(['verify', '--source', 'b_iot', '--config', r.file]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /verify: 2 fields identical/);
    assert.doesNotMatch(ok.stdout, /a_iot|a_two/);
    // a_iot was not copied: its backup database is there but empty.
    await backup.query(`CREATE DATABASE "${r.dbs.a_iot}"`);
    const differs = await cli(['verify', '--source', 'a_iot', '--config', r.file]);
    assert.equal(differs.code, 1, differs.stdout + differs.stderr);
    assert.match(differs.stdout, /^a_iot +autogen .* DIFFERENT$/m);

    const status = await cli(['status', '--json', '--source', 'b_iot', '--config', r.file]);
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout) as { sources: { name: string }[]; checkpoints: { sourceName: string }[] };
    assert.deepEqual(
      report.sources.map((s) => s.name),
      ['b_iot'],
    );
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
    assert.match(
      unknown.stderr,
      /--source "b_iotx" is not a configured source \(did you mean "b_iot"\?\); the sources: a_iot, a_two, b_iot/,
    );
  });

  test('verify --repair --source repairs only that source, names it on every field, and counts its repair under its name', async () => {
    const r = rig();
    assert.equal((await cli(['run', '--config', r.file])).code, 0);
    // a_iot's backup loses its second hour; b_iot's loses one value, which this repair is not asked to see.
    await backup.query(
      `DELETE FROM ${JSON.stringify(HOSTILE_M)} WHERE time >= ${T0 + 60n * MIN} AND time < ${T0 + 120n * MIN}`,
      r.dbs.a_iot,
    );
    await backup.query(`DELETE FROM ${JSON.stringify(HOSTILE_M)} WHERE time = ${T0}`, r.dbs.b_iot);
    const repair = await cli(['verify', '--repair', '--source', 'a_iot', '--config', r.file]);
    assert.equal(repair.code, 0, repair.stdout + repair.stderr);
    assert.match(repair.stdout, /^a_iot autogen .*\.temp +3 +1 +60 +0 +REPAIR$/m);
    assert.doesNotMatch(repair.stdout, /a_two|b_iot/);
    await assertExact(serverA, 'iot', r.dbs.a_iot, HOSTILE_M);
    assert.equal(await backedUp(r.dbs.b_iot, HOSTILE_M), B_HOURS * B_PER_HOUR * 2 - 2, 'b_iot left as it was');
    const status = (await cli(['status', '--json', '--config', r.file])).stdout;
    const report = JSON.parse(status) as {
      verifications: { sourceName: string }[];
      repairTotalsBySource: { source: string; different: number }[];
    };
    assert.ok(report.verifications.length === 3 && report.verifications.every((v) => v.sourceName === 'a_iot'));
    assert.deepEqual(
      report.repairTotalsBySource.map((t) => [t.source, t.different]),
      [
        ['a_iot', 3],
        ['a_two', 0],
        ['b_iot', 0],
      ],
    );
  });

  test('plan --wait --source copies only that source; after a run of two more, /metrics counts by source and status has a metrics block per source', async () => {
    const r = rig();
    const plan = await withWorker(r, () => cli(['plan', '--wait', '--source', 'a_two', '--config', r.file]));
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /^plan-\S+\.a_two: /m);
    assert.doesNotMatch(plan.stdout, /\.a_iot|\.b_iot/);
    assert.equal(await assertExact(serverA, HOSTILE_DB, r.dbs.a_two, 'power m=1'), A_TWO.values);
    assert.equal(await backedUp(r.dbs.a_iot, HOSTILE_M), 0, 'a_iot not copied');
    assert.equal(await backedUp(r.dbs.b_iot, HOSTILE_M), 0, 'b_iot not copied');

    const planned = await statusJson(r.file);
    assert.deepEqual(planned.totalsBySource, [
      { source: 'a_iot', values: 0, done: 0, failed: 0, retried: 0 },
      { source: 'a_two', values: A_TWO.values, done: A_TWO.chunks, failed: 0, retried: 0 },
      { source: 'b_iot', values: 0, done: 0, failed: 0, retried: 0 },
    ]);
    assert.deepEqual(Object.keys(planned.metricsBySource), ['a_iot', 'a_two', 'b_iot']);
    assert.equal(planned.metricsBySource.a_iot?.run, null);
    assert.match(planned.metricsBySource.a_two?.run ?? '', /^plan-\S+\.a_two$/);

    // One run of the two others: each source's counters and block are its own.
    const run = await cli(['run', '--source', 'a_iot', '--source', 'b_iot', '--config', r.file]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    await assertExact(serverA, 'iot', r.dbs.a_iot, HOSTILE_M);
    await assertExact(serverB, 'iot', r.dbs.b_iot, HOSTILE_M);
    const report = await statusJson(r.file);
    const expected = [
      { source: 'a_iot', values: A_IOT.values, done: A_IOT.chunks, failed: 0, retried: 0 },
      { source: 'a_two', values: A_TWO.values, done: A_TWO.chunks, failed: 0, retried: 0 },
      { source: 'b_iot', values: B_IOT.values, done: B_IOT.chunks, failed: 0, retried: 0 },
    ];
    assert.deepEqual(report.totalsBySource, expected);
    assert.deepEqual(report.totals, {
      values: A_IOT.values + A_TWO.values + B_IOT.values,
      done: A_IOT.chunks + A_TWO.chunks + B_IOT.chunks,
      failed: 0,
      retried: 0,
    });
    const blocks = report.metricsBySource;
    const pass = /^(run-\S+)\.a_iot$/.exec(blocks.a_iot?.run ?? '')?.[1];
    assert.ok(pass, JSON.stringify(blocks));
    assert.equal(blocks.b_iot?.run, `${pass}.b_iot`, 'both from the one pass');
    assert.equal(blocks.a_two?.run, planned.metricsBySource.a_two?.run, "a_two's newest run is still the plan's");
    for (const name of ['a_iot', 'a_two', 'b_iot']) {
      assert.deepEqual(blocks[name]?.quality, { error_rate: 0, retry_count: 0, success_rate: 1 }, name);
      assert.deepEqual([blocks[name]?.progress.measurements_completed, blocks[name]?.progress.measurements_total], [1, 1], name);
    }
    assert.ok(blocks.b_iot.performance.records_per_second > 0);
    // metrics stays the newest run's, whichever source's.
    assert.ok([blocks.a_iot?.run, blocks.b_iot?.run].includes(report.metrics.run), report.metrics.run ?? 'null');

    const text = await scrape(r.file);
    for (const [i, name] of ['a_iot', 'a_two', 'b_iot'].entries()) {
      assert.match(text, new RegExp(`^influx_backup_values_copied_total\\{source="${name}"\\} ${expected[i]!.values}$`, 'm'));
      assert.match(text, new RegExp(`^influx_backup_chunks_done_total\\{source="${name}"\\} ${expected[i]!.done}$`, 'm'));
      assert.match(text, new RegExp(`^influx_backup_chunks_failed_total\\{source="${name}"\\} 0$`, 'm'));
      assert.match(text, new RegExp(`^influx_backup_chunk_retries_total\\{source="${name}"\\} 0$`, 'm'));
    }
    assert.doesNotMatch(text, /^influx_backup_values_copied_total(\{source=""\})? /m, 'nothing counted outside the sources');

    // Plain status: a line per source; --source narrows it, and the JSON too.
    const plain = await cli(['status', '--config', r.file]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^metrics by source \(all sources: 0 chunks copying, 0 waiting, workers \d+ MB\):$/m);
    for (const name of ['a_iot', 'a_two', 'b_iot']) {
      assert.match(
        plain.stdout,
        new RegExp(
          `^ {2}${name} +(plan|run)-\\S+\\.${name}: [\\d,]+ values/s, error rate 0, 0 retries, measurements 1/1, ends \\S+Z$`,
          'm',
        ),
      );
    }
    const one = await cli(['status', '--source', 'b_iot', '--config', r.file]);
    assert.match(one.stdout, /^ {2}b_iot +run-\S+\.b_iot: /m);
    assert.doesNotMatch(one.stdout, /^ {2}a_(iot|two) +run-/m);
    const narrowed = await statusJson(r.file, '--source', 'b_iot');
    assert.deepEqual(Object.keys(narrowed.metricsBySource), ['b_iot']);
    assert.deepEqual(narrowed.totalsBySource, [expected[2]]);
    assert.deepEqual(narrowed.totals, report.totals, "totals stay the installation's");
  });

  test('plan --wait with one source stopped mid-run exits 1 naming it; the others are copied exactly; its failures and retries are counted under its name', async () => {
    const proxy = await pausingProxy(serverB.port);
    const r = rig({ firstB: true, bPort: proxy.port });
    let stopped = false;
    try {
      const out = await withWorker(r, async () => {
        const stop = stopBMidCopy(proxy);
        const plan = spawnCli(['plan', '--wait', '--config', r.file]);
        try {
          await stop;
          stopped = true;
          const code = await plan.exited;
          assert.equal(code, 1, plan.output());
          return plan.output();
        } finally {
          plan.child.kill('SIGKILL');
        }
      });
      assert.match(out, /source b_iot FAILED: \d+ chunks? failed for good/);
      assert.match(out, /^ {2}source {5}a_iot: done/m);
      assert.match(out, /^ {2}source {5}a_two: done/m);
      assert.doesNotMatch(out, /source a_(iot|two) FAILED/);
      assert.equal(await assertExact(serverA, 'iot', r.dbs.a_iot, HOSTILE_M), A_IOT.values);
      assert.equal(await assertExact(serverA, HOSTILE_DB, r.dbs.a_two, 'power m=1'), A_TWO.values);
      const partial = await backedUp(r.dbs.b_iot, HOSTILE_M);
      assert.ok(partial > 0 && partial < B_IOT.values, `source B was stopped mid-run (${partial} values copied)`);

      const report = await statusJson(r.file);
      const by = new Map(report.totalsBySource.map((t) => [t.source, t]));
      assert.deepEqual(by.get('a_iot'), { source: 'a_iot', values: A_IOT.values, done: A_IOT.chunks, failed: 0, retried: 0 });
      assert.deepEqual(by.get('a_two'), { source: 'a_two', values: A_TWO.values, done: A_TWO.chunks, failed: 0, retried: 0 });
      const b = by.get('b_iot')!;
      // A done chunk counts its hour's values; one cut off mid-chunk may have written some it does not count.
      assert.equal(b.values, b.done * B_PER_HOUR, JSON.stringify(b));
      assert.ok(b.done > 0 && b.values <= partial, `${b.values} counted, ${partial} in the backup`);
      assert.ok(b.failed > 0 && b.retried > 0, JSON.stringify(b));
      assert.equal(b.done + b.failed, B_IOT.chunks, 'every chunk of b_iot finished, done or failed');
      assert.ok(report.metricsBySource.b_iot!.quality.error_rate > 0);
      assert.equal(report.metricsBySource.a_iot!.quality.error_rate, 0);
    } finally {
      if (stopped) await serverB.start();
      await proxy.close();
    }
  });

  test('backfill --source enqueues only the chunks of that source', async () => {
    const r = rig();
    const backfill = await cli([
      'backfill',
      '--source',
      'b_iot',
      '--measurement',
      HOSTILE_M,
      '--start-time',
      '2024-05-01T00:00:00Z',
      '--end-time',
      '2024-05-01T09:59:59Z',
      '--config',
      r.file,
    ]);
    assert.equal(backfill.code, 0, backfill.stdout + backfill.stderr);
    assert.match(backfill.stdout, /^backfill-\S+\.b_iot: 2 fields, 20 chunks/m);
    assert.doesNotMatch(backfill.stdout, /\.a_iot|\.a_two/);
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('copy', { connection: conn, prefix: r.prefix });
    try {
      const waiting = await queue.getJobs(['waiting', 'prioritized', 'delayed'], 0, -1);
      // An hour per chunk and field over ten hours: a_iot has the measurement too, and none of its chunks is queued.
      assert.equal(waiting.length, 20);
      assert.deepEqual([...new Set(waiting.map((j) => j.name))], ['backfill-chunk b_iot']);
    } finally {
      await queue.close();
      conn.disconnect();
    }
  });

  test('config --check with several sources prints each source, masks every password and checks each server', async () => {
    const r = rig();
    const text = (await import('node:fs')).readFileSync(r.file, 'utf8');
    const SECRET_A = 'pa55-from-env-Zq7';
    const SECRET_B = 'literal-pa55-Kx9';
    const SECRET_BACKUP = 'backup-pa55-Wm3';
    const file = writeConfig(
      dir,
      `secrets${n}.yaml`,
      text
        .replace(
          'database: "iot"\n      backup_database',
          'database: "iot"\n      username: "reader_a"\n      password: "${SOURCE_A_PASSWORD}"\n      backup_database',
        )
        .replace(`port: ${serverB.port}\n`, `port: ${serverB.port}\n      username: "reader_b"\n      password: ${y(SECRET_B)}\n`)
        .replace(`port: ${backup.port}, `, `port: ${backup.port}, username: "writer", password: "\${BACKUP_PASSWORD}", `),
    );
    const check = await cli(['config', '--check', '--print', '--config', file], {
      env: { SOURCE_A_PASSWORD: SECRET_A, BACKUP_PASSWORD: SECRET_BACKUP },
    });
    const all = check.stdout + check.stderr;
    assert.equal(check.code, 0, all);
    for (const secret of [SECRET_A, SECRET_B, SECRET_BACKUP]) assert.ok(!all.includes(secret), `a password was printed:\n${all}`);
    for (const name of ['a_iot', 'a_two', 'b_iot']) assert.match(check.stdout, new RegExp(`^ {4}- name: ${name}$`, 'm'));
    assert.match(check.stdout, /^ {6}username: reader_a\n {6}password: "\*{8}"$/m);
    assert.match(check.stdout, /^ {6}username: reader_b\n {6}password: "\*{8}"$/m);
    assert.match(check.stdout, /^ {4}username: writer\n {4}password: "\*{8}"$/m);
    // a_two is given no username: the check says so rather than "credentials accepted".
    for (const [name, server, who] of [
      ['a_iot', serverA, 'credentials accepted'],
      ['a_two', serverA, 'no credentials configured \\(databases\\.sources\\[1\\]\\.username\\)'],
      ['b_iot', serverB, 'credentials accepted'],
    ] as const) {
      assert.match(
        check.stdout,
        new RegExp(`^ok +source "${name}" InfluxDB 127\\.0\\.0\\.1:${server.port} +InfluxDB \\S+, ${who}; database `, 'm'),
      );
    }
    assert.match(check.stdout, /^ok +backup InfluxDB 127\.0\.0\.1:\d+ /m);
    // The verdict first, the configuration after it.
    assert.ok(check.stdout.indexOf('every server answered') < check.stdout.indexOf('databases:'), check.stdout);
  });

  test('a source stopped mid-run fails only its own chunks: the others finish exactly, the run exits 1 naming it, the next run copies its rest', async () => {
    // B's chunks are queued first, so B stops with many of them left and the others' chunks behind them.
    const proxy = await pausingProxy(serverB.port);
    const r = rig({ firstB: true, bPort: proxy.port });
    const stop = stopBMidCopy(proxy);
    const run = spawnCli(['run', '--config', r.file]);
    let stopped = false;
    try {
      await stop;
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
      const partial = await backedUp(r.dbs.b_iot, HOSTILE_M);
      assert.ok(partial > 0 && partial < B_IOT.values, `source B was stopped mid-run (${partial} values copied)`);

      // With B down from the start, the run still copies the others and exits 1 naming B.
      const down = await cli(['run', '--config', r.file]);
      assert.equal(down.code, 1, down.stdout + down.stderr);
      assert.match(
        down.stderr,
        /source b_iot FAILED: .*source "b_iot" InfluxDB 127\.0\.0\.1:\d+: connection refused \(check databases\.sources\[0\]\.host and databases\.sources\[0\]\.port\)/,
      );
      assert.match(down.stdout, /\.a_iot: /);

      await serverB.start();
      await proxy.reopen();
      stopped = false;
      const rest = await cli(['run', '--config', r.file]);
      assert.equal(rest.code, 0, rest.stdout + rest.stderr);
      assert.match(rest.stdout, /\.b_iot: [1-9]/);
      // The others start again at their checkpoints: one chunk per field, its newest value.
      assert.match(rest.stdout, /\.a_iot: 3 fields, 3 chunks \(0 already queued\), 3 values/);
      await assertExact(serverB, 'iot', r.dbs.b_iot, HOSTILE_M);
    } finally {
      run.child.kill('SIGKILL');
      if (stopped) await serverB.start();
      await proxy.close();
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
    const clash = writeConfig(
      dir,
      `clash${n}.yaml`,
      text.replace(`backup_database: ${y(r.dbs.b_iot)}`, `backup_database: ${y(r.dbs.a_iot)}`),
    );
    const b = await cli(['config', '--config', clash]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /databases\.sources\[2\]\.backup_database/);
    assert.match(
      b.stderr,
      /is also the backup database of databases\.sources\[0\] \("a_iot"\): databases\.sources\[0\] \("a_iot"\) and databases\.sources\[2\] \("b_iot"\)/,
    );
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
    // Totals as an earlier version kept them: one set for the installation.
    const before = { values: 1000, done: 5, failed: 1, retried: 2 };
    try {
      await conn.hset(`${prefix}:state:checkpoints`, legacy, checkpointNs.toString());
      await conn.hset(`${prefix}:state:totals`, before);
      const run = await cli(['run', '--config', file]);
      assert.equal(run.code, 0, run.stderr + run.stdout);
      assert.match(run.stdout, /^run-\d{8}-\d{6}-\d+: 1 field, \d+ chunks?/m, 'one run, named as before');
      assert.doesNotMatch(run.stdout, /source /);
      const copied = await dump(client(backup.port), dst, HOSTILE_M);
      // Only the values from the checkpoint on: 01:59 .. 02:59 (minute 119 to 179).
      assert.equal(copied.points.length, 61);
      assert.ok(copied.points.every((p) => BigInt((JSON.parse(p) as string[])[3]!) >= checkpointNs));
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
      const status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as {
        sources: { name: string }[];
        lastRun: { run?: string; sources?: unknown };
      };
      assert.deepEqual(
        status.sources.map((s) => s.name),
        ['iot'],
      );
      assert.equal(typeof status.lastRun.run, 'string');
      assert.equal(status.lastRun.sources, undefined);

      // The earlier totals stay apart under source "" (the unlabelled series they were); this run's are the source's.
      const { totals, totalsBySource } = await statusJson(file);
      const chunks = Number(/^ {2}chunks +(\d+) /m.exec(run.stdout)?.[1]);
      assert.deepEqual(totalsBySource, [
        { source: 'iot', values: 61, done: chunks, failed: 0, retried: 0 },
        { source: '', ...before },
      ]);
      assert.deepEqual(totals, { values: 1061, done: chunks + 5, failed: 1, retried: 2 });
      const text = await scrape(file);
      assert.match(text, /^influx_backup_values_copied_total\{source="iot"\} 61$/m);
      assert.match(text, /^influx_backup_values_copied_total\{source=""\} 1000$/m);
      assert.match(text, /^influx_backup_chunk_retries_total\{source=""\} 2$/m);
    } finally {
      conn.disconnect();
    }
  });
});
