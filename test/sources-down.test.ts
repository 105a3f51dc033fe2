// Several sources, one of them down from the start: verify reports it as not compared,
// and the worker and planner start as long as one source answers. Real processes; the
// source that is down is a port where nothing listens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, spawnCli, tempDir, writeConfig, y, type LongRunning } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let dead: number;
let dir: string;
let n = 0;
const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  dead = await freePort();
  dir = tempDir('sources-down');
  await source.query('CREATE DATABASE "plant_a"');
  const t0 = ns('2024-03-01T00:00:00Z');
  await source.write(
    'plant_a',
    Array.from({ length: 120 }, (_, i) => `line,m=m${i % 2} speed=${i / 8},count=${i}i ${t0 + BigInt(i) * 60_000_000_000n}`).join('\n'),
  );
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

/** Sources a (up) and b (nothing listens on its port), or both down with `allDown`. */
function config({ allDown = false, scheduler = '' }: { allDown?: boolean; scheduler?: string } = {}): { file: string; dst: string } {
  n++;
  const dst = `plant_a_copy${n}`;
  const a = allDown ? dead : source.port;
  const file = writeConfig(
    dir,
    `c${n}.yaml`,
    `databases:
  sources:
    - { name: "a", host: "127.0.0.1", port: ${a}, database: "plant_a", backup_database: ${y(dst)}, retries: 0, timeout: 5 }
    - { name: "b", host: "127.0.0.1", port: ${dead}, database: "plant_b", backup_database: ${y(`plant_b_copy${n}`)}, retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, retries: 0, timeout: 5 }
processing: { max_workers: 2, batch_size: 50, batch_interval: 0 }
backup:
  measurements:
    - { name: "line", start_time: "2024-03-01T00:00:00Z", end_time: "2024-03-01T01:59:59Z" }
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
  retry: { max_attempts: 1 }
redis: { url: ${y(redis.url)}, prefix: ${y(`down${n}`)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
${scheduler}`,
  );
  return { file, dst };
}

const refusedB = (): RegExp =>
  new RegExp(
    `source "b" InfluxDB 127\\.0\\.0\\.1:${dead}: connection refused \\(check databases\\.sources\\[1\\]\\.host and databases\\.sources\\[1\\]\\.port\\)`,
  );

async function assertCopied(dst: string): Promise<void> {
  const want = await dump(client(source.port), 'plant_a', 'line');
  assert.equal(want.points.length, 240);
  assert.deepEqual(await dump(client(backup.port), dst, 'line'), want);
}

describe('verify with a source down', () => {
  test('verify compares the source that answers and reports the other as "not compared", exit 1; --json says which; --source a alone is identical, exit 0', async () => {
    const { file, dst } = config();
    const r = await cli(['run', '--config', file]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    await assertCopied(dst);

    const v = await cli(['verify', '--deep', '--config', file]);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /^a +autogen +line\.count +120 +120 +0 +0 +0$/m);
    assert.match(v.stdout, /^a +autogen +line\.speed +120 +120 +0 +0 +0$/m);
    assert.match(v.stdout, /^verify: 2 fields identical value by value$/m);
    const notCompared = v.stdout.split('\n').filter((l) => l.startsWith('verify: not compared: '));
    assert.equal(notCompared.length, 1, v.stdout);
    assert.match(notCompared[0]!, /^verify: not compared: source b: /);
    assert.match(notCompared[0]!, refusedB());
    assert.doesNotMatch(v.stdout, /^b +/m, 'no row of b: it was not compared');

    const j = await cli(['verify', '--json', '--config', file]);
    assert.equal(j.code, 1, j.stderr);
    const json = JSON.parse(j.stdout) as { ok: boolean; fields: { sourceName: string; differences: number }[]; unreachable: string[] };
    assert.equal(json.ok, false);
    assert.deepEqual(
      json.fields.map((f) => [f.sourceName, f.differences]),
      [
        ['a', 0],
        ['a', 0],
      ],
    );
    assert.equal(json.unreachable.length, 1);
    assert.match(json.unreachable[0]!, refusedB());

    const onlyA = await cli(['verify', '--deep', '--source', 'a', '--config', file]);
    assert.equal(onlyA.code, 0, onlyA.stdout + onlyA.stderr);
    assert.doesNotMatch(onlyA.stdout, /not compared/);
  });
});

describe('the roles with a source down', () => {
  test('worker and planner start while source b is down: b is logged as unusable, the planner plans a on every tick and fails each tick naming b, the worker copies a exactly', async () => {
    const { file, dst } = config({
      scheduler: `scheduler:\n  enabled: true\n  jobs:\n    - { id: "every_two_seconds", trigger: "cron", second: "*/2" }\n`,
    });
    const roles: LongRunning[] = [spawnCli(['worker', '--config', file]), spawnCli(['planner', '--config', file])];
    try {
      for (const role of roles) {
        await waitFor('b logged as unusable', () => /source b cannot be used now: /.test(role.output()), { timeoutMs: 30_000 });
        assert.match(role.output(), refusedB());
      }
      const [worker, planner] = roles as [LongRunning, LongRunning];
      await waitFor('a tick failing on b', () => /planning failed for source b; the others are planned/.test(planner.output()), {
        timeoutMs: 30_000,
      });
      assert.match(planner.output(), /planned run=every_two_seconds-\S+\.a fields=2 chunks=4 /, 'the tick planned a');
      const want = JSON.stringify(await dump(client(source.port), 'plant_a', 'line'));
      await waitFor(
        "a's chunks copied",
        async () => JSON.stringify(await dump(client(backup.port), dst, 'line').catch(() => undefined)) === want,
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await assertCopied(dst);
      assert.match(worker.output(), /worker \S+ started/);
    } finally {
      for (const r of roles) r.child.kill('SIGTERM');
      for (const r of roles) assert.equal(await r.exited, 0, r.output());
    }
  });

  test('with every source down, worker and planner wait, naming the source that failed first, and stop on SIGTERM with 0', async () => {
    const { file } = config({ allDown: true });
    const roles = { worker: spawnCli(['worker', '--config', file]), planner: spawnCli(['planner', '--config', file]) };
    try {
      const said = new RegExp(
        `source "a" InfluxDB 127\\.0\\.0\\.1:${dead}: connection refused \\(check databases\\.sources\\[0\\]\\.host and databases\\.sources\\[0\\]\\.port\\); waiting for it`,
      );
      for (const [name, p] of Object.entries(roles)) await waitFor(`${name} to wait for the sources`, () => said.test(p.output()));
      for (const [name, p] of Object.entries(roles)) {
        assert.equal(p.child.exitCode, null, `${name} waits:\n${p.output()}`);
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0, `${name}:\n${p.output()}`);
      }
    } finally {
      for (const p of Object.values(roles)) p.child.kill('SIGKILL');
    }
  });
});
