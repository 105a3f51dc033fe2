// One log file per process (issue 25): the seed's `logs/backup_{timestamp}.log` pattern, two real workers started at
// once and a plan, against real InfluxDB and Redis servers. Each process writes, and rotates, only its own file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, ROOT, spawnCli, tempDir, writeConfig, y } from './helpers.js';

const WORKER = join(ROOT, 'apps/worker/dist/main.js');
const T = 1_795_564_800_000_000_000n; // 2026-11-25T00:00:00Z
const HOUR = 3_600_000_000_000n;
const HOURS = 40;

let influx: InfluxServer;
let redis: RedisServer;
let dir: string;

before(async () => {
  [influx, redis] = await Promise.all([startInflux(), startRedis()]);
  dir = tempDir('logs');
});
after(async () => {
  await Promise.allSettled([influx?.destroy(), redis?.destroy()]);
});

/** The files of the log folder whose name holds `.ROLE-PID`, by name. */
function filesOf(logs: string, role: string, pid: number | undefined): string[] {
  if (!existsSync(logs) || pid === undefined) return [];
  return readdirSync(logs)
    .filter((f) => f.includes(`.${role}-${pid}.log`))
    .sort();
}

test('two workers started at once write two files named by role and pid, and rotating one leaves the other whole', async () => {
  await influx.query('CREATE DATABASE "logsrc"');
  // One value an hour for HOURS hours: with 1h chunks and no merging, HOURS jobs, each logging its own debug line.
  await influx.write('logsrc', Array.from({ length: HOURS }, (_, h) => `m v=${h}i ${T + BigInt(h) * HOUR}`).join('\n'));
  const logs = join(dir, 'logs');
  const file = writeConfig(
    dir,
    'logs.yaml',
    `databases:
  source: { host: "127.0.0.1", port: ${influx.port}, database: "logsrc", retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${influx.port}, database: "logdst", retries: 0, timeout: 5 }
processing: { max_workers: 2, batch_interval: 0 }
backup:
  measurements:
    - name: "m"
      start_time: "2026-11-25T00:00:00Z"
      end_time: "2026-11-27T00:00:00Z"
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
redis: { url: ${y(redis.url)}, prefix: "logs" }
logging:
  level: "DEBUG"
  handlers:
    console: { level: "WARNING" }
    file: { enabled: true, filename: ${y(join(logs, 'backup_{timestamp}.log'))}, max_bytes: 2000, backup_count: 20 }
`,
  );
  // Started in the same instant: the seed's pattern alone would give both one file name (to the second).
  const a = spawnCli(['--config', file], {}, WORKER);
  const b = spawnCli(['--config', file], {}, WORKER);
  try {
    await waitFor(
      "both workers' log files",
      () => filesOf(logs, 'worker', a.child.pid).length === 1 && filesOf(logs, 'worker', b.child.pid).length === 1,
      { timeoutMs: 30_000 },
    );
    const [fileA] = filesOf(logs, 'worker', a.child.pid);
    const [fileB] = filesOf(logs, 'worker', b.child.pid);
    assert.match(fileA ?? '', /^backup_\d{8}-\d{6}\.worker-\d+\.log$/);
    assert.notEqual(fileA, fileB);
    await waitFor("worker b's start line", () => readFileSync(join(logs, fileB!), 'utf8').includes(' started: '), { timeoutMs: 30_000 });

    // b stops; its file is final. a alone copies a plan's chunks, one debug line each, and rotates its own file.
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0, b.output());
    const bWhole = readFileSync(join(logs, fileB!), 'utf8');
    const plan = await cli(['plan', '--wait', '--config', file]);
    assert.equal(plan.code, 0, plan.stderr);
    const aText = (): string =>
      filesOf(logs, 'worker', a.child.pid)
        .map((f) => readFileSync(join(logs, f), 'utf8'))
        .join('');
    // Every chunk's line is in worker a's own files, once (a line is written just after its chunk is counted).
    await waitFor('every chunk logged by worker a', () => aText().match(/chunk copied/g)?.length === HOURS, { timeoutMs: 30_000 });
    assert.ok(filesOf(logs, 'worker', a.child.pid).length >= 2, `worker a rotated its file (${readdirSync(logs).join(' ')})`);
    assert.equal(readFileSync(join(logs, fileB!), 'utf8'), bWhole, "worker b's file changed while worker a rotated");
    assert.deepEqual(filesOf(logs, 'worker', b.child.pid), [fileB], "worker a's rotation touched worker b's file");
    assert.doesNotMatch(bWhole, /chunk copied/);
    // The plan wrote a file of its own, named by its command and pid.
    assert.equal(readdirSync(logs).filter((f) => /\.plan-\d+\.log$/.test(f)).length, 1, readdirSync(logs).join(' '));
  } finally {
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
  }
});
