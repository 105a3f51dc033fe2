// What an operator meets when something is wrong (issue 11): the real CLI against real InfluxDB and Redis servers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startInflux, startRedis, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, tempDir, writeConfig, y } from './helpers.js';

// The password is a word that is also the tail of the database's name.
const PASSWORD = 'demo';
const ALONE = /(?<![\p{L}\p{N}_])demo(?![\p{L}\p{N}_])/u;

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let dir: string;
let n = 0;

before(async () => {
  [source, backup, redis] = await Promise.all([
    startInflux({ admin: { username: 'admin', password: PASSWORD } }),
    startInflux(),
    startRedis(),
  ]);
  dir = tempDir('operator');
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

const T = 1_795_564_800_000_000_000n; // 2026-11-25T00:00:00Z
const HOUR = 3_600_000_000_000n;

/** A fresh source database (`iot_demo` and a number), its own backup database, Redis prefix and log folder. */
async function setup(lines: string[], moreMeasurements = ''): Promise<{ file: string; db: string; dst: string; logs: string }> {
  n++;
  const db = `iot_demo${n}`;
  const dst = `iot_demo${n}_backup`;
  await source.query(`CREATE DATABASE "${db}"`);
  if (lines.length > 0) await source.write(db, lines.join('\n'));
  const logs = join(dir, `logs${n}`);
  const file = writeConfig(
    dir,
    `c${n}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: ${y(db)}, username: "admin", password: ${y(PASSWORD)}, retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: ${y(dst)}, retries: 0, timeout: 5 }
processing: { batch_interval: 0 }
backup:
  measurements:
    - name: "weather"
      start_time: "2026-11-01T00:00:00Z"
      end_time: "2026-12-01T00:00:00Z"
    - name: "power meters"
      start_time: "2026-11-01T00:00:00Z"
      end_time: "2026-12-01T00:00:00Z"
${moreMeasurements}  time_chunks: { size: "1h", overlap: "0s" }
  retry: { max_attempts: 1 }
redis: { url: ${y(redis.url)}, prefix: "op${n}" }
logging:
  level: "INFO"
  handlers: { file: { enabled: true, filename: ${y(join(logs, 'backup_{timestamp}.log'))} } }
`,
  );
  return { file, db, dst, logs };
}

function logText(logs: string): string {
  return existsSync(logs)
    ? readdirSync(logs)
        .map((f) => readFileSync(join(logs, f), 'utf8'))
        .join('')
    : '';
}

const WEATHER = [`weather,region=eu temperature=21.5,humidity=40i ${T}`, `weather,region=us temperature=18.5,humidity=55i ${T + HOUR}`];

describe('operator experience', () => {
  test('a database named iot_demo with the password demo shows unmasked, and the password never shows', async () => {
    // A configured measurement the source lacks: the planner's warning names the database.
    const s = await setup(WEATHER, '    - name: "absent"\n      start_time: "2026-11-01T00:00:00Z"\n');
    const file = s.file;
    const runs = [
      await cli(['plan', '--config', file, '--log-level', 'debug']),
      await cli(['verify', '--config', file, '--log-level', 'debug']),
      await cli(['config', '--config', file]),
    ];
    assert.equal(runs[0]?.code, 0, runs[0]?.stderr);
    const everything = runs.map((r) => r.stdout + r.stderr).join('') + logText(s.logs);
    assert.match(everything, new RegExp(`has no fields in ${s.db} on`), 'the warning names the database, unmasked');
    assert.match(runs[2]?.stdout ?? '', new RegExp(`database: ${s.db}\\n`));
    assert.match(runs[2]?.stdout ?? '', /password: "\*{8}"/);
    assert.doesNotMatch(everything, /iot_\*/);
    assert.doesNotMatch(everything, ALONE, 'the password, standing alone');
  });

  test('read-only commands create no log file; a plan creates one', async () => {
    const s = await setup(WEATHER);
    await backup.query(`CREATE DATABASE "${s.dst}"`);
    for (const args of [['status'], ['status', '--json'], ['verify'], ['config']]) {
      const r = await cli([...args, '--config', s.file]);
      // verify finds the backup empty: exit 1, but it ran.
      assert.equal(r.code, args[0] === 'verify' ? 1 : 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      const files = existsSync(s.logs) ? readdirSync(s.logs) : [];
      assert.deepEqual(files, [], `${args.join(' ')} created a log file`);
    }
    assert.equal((await cli(['plan', '--config', s.file])).code, 0);
    assert.equal(readdirSync(s.logs).length, 1, 'the plan wrote its log file where the configuration says');
  });

  test("a plan's result shows once: the human line on stdout, the log line in the log file only", async () => {
    const s = await setup(WEATHER);
    const r = await cli(['plan', '--config', s.file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^plan-\S+: 2 fields, \d+ chunks? \(0 already queued\), 4 values to copy$/m);
    assert.doesNotMatch(r.stderr, /planned/, 'the log line is not on the console too');
    assert.match(logText(s.logs), /- INFO - planned run=plan-\S+ fields=2 chunks=\d/);
    // Singular forms.
    const one = await cli([
      'plan',
      '--full',
      '--measurement',
      'weather',
      '--field',
      'humidity',
      '--start-time',
      '2026-11-25T00:00:00Z',
      '--end-time',
      '2026-11-25T00:30:00Z',
      '--config',
      s.file,
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /: 1 field, 1 chunk \(\d+ already queued\), 1 value to copy$/m);
  });

  test('status and verify exit 1 naming Redis when nothing listens on its port, once their 5 s PING deadline has passed', async () => {
    const s = await setup(WEATHER);
    const port = await freePort();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(s.file, readFileSync(s.file, 'utf8').replace(y(redis.url), y(`redis://127.0.0.1:${port}/0`)));
    for (const args of [['status'], ['status', '--json'], ['verify']]) {
      // The connection retries forever (so workers outlive a Redis restart); a command gives up at its
      // own deadline, which it names. timeoutMs only stops a command that would wait forever.
      const r = await cli([...args, '--config', s.file], { timeoutMs: 60_000 });
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^error: cannot reach Redis at 127\\.0\\.0\\.1:${port}: PING: no answer within 5 s$`, 'm'));
      assert.ok(r.ms >= 5_000, `${args.join(' ')} gave up after ${r.ms} ms, before its deadline`);
    }
  });

  test('a --measurement or --field the source lacks is exit 2, named, with did you mean', async () => {
    const s = await setup(WEATHER);
    const range = ['--start-time', '2026-11-25T00:00:00Z', '--end-time', '2026-11-26T00:00:00Z'];
    const cases: [string[], RegExp][] = [
      [
        ['backfill', '--measurement', 'wether', ...range],
        /--measurement "wether": .* has no such measurement \(did you mean "weather"\?\)/,
      ],
      [
        ['backfill', '--measurement', 'weather', '--field', 'temprature', ...range],
        /--field "temprature": measurement "weather" .* has no such field \(did you mean "temperature"\?\)/,
      ],
      [['backfill', '--measurement', 'zzzzzz', ...range], /--measurement "zzzzzz": .* has no such measurement$/m],
      [['plan', '--field', 'temprature'], /--field "temprature": .*\(did you mean "temperature"\?\)/],
      [['run', '--measurement', 'Weather'], /--measurement "Weather": .*\(did you mean "weather"\?\)/],
      [['verify', '--field', 'humidty'], /--field "humidty": .*\(did you mean "humidity"\?\)/],
      [['verify', '--measurement', 'wether'], /--measurement "wether": .*\(did you mean "weather"\?\)/],
    ];
    for (const [args, message] of cases) {
      const r = await cli([...args, '--config', s.file]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    // Nothing was planned by any of them.
    const status = JSON.parse((await cli(['status', '--json', '--config', s.file])).stdout) as { queues: { copy: Record<string, number> } };
    assert.equal(status.queues.copy.waiting, 0);
  });

  test('verify exits 1 after a chunk failed for good on a type conflict, though the counts agree', async () => {
    const s = await setup([`weather,region=eu temperature=21i ${T + 5n}`]);
    // The backup already holds the field as a float in the same shard: the chunk fails for good.
    await backup.query(`CREATE DATABASE "${s.dst}"`);
    await backup.write(s.dst, `weather,region=eu temperature=2.5 ${T}`);
    const run = await cli(['run', '--config', s.file]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /field type conflict/);
    const v = await cli(['verify', '--config', s.file]);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /^autogen weather\.temperature +1 +1 +0 +DIFFERENT$/m);
    assert.match(v.stdout, /type: source integer, backup float/);
    assert.match(v.stdout, /verify: 1 of 1 field differs/);
  });

  test('verify --deep prints RFC 3339 times, line-protocol series, ranges of neighbouring differences and their backfill', async () => {
    const M = 'power meters';
    const points = [0n, 1n, 2n, 3n, 4n, 5n].map((h) => `power\\ meters,site=plant\\ A,meter=m1 kwh=${h}.5 ${T + h * HOUR}`);
    const s = await setup(points);
    assert.equal((await cli(['run', '--measurement', M, '--config', s.file])).code, 0);
    // Hours 1 and 2 (neighbours) lose a value and change one; hour 3 stays equal; hour 5 gains one.
    await backup.query(`DELETE FROM "${M}" WHERE time >= ${T + HOUR} AND time <= ${T + HOUR}`, s.dst);
    await backup.write(
      s.dst,
      [`power\\ meters,site=plant\\ A,meter=m1 kwh=99 ${T + 2n * HOUR}`, `power\\ meters,site=plant\\ B kwh=7 ${T + 5n * HOUR + 1n}`].join(
        '\n',
      ),
    );
    const v = await cli(['verify', '--deep', '--measurement', M, '--config', s.file]);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    const out = v.stdout;
    assert.match(out, /^autogen power meters\.kwh +6 +6 +1 +1 +1 +DIFFERENT$/m);
    assert.match(out, /^ {4}2026-11-25T01:00:00Z \.\. 2026-11-25T02:00:00Z {2}1 missing, 1 changed$/m);
    assert.match(out, /^ {6}power\\ meters,meter=m1,site=plant\\ A 2026-11-25T01:00:00Z: missing in the backup \(source 1\.5\)$/m);
    assert.match(out, /^ {6}power\\ meters,meter=m1,site=plant\\ A 2026-11-25T02:00:00Z: source 2\.5, backup 99$/m);
    assert.match(
      out,
      /^ {6}repair: influx-backup backfill --measurement 'power meters' --field kwh --retention-policy autogen --start-time 2026-11-25T01:00:00Z --end-time 2026-11-25T02:00:00Z$/m,
    );
    assert.match(out, /^ {4}2026-11-25T05:00:00\.000000001Z \.\. 2026-11-25T05:00:00\.000000001Z {2}1 in the backup only$/m);
    assert.doesNotMatch(out, /\d{19}|\[\[/, 'no raw nanoseconds or JSON tag arrays');
    assert.equal(out.match(/repair:/g)?.length, 1, 'a range with values in the backup only has nothing to backfill');
    // The command, as a shell splits it, is one the CLI takes: it plans the two values of the range.
    const repair = /repair: influx-backup (.+)$/m.exec(out)?.[1] ?? '';
    const args = [...repair.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
    const planned = await cli([...args, '--config', s.file]);
    assert.equal(planned.code, 0, planned.stdout + planned.stderr);
    assert.match(planned.stdout, /: 1 field, \d+ chunks? \(0 already queued\), 2 values to copy$/m);
  });
});
