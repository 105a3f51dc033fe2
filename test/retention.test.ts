// Retention policies end to end through the real CLI: every policy of the source
// copied into its namesake on the backup, checkpoints, verify and incremental runs
// per policy, and an installation upgraded from checkpoints without a policy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, startRedis, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { InfluxClient, type RetentionPolicyInfo } from '@influx-backup/influx';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { appendFileSync } from 'node:fs';
import { cli, dump, tempDir, writeConfig, y } from './helpers.js';

const H = 3_600_000_000_000n;
const DAY = 24n * H;
const QUOTED = `one "year" it's`;
/** Times inside every policy's duration: a policy drops what is older than it keeps. */
const T0 = ((BigInt(Date.now()) * 1_000_000n) / H - 72n) * H;

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let src: InfluxClient;
let bak: InfluxClient;
let conn: Redis;
let dir: string;
let n = 0;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  src = new InfluxClient({ host: source.host, port: source.port, retries: 0 });
  bak = new InfluxClient({ host: backup.host, port: backup.port, retries: 0 });
  conn = new Redis(redis.url);
  dir = tempDir('retention');
});
after(async () => {
  src?.close();
  bak?.close();
  conn?.disconnect();
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

interface Db {
  src: string;
  dst: string;
  prefix: string;
  file: string;
}

/**
 * A source database with three policies besides autogen, the default being `raw`
 * (not autogen), one named with a space and quotes, one with a one-hour shard
 * duration; every policy holds data of `m`, at times no other policy uses.
 */
async function database(extra = ''): Promise<Db> {
  n++;
  const d = { src: `src${n}`, dst: `dst${n}`, prefix: `rp${n}` };
  await src.query(`CREATE DATABASE "${d.src}"`);
  await src.query(`CREATE RETENTION POLICY "raw" ON "${d.src}" DURATION 30d REPLICATION 1 SHARD DURATION 1d DEFAULT`);
  await src.query(`CREATE RETENTION POLICY "one \\"year\\" it's" ON "${d.src}" DURATION 52w REPLICATION 1 SHARD DURATION 1w`);
  await src.query(`CREATE RETENTION POLICY "short" ON "${d.src}" DURATION 7d REPLICATION 1 SHARD DURATION 1h`);
  const lines = (offset: bigint, v: string): string =>
    [`m,site=a v=${v},s="${v}" ${T0 + offset}`, `m,site=b v=${v} ${T0 + offset + H}`, `m v=${v} ${T0 + offset + 30n * H}`].join('\n');
  await src.write(d.src, lines(0n, '1i'), 'raw');
  await src.write(d.src, lines(1n, '2i'), QUOTED);
  await src.write(d.src, lines(2n, '3i'), 'short');
  await src.write(d.src, lines(3n, '4i'), 'autogen');
  const file = writeConfig(
    dir,
    `${d.prefix}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: ${y(d.src)}, retries: 1, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: ${y(d.dst)}, retries: 1, timeout: 5${extra} }
backup:
  measurements:
    - { name: "m", start_time: "2020-01-01T00:00:00Z" }
  time_chunks: { size: "1d", overlap: "0s" }
  retry: { max_attempts: 2, backoff_factor: 1, max_backoff: 1 }
redis: { url: ${y(redis.url)}, prefix: ${y(d.prefix)} }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
`,
  );
  return { ...d, file };
}

const POLICIES = ['autogen', 'raw', QUOTED, 'short'];

async function assertExactPerPolicy(d: Db): Promise<void> {
  for (const rp of POLICIES) {
    const want = await dump(src, d.src, 'm', rp);
    assert.equal(want.points.length > 0, true, `the source's ${rp} holds data`);
    assert.deepEqual(await dump(bak, d.dst, 'm', rp), want, `policy ${rp}`);
  }
}

const byName = (ps: RetentionPolicyInfo[]): Map<string, RetentionPolicyInfo> => new Map(ps.map((p) => [p.name, p]));

describe('retention policies', () => {
  test('every policy is copied exactly into its namesake, created with the source durations and default', async () => {
    const d = await database();
    const r = await cli(['run', '--config', d.file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    await assertExactPerPolicy(d);
    const policies = byName(await bak.retentionPolicies(d.dst));
    assert.equal(policies.get('raw')?.durationNs, 30n * DAY);
    assert.equal(policies.get('raw')?.isDefault, true);
    assert.equal(policies.get(QUOTED)?.durationNs, 52n * 7n * DAY);
    assert.equal(policies.get('short')?.shardGroupDurationNs, H);
    assert.equal(policies.get('autogen')?.isDefault, false);

    const verify = await cli(['verify', '--deep', '--config', d.file]);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    assert.match(verify.stdout, /8 fields identical value by value/, verify.stdout);

    // A row gone from the backup in a non-default policy (its time is used by no other policy).
    await bak.query(`DELETE FROM "m" WHERE time = ${T0 + 1n + H}`, d.dst);
    const after = await cli(['verify', '--deep', '--config', d.file]);
    assert.equal(after.code, 1, after.stdout);
    assert.match(after.stdout, /one "year" it's m\.v .*DIFFERENT/);
    const plain = await cli(['verify', '--config', d.file, '--retention-policy', 'raw']);
    assert.equal(plain.code, 0, 'the other policies are still identical');
  });

  test('fields_per_job "all": one job per policy and chunk for both fields, every policy exact, checkpoints per policy and field, verify identical', async () => {
    const d = await database();
    appendFileSync(d.file, 'processing: { fields_per_job: "all" }\n');
    const r = await cli(['run', '--config', d.file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    await assertExactPerPolicy(d);
    // Each policy's data lies in one chunk (the same range in each), so: 8 field plans (4 policies
    // x 2 fields), 4 chunks, and 4 jobs, each holding both fields of one policy's chunk.
    assert.match(r.stdout, /^run-\S+: 8 fields, 4 chunks \(0 already queued\), 16 values to copy$/m);
    const queue = new Queue('copy', { connection: conn, prefix: d.prefix });
    try {
      const jobs = await queue.getJobs(['completed']);
      assert.deepEqual(
        jobs.map((j) => j.name),
        Array<string>(4).fill('copy-chunk m: s, v'),
      );
      // A job holds its first field (k) and the others as pairs of field and chunk positions (f):
      // every field plan of the run is in exactly one job.
      const fieldsOf = (data: unknown): number[] => {
        const { k, f = [] } = data as { k: number; f?: number[] };
        return [k, ...f.filter((_, i) => i % 2 === 0)];
      };
      assert.deepEqual(
        jobs.flatMap((j) => fieldsOf(j.data)).sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7],
      );
    } finally {
      await queue.close();
    }
    const checkpoints = await conn.hgetall(`${d.prefix}:state:checkpoints`);
    for (const rp of POLICIES) {
      const id = (f: string): string => JSON.stringify([`127.0.0.1:${source.port}`, d.src, 'm', f, rp]);
      const offset = BigInt(POLICIES.indexOf(rp) === 0 ? 3 : POLICIES.indexOf(rp) - 1);
      assert.equal(checkpoints[id('v')], String(T0 + offset + 30n * H), `v in ${rp}`);
      assert.equal(checkpoints[id('s')], String(T0 + offset), `s in ${rp}`);
    }
    const verify = await cli(['verify', '--deep', '--config', d.file]);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    assert.match(verify.stdout, /8 fields identical value by value/, verify.stdout);
  });

  test('retention infinite makes every created policy keep everything', async () => {
    const d = await database(', retention: "infinite"');
    const r = await cli(['run', '--config', d.file, '--retention-policy', 'short', '--retention-policy', 'raw']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const policies = byName(await bak.retentionPolicies(d.dst));
    assert.equal(policies.get('raw')?.durationNs, 0n);
    assert.equal(policies.get('short')?.durationNs, 0n);
    assert.equal(policies.get('raw')?.isDefault, true);
    assert.deepEqual(await dump(bak, d.dst, 'm', 'short'), await dump(src, d.src, 'm', 'short'));
    assert.equal((await dump(bak, d.dst, 'm', QUOTED)).points.length, 0, '--retention-policy copied only those named');
    const unknown = await cli(['run', '--config', d.file, '--retention-policy', 'shrot']);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /--retention-policy "shrot" is not a policy being copied/);
  });

  test("each policy is incremental from its own checkpoints: a newer policy never hides an older one's new data", async () => {
    const d = await database();
    await src.write(d.src, `m,site=z v=40i ${T0 + 3n + 40n * H}`, 'autogen');
    assert.equal((await cli(['run', '--config', d.file])).code, 0);
    // autogen's checkpoint is now later than short's; new short data between the two must still be found.
    await src.write(d.src, `m,site=a v=30i ${T0 + 2n + 35n * H}`, 'short');
    const r = await cli(['run', '--config', d.file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    await assertExactPerPolicy(d);
    const status = await cli(['status', '--json', '--config', d.file]);
    const cps = (JSON.parse(status.stdout) as { checkpoints: { retentionPolicy: string | null; field: string; checkpointNs: string }[] })
      .checkpoints;
    const v = (rp: string): string | undefined => cps.find((c) => c.retentionPolicy === rp && c.field === 'v')?.checkpointNs;
    assert.equal(v('short'), String(T0 + 2n + 35n * H));
    assert.equal(v('autogen'), String(T0 + 3n + 40n * H));
    assert.equal(v(QUOTED), String(T0 + 1n + 30n * H));
  });

  test("a checkpoint saved before policies were named becomes the default policy's: nothing recopied, nothing skipped", async () => {
    const d = await database();
    // An older version copied raw's v up to T0 + H and saved its checkpoint without a policy.
    const legacy = JSON.stringify([`127.0.0.1:${source.port}`, d.src, 'm', 'v']);
    await conn.hset(`${d.prefix}:state:checkpoints`, legacy, String(T0 + H));
    const r = await cli(['run', '--config', d.file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const raw = (await dump(bak, d.dst, 'm', 'raw')).points.filter((p) => (JSON.parse(p) as string[])[2] === 'v');
    const times = raw.map((p) => BigInt((JSON.parse(p) as string[])[3]!));
    assert.deepEqual(times.sort(), [T0 + H, T0 + 30n * H], 'raw.v from its old checkpoint on: the value before it not recopied');
    for (const rp of ['autogen', QUOTED, 'short']) {
      assert.deepEqual(await dump(bak, d.dst, 'm', rp), await dump(src, d.src, 'm', rp), `${rp} copied whole`);
    }
    const keys = await conn.hkeys(`${d.prefix}:state:checkpoints`);
    assert.ok(!keys.includes(legacy), 'the old checkpoint was adopted');
    assert.ok(keys.includes(JSON.stringify([`127.0.0.1:${source.port}`, d.src, 'm', 'v', 'raw'])), keys.join('\n'));
  });
});
