// `influx-backup run` end to end: real InfluxDB servers, real Redis, the real CLI.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, column, dump, HOSTILE_LINES, HOSTILE_M, namer, spawnCli, tempDir, testConfig, y, type TestNames } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let dir: string;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  dir = tempDir('run');
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

/** A fresh source database, backup database and Redis prefix for one test. */
const names = namer();

function config(n: TestNames, measurements: string, extra = ''): string {
  return testConfig(dir, { source, backup, redis }, n, measurements, { extra });
}

describe('influx-backup run', () => {
  test('copies hostile names, int64 extremes, ns and pre-1970 times, strings, booleans exactly; a name written as a statement runs none', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    // A measurement named like a statement that drops the source database, which also
    // exists on the backup server, holding a point of its own: were the name ever part
    // of a statement on either server, that database would be gone there.
    const injection = `x"; DROP DATABASE "${n.src}`;
    await backup.query(`CREATE DATABASE "${n.src}"`);
    await backup.write(n.src, 'victim v=1i 1700000000000000000');
    const lines = [...HOSTILE_LINES, `x";\\ DROP\\ DATABASE\\ "${n.src} value=1i 1700000000000000000`];
    await source.write(n.src, lines.join('\n'));
    const file = config(
      n,
      `    - name: ${y(HOSTILE_M)}
      start_time: "1960-01-01T00:00:00Z"
      end_time: "2030-01-01T00:00:00Z"
    - name: ${y(injection)}
      start_time: "1960-01-01T00:00:00Z"
      end_time: "2030-01-01T00:00:00Z"`,
    );
    const r = await cli(['run', '--config', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /done in/);
    const src = client(source.port);
    const dst = client(backup.port);
    for (const m of [HOSTILE_M, injection]) {
      const a = await dump(src, n.src, m);
      const b = await dump(dst, n.dst, m);
      assert.ok(a.points.length > 0, `source has data for ${m}`);
      assert.deepEqual(b.types, a.types, `field types of ${m}`);
      assert.deepEqual(b.points, a.points, `values of ${m}`);
    }
    assert.ok((await src.databases()).includes(n.src), 'the source database is still there');
    assert.equal((await dump(dst, n.src, 'victim')).points.length, 1, "the backup server's database of that name still holds its point");
    // The int64 extremes and 2^53 + 1 really are whole in the backup, each value on its own
    // (integers past 2^53 are read as decimal text); so are the ns and pre-1970 times.
    const all = (await dump(dst, n.dst, HOSTILE_M)).points;
    assert.deepEqual(column(all, 'f 1,x=y').sort(), ['"-9223372036854775807"', '"9223372036854775807"']);
    assert.deepEqual(column(all, 'big'), ['"9007199254740993"']);
    assert.deepEqual(column(all, 'b', 'time').sort(), ['-86400000000001', '0']);
    assert.ok(column(all, 'same', 'time').includes('1700000000123456789'));
  });

  test('start_time and end_time are inclusive; fields not configured stay out', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    const T = 1_700_000_000_000_000_000n;
    await source.write(
      n.src,
      [
        `m a=1,other=1 ${T - 1n}`,
        `m a=2,other=2 ${T}`,
        `m a=3,other=3 ${T + 3_600_000_000_000n}`, // exactly one chunk later: first value of chunk 2
        `m a=4,other=4 ${T + 7_200_000_000_000n}`,
        `m a=5,other=5 ${T + 7_200_000_000_001n}`,
      ].join('\n'),
    );
    const iso = (ns: bigint): string =>
      new Date(Number(ns / 1_000_000n)).toISOString().replace('Z', '') + String(ns % 1_000_000n).padStart(6, '0') + 'Z';
    const file = config(
      n,
      `    - name: "m"\n      fields: ["a"]\n      start_time: "${iso(T)}"\n      end_time: "${iso(T + 7_200_000_000_000n)}"`,
    );
    const r = await cli(['run', '--config', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const b = await dump(client(backup.port), n.dst, 'm');
    assert.deepEqual(Object.keys(b.types), ['a']);
    assert.deepEqual(
      b.points.map((p) => (JSON.parse(p) as string[])[3]),
      [T, T + 3_600_000_000_000n, T + 7_200_000_000_000n].map(String).sort(),
    );
  });

  test('field isolation: each field resumes from its own checkpoint (Irradiance 10:30, Temperature 15:45)', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
    await source.write(
      n.src,
      [
        `solar,panel=p1 Irradiance=100,Temperature=20 ${ns('2023-11-28T12:00:00Z')}`,
        `solar,panel=p1 Temperature=21 ${ns('2023-11-28T15:45:00Z')}`,
        `solar,panel=p1 Irradiance=300 ${ns('2023-12-01T10:30:00Z')}`,
      ].join('\n'),
    );
    const file = config(n, `    - name: "solar"\n      start_time: "2023-11-01T00:00:00Z"\n      end_time: "2023-12-31T00:00:00Z"`);
    let r = await cli(['run', '--config', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    // New Temperature values, older than Irradiance's last value: a shared
    // checkpoint would skip them.
    await source.write(
      n.src,
      [`solar,panel=p1 Temperature=22 ${ns('2023-11-29T08:00:00Z')}`, `solar,panel=p1 Temperature=23 ${ns('2023-11-30T09:00:00Z')}`].join(
        '\n',
      ),
    );
    r = await cli(['run', '--config', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    // Each field starts at its own checkpoint, whose value is read again: Irradiance's
    // 10:30 value, and Temperature's 15:45 value and the two new ones (a checkpoint
    // shared at Irradiance's 10:30 would find 1).
    // Each field starts at its own checkpoint (the overlap is 0s), so its checkpoint's own value is copied again.
    assert.match(
      r.stdout,
      /^run-\S+: 2 fields, 4 chunks \(0 already queued\), 4 values to copy \(2 of them already in the backup: the overlap up to each field's checkpoint, backup\.time_chunks\.overlap 0s\)$/m,
    );
    const a = await dump(client(source.port), n.src, 'solar');
    const b = await dump(client(backup.port), n.dst, 'solar');
    assert.deepEqual(b.points, a.points);
    const status = await cli(['status', '--json', '--config', file]);
    assert.equal(status.code, 0, status.stderr);
    const cps = (JSON.parse(status.stdout) as { checkpoints: { field: string; checkpoint: string }[] }).checkpoints;
    const byField = Object.fromEntries(cps.map((c) => [c.field, c.checkpoint]));
    assert.equal(byField.Irradiance, '2023-12-01T10:30:00Z');
    assert.equal(byField.Temperature, '2023-11-30T09:00:00Z');

    // The text form: checkpoints in aligned columns, the run's process apart from
    // workers, the last run as lines rather than JSON.
    const report = JSON.parse(status.stdout) as { workers: unknown[]; runs: { role: string }[] };
    assert.deepEqual(report.workers, [], 'a run is not a worker');
    assert.equal(report.runs.length, 2, 'each run recorded its process');
    assert.ok(report.runs.every((p) => p.role === 'run'));
    const text = (await cli(['status', '--config', file])).stdout;
    const rows = text.split('\n');
    const header = rows.findIndex((l) => /^  policy +field +checkpoint +age +behind source +updated +database$/.test(l));
    assert.ok(header > 0, text);
    const irradiance = rows.find((l) => l.includes('solar.Irradiance')) ?? '';
    const temperature = rows.find((l) => l.includes('solar.Temperature')) ?? '';
    assert.equal(irradiance.indexOf('2023-12-01T10:30:00Z'), rows[header]!.indexOf('checkpoint'), 'checkpoints line up under their header');
    assert.equal(temperature.indexOf('2023-11-30T09:00:00Z'), rows[header]!.indexOf('checkpoint'));
    // Years old, and up to date: each backup holds its field's newest value in the source.
    assert.equal(irradiance.indexOf('up to date'), rows[header]!.indexOf('behind source'));
    assert.equal(temperature.indexOf('up to date'), rows[header]!.indexOf('behind source'));
    assert.match(text, /^workers:\n  \(none\)$/m);
    assert.match(text, /^run processes \(not workers/m);
    assert.match(
      text,
      /^last run:\n  run-\S+ \(run\): done, started \S+, [0-9.]+ s\n  chunks \d+: \d+ done, 0 failed; \d+ values in [0-9.]+ s of copying \([\d,]+ values\/s\)(, \d+ of them from the overlap)?$/m,
    );
    assert.doesNotMatch(text, /\{"runId"/, 'no raw JSON');
  });

  test('a worker logs at INFO, once per monitoring.metrics.interval, what it copied since its last line, and is listed as a worker', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    await source.write(
      n.src,
      ['m,s=a v=1i 1700000000000000000', 'm,s=a v=2i 1700003600000000000', 'm,s=b v=3i 1700007200000000000'].join('\n'),
    );
    const interval = 2;
    const file = config(
      n,
      `    - name: "m"\n      start_time: "2023-11-14T00:00:00Z"\n      end_time: "2023-11-15T00:00:00Z"`,
      `monitoring: { metrics: { interval: ${interval} } }\n`,
    );
    const worker = spawnCli(['worker', '--config', file, '--log-level', 'INFO']);
    try {
      // The summaries of the worker so far: when each was logged, and what it says.
      // Its rate is over the time it spent copying in the interval, not over the interval.
      const summaries = (): { at: number; chunks: number; values: number; copying: number; secs: number }[] =>
        [
          ...worker
            .output()
            .matchAll(
              /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) - \S+ - INFO - copied (\d+) chunks?, ([\d,]+) values? in ([\d.]+) s of copying \([\d,]+ values\/s\) over the last ([\d.]+) s/gm,
            ),
        ].map((m) => ({
          at: Date.parse(`${m[1]!.replace(' ', 'T')}.${m[2]!}`),
          chunks: Number(m[3]),
          values: Number(m[4]!.replace(/,/g, '')),
          copying: Number(m[5]),
          secs: Number(m[6]),
        }));
      // One value at a time, each copied only after the summary of the one before: two summaries, at two ticks.
      for (const [k, range] of [
        ['--end-time', '2023-11-14T22:59:59Z'],
        ['--start-time', '2023-11-14T23:00:00Z'],
      ].entries()) {
        const plan = await cli(['plan', '--wait', ...range, '--config', file]);
        assert.equal(plan.code, 0, plan.stderr + plan.stdout);
        assert.match(plan.stdout, /: 1 field, 1 chunk \(0 already queued\), 1 value to copy$/m);
        await waitFor(`summary ${k + 1}`, () => summaries().length === k + 1, { timeoutMs: 30_000 });
      }
      const [first, second] = summaries();
      assert.deepEqual([first?.chunks, first?.values, second?.chunks, second?.values], [1, 1, 1, 1], worker.output());
      // Periodic, not per chunk: each line covers an interval, and the two are an interval apart. The lines'
      // times are the wall clock's, the timer's is the event loop's (cached per turn): they may differ by a few ms.
      assert.ok(first!.secs >= interval && second!.secs >= interval, worker.output());
      assert.ok(first!.copying < first!.secs && second!.copying < second!.secs, `the rate is over the copying time:\n${worker.output()}`);
      // An interval apart, give or take the few ms a timer's cached loop clock may be off by (it was 1,997 ms once).
      assert.ok(second!.at - first!.at >= interval * 1000 - 100, `${second!.at - first!.at} ms apart:\n${worker.output()}`);
      const report = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as {
        workers: { role?: string }[];
        runs: unknown[];
      };
      assert.equal(report.workers.length, 1);
      assert.equal(report.workers[0]?.role, 'worker');
      assert.deepEqual(report.runs, []);
    } finally {
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0, worker.output());
    }
  });

  test('a chunk that fails for good keeps the checkpoint before it; the next run copies it', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
    await source.write(n.src, [`m v=1.5,w=10i ${ns('2024-01-01T00:30:00Z')}`, `m v=2.5,w=20i ${ns('2024-02-01T00:30:00Z')}`].join('\n'));
    // The backup already holds v as an integer in January's shard: a type conflict.
    await backup.query(`CREATE DATABASE "${n.dst}"`);
    await backup.write(n.dst, `m v=7i ${ns('2024-01-01T05:00:00Z')}`);
    const file = config(n, `    - name: "m"\n      start_time: "2024-01-01T00:00:00Z"\n      end_time: "2024-03-01T00:00:00Z"`);
    let r = await cli(['run', '--config', file]);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /1 failed/);
    assert.match(r.stdout + r.stderr, /conflict/);
    let status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as {
      checkpoints: { field: string; checkpoint: string }[];
      failures: { field: string; start: string; reason: string }[];
      lastRun: { ok: boolean };
    };
    assert.equal(status.failures.length, 1);
    assert.equal(status.failures[0]?.field, 'v');
    assert.equal(status.failures[0]?.start, '2024-01-01T00:00:00Z');
    assert.match(status.failures[0]?.reason ?? '', /field type conflict/);
    // v's checkpoint stays before the failed chunk (it has none yet); w, another
    // field of the same measurement, finished and moved on.
    assert.deepEqual(
      status.checkpoints.map((c) => [c.field, c.checkpoint]),
      [['w', '2024-02-01T00:30:00Z']],
    );
    assert.equal(status.lastRun.ok, false);
    // The later chunk was copied all the same.
    const feb = await dump(client(backup.port), n.dst, 'm');
    assert.ok(feb.points.some((p) => p.includes(String(ns('2024-02-01T00:30:00Z')))));
    // Fix the backup, run again: January is copied because the checkpoint never passed it.
    await backup.query(`DROP DATABASE "${n.dst}"`);
    r = await cli(['run', '--config', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const onlyV = (points: string[]): string[] => points.filter((p) => (JSON.parse(p) as string[])[2] === 'v');
    const srcPoints = (await dump(client(source.port), n.src, 'm')).points;
    assert.equal(onlyV(srcPoints).length, 2);
    assert.deepEqual(onlyV((await dump(client(backup.port), n.dst, 'm')).points), onlyV(srcPoints));
    // w's January value went with the dropped database, behind w's checkpoint:
    // that takes a full pass, which copies everything again.
    r = await cli(['run', '--full', '--config', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual((await dump(client(backup.port), n.dst, 'm')).points, srcPoints);
    status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as typeof status;
    assert.deepEqual(
      status.checkpoints.map((c) => [c.field, c.checkpoint]),
      [
        ['v', '2024-02-01T00:30:00Z'],
        ['w', '2024-02-01T00:30:00Z'],
      ],
    );
    assert.equal(status.lastRun.ok, true);
  });

  test('status follows a planned run through its counters; a run of the same range follows the queued jobs', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
    await source.write(
      n.src,
      [0, 1, 2].map((h) => `p v=${h}.5,w=${h}i ${ns('2024-01-01T00:10:00Z') + BigInt(h) * 3_600_000_000_000n}`).join('\n'),
    );
    const file = config(n, `    - name: "p"\n      start_time: "2024-01-01T00:00:00Z"\n      end_time: "2024-01-01T23:59:59Z"`);
    const planned = await cli(['plan', '--config', file]);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /2 fields, 6 chunks \(0 already queued\)/);
    type Status = { lastRun: { chunks: number; completed: number; values: number; ok: boolean | null; inProgress?: boolean } };
    let status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as Status;
    assert.equal(status.lastRun.inProgress, true);
    assert.equal(status.lastRun.chunks, 6);
    assert.equal(status.lastRun.completed, 0);
    // run plans the same chunks, finds them queued, follows them and copies them here.
    const r = await cli(['run', '--config', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /6 chunks \(6 already queued\)/);
    assert.match(r.stdout, /6 \(6 done, 0 failed\)/);
    assert.match(r.stdout, /values {5}6 /);
    status = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as Status;
    assert.equal(status.lastRun.ok, true);
    assert.equal(status.lastRun.values, 6);
    assert.deepEqual((await dump(client(backup.port), n.dst, 'p')).points, (await dump(client(source.port), n.src, 'p')).points);
  });

  test('an unreachable source or backup: exit 1 naming host:port and the keys to check; one that drops every connection is tried 1 + retries times', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    await source.write(n.src, 'm v=1 1700000000000000000');
    const dead = await freePort();
    // A server that accepts and drops every connection: a transient fault the client retries, counted here.
    let accepted = 0;
    const dropper = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
    const dropping = (dropper.address() as AddressInfo).port;
    try {
      const good = config(n, `    - name: "m"\n      start_time: "2023-01-01T00:00:00Z"`);
      const text = readFileSync(good, 'utf8');
      for (const role of ['source', 'backup'] as const) {
        const port = role === 'source' ? source.port : backup.port;
        for (const [bad, what] of [
          [dead, 'connection refused'],
          [dropping, ''],
        ] as const) {
          const file = good.replace('.yaml', `-${role}-${bad}.yaml`);
          writeFileSync(file, text.replace(`port: ${port}`, `port: ${bad}`));
          accepted = 0;
          const r = await cli(['run', '--config', file], { timeoutMs: 60_000 });
          assert.equal(r.code, 1, r.stderr + r.stdout);
          assert.match(
            r.stderr,
            new RegExp(
              `^error: ${role} InfluxDB 127\\.0\\.0\\.1:${bad}: ${what}.*\\(check databases\\.${role}\\.host and databases\\.${role}\\.port\\)$`,
              'm',
            ),
          );
          assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
          // testConfig's retries: 1, so two tries of the one request, then it gives up.
          if (bad === dropping) assert.equal(accepted, 2, `${role}: ${accepted} connections`);
        }
      }
    } finally {
      await new Promise((r) => dropper.close(r));
    }
  });

  test('verify finds a changed value, a missing value and a changed type, and exits 1', async () => {
    const n = names();
    await source.query(`CREATE DATABASE "${n.src}"`);
    const T = 1_700_000_000_000_000_000n;
    await source.write(n.src, [`m,s=a v=1.5,k=1i ${T}`, `m,s=a v=2.5,k=2i ${T + 1n}`, `m,s=b v=3.5,k=3i ${T + 2n}`].join('\n'));
    const file = config(n, `    - name: "m"\n      start_time: "2023-11-14T00:00:00Z"\n      end_time: "2023-11-15T00:00:00Z"`);
    assert.equal((await cli(['run', '--config', file])).code, 0);
    let v = await cli(['verify', '--deep', '--config', file]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /2 fields identical value by value/);

    // Same count, another value: only --deep sees it.
    await backup.write(n.dst, `m,s=a v=9.5 ${T + 1n}`);
    v = await cli(['verify', '--config', file]);
    assert.equal(v.code, 0, 'counts alone cannot see a changed value');
    v = await cli(['verify', '--deep', '--json', '--config', file]);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    const report = JSON.parse(v.stdout) as { ok: boolean; fields: { field: string; differences: number; examples: string[] }[] };
    assert.equal(report.ok, false);
    const vField = report.fields.find((f) => f.field === 'v');
    assert.equal(vField?.differences, 1);
    assert.match(vField?.examples[0] ?? '', /source 2\.5, backup 9\.5/);

    // A value missing from the backup: counts see it too.
    await backup.query(`DELETE FROM "m" WHERE "s" = 'b'`, n.dst);
    v = await cli(['verify', '--config', file]);
    assert.equal(v.code, 1);
    assert.match(v.stdout, /DIFFERENT/);
    assert.match(v.stdout, /2 of 2 fields differ/);

    // The same numbers stored as floats where the source has integers.
    await backup.query(`DROP DATABASE "${n.dst}"`);
    await backup.query(`CREATE DATABASE "${n.dst}"`);
    await backup.write(n.dst, [`m,s=a v=1.5,k=1 ${T}`, `m,s=a v=2.5,k=2 ${T + 1n}`, `m,s=b v=3.5,k=3 ${T + 2n}`].join('\n'));
    v = await cli(['verify', '--deep', '--json', '--config', file]);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    const typed = JSON.parse(v.stdout) as typeof report;
    assert.deepEqual(
      typed.fields.map((f) => [f.field, f.differences]),
      [
        ['k', 1],
        ['v', 0],
      ],
    );
    assert.match(typed.fields[0]?.examples[0] ?? '', /type: source integer, backup float/);
  });

  test('Redis with a password: the copy works, and the password never shows', async () => {
    const password = 'r3dis-S3cret!';
    const guarded = await startRedis({ password });
    try {
      const n = names();
      await source.query(`CREATE DATABASE "${n.src}"`);
      await source.write(n.src, 'm v=1 1700000000000000000');
      const url = guarded.url; // redis://:PASSWORD@127.0.0.1:PORT/0, the password URL-encoded
      const file = config(n, `    - name: "m"\n      start_time: "2023-01-01T00:00:00Z"\n      end_time: "2024-01-01T00:00:00Z"`).replace(
        /$/,
        '',
      );
      writeFileSync(file, readFileSync(file, 'utf8').replace(y(redis.url), y(url)));
      for (const args of [['run'], ['status'], ['config'], ['verify', '--deep']]) {
        const r = await cli([...args, '--config', file, '--log-level', 'debug']);
        assert.equal(r.code, 0, `${args[0]}: ${r.stdout}${r.stderr}`);
        assert.ok(!(r.stdout + r.stderr).includes(password), `${args[0]} printed the password`);
        assert.ok(!(r.stdout + r.stderr).includes(encodeURIComponent(password)), `${args[0]} printed the encoded password`);
      }
      // A wrong password is one clear line naming Redis, and exit 1.
      writeFileSync(file, readFileSync(file, 'utf8').replace(y(url), y(url.replace(encodeURIComponent(password), 'wrong'))));
      const r = await cli(['run', '--config', file], { timeoutMs: 30_000 });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`Redis at 127\\.0\\.0\\.1:${guarded.port}`));
    } finally {
      await guarded.destroy();
    }
  });
});
