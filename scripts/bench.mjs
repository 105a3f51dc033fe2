#!/usr/bin/env node
// pnpm bench: about one million field values (tags, all four types) on a local
// source InfluxDB, copied (a) by `influx-backup run` and (b) by a minimal
// per-field copier written here (plain HTTP: query with epoch=ns, write line
// protocol, nothing else). Prints values/s, wall time and peak RSS of each and
// the ratio a/b; then (c) `run` again with one chunk holding every value, for memory.
// Then the scale figures (scripts/bench-scale.mjs), then fields_per_job against
// whole-point copying and SELECT INTO (scripts/bench-fields.mjs), then what
// `verify --repair` costs beside a full pass (scripts/bench-repair.mjs). `--only copy`,
// `--only scale`, `--only fields` or `--only repair` runs one part.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInflux, startRedis } from '../packages/testkit/dist/index.js';
import { peakRss } from './lib/proc.mjs';
import { countValues, load } from './lib/dataset.mjs';
import { scaleBench } from './bench-scale.mjs';
import { fieldsBench } from './bench-fields.mjs';
import { repairBench } from './bench-repair.mjs';

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (only !== undefined && !['copy', 'scale', 'fields', 'repair'].includes(only)) {
  console.error('usage: node scripts/bench.mjs [--only copy|scale|fields|repair]');
  process.exit(2);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WORKERS = 4;
const BATCH = 5000;
const spec = {
  measurement: 'bench_sensors',
  tags: { site: ['north', 'south', 'east', 'west', 'lab'], sensor: Array.from({ length: 20 }, (_, i) => `s${i}`) },
  fields: { temperature: 'float', counter: 'integer', state: 'string', online: 'boolean' },
  points: 2500,
  startNs: BigInt(Date.parse('2024-03-01T00:00:00Z')) * 1_000_000n,
  stepNs: 35n * 1_000_000_000n,
};
const total = countValues(spec);

async function timed(label, cmd, args, env = {}) {
  const started = process.hrtime.bigint();
  let peak = 0;
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = peakRss(child.pid, (rss) => (peak = Math.max(peak, rss)));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  stop();
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`${label} exited ${code}:\n${out}`);
  return { label, secs, peak, out };
}

async function countBackup(backup, db) {
  let n = 0;
  for (const f of Object.keys(spec.fields)) {
    const res = await backup.query(`SELECT COUNT("${f}") FROM "${spec.measurement}"`, db);
    n += Number(res.results[0].series?.[0]?.values[0][1] ?? 0);
  }
  return n;
}

if (only === undefined || only === 'copy') await copyBench();
if (only === undefined || only === 'scale') await scaleBench();
if (only === undefined || only === 'fields') await fieldsBench();
if (only === undefined || only === 'repair') await repairBench();

async function copyBench() {
  const [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  try {
    process.stderr.write(`loading ${total.toLocaleString('en-US')} field values into ${source.url} ...\n`);
    await load(source.url, 'bench', spec);
    const dir = mkdtempSync(join(tmpdir(), 'ib-bench-'));
    const config = (size) => {
      const file = join(dir, `bench-${size}.yaml`);
      writeFileSync(
        file,
        `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "bench" }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: "bench_backup" }
processing: { max_workers: ${WORKERS}, batch_size: ${BATCH}, batch_interval: 0, worker_memory_limit: 200 }
backup:
  measurements:
    - name: "${spec.measurement}"
      start_time: "2024-01-01T00:00:00Z"
      end_time: "2024-12-31T23:59:59Z"
  time_chunks: { size: "${size}", overlap: "0s" }
redis: { url: "${redis.url.replace(/\/0$/, `/${size === '1h' ? 1 : 2}`)}", prefix: "bench" }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
`,
      );
      return file;
    };
    const reset = () => backup.query('DROP DATABASE "bench_backup"').then(() => backup.query('CREATE DATABASE "bench_backup"'));

    const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
    const minimalArgs = [join(root, 'scripts/bench-minimal.mjs')];
    const minimalEnv = {
      SRC: source.url,
      DST: backup.url,
      MEASUREMENT: spec.measurement,
      FIELDS: Object.keys(spec.fields).join(','),
      CONCURRENCY: String(WORKERS),
      BATCH: String(BATCH),
    };
    const cliArgs = (size) => [join(root, 'apps/cli/dist/main.js'), 'run', '--full', '--config', config(size)];
    // The servers' own background work (compactions, WAL flushes) makes single runs
    // noisy on two cores: run the two copiers in alternation and keep each median.
    const rounds = { a: [], b: [] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const which of i % 2 === 0 ? ['b', 'a'] : ['a', 'b']) {
        await reset();
        const r =
          which === 'a'
            ? await timed('influx-backup run', process.execPath, cliArgs('1h'))
            : await timed('minimal copier', process.execPath, minimalArgs, minimalEnv);
        r.count = await countBackup(backup, 'bench_backup');
        rounds[which].push(r);
        process.stderr.write(`  round ${i + 1}: ${r.label} ${r.secs.toFixed(2)} s\n`);
      }
    }
    const median = (list) => [...list].sort((x, y) => x.secs - y.secs)[Math.floor(list.length / 2)];
    const a = median(rounds.a);
    const b = median(rounds.b);
    const aCount = a.count;
    const bCount = b.count;

    await reset();
    const c = await timed('influx-backup run, 1w chunks', process.execPath, cliArgs('1w'));
    const cCount = await countBackup(backup, 'bench_backup');

    const mb = (n) => `${(n / 1024 / 1024).toFixed(0)} MB`;
    const row = (r, n) =>
      `${r.label.padEnd(30)} ${n.toLocaleString('en-US').padStart(10)} values  ${Math.round(n / r.secs)
        .toLocaleString('en-US')
        .padStart(9)} values/s  ${r.secs.toFixed(2).padStart(6)} s  peak RSS ${mb(r.peak)}`;
    console.log(
      `\ndataset: ${total.toLocaleString('en-US')} field values, ${WORKERS} workers, batch ${BATCH}, on ${process.platform} ${(await import('node:os')).cpus().length} cores`,
    );
    console.log(row(a, aCount));
    console.log(row(b, bCount));
    console.log(row(c, cCount));
    console.log(`ratio a/b (values/s, medians of ${ROUNDS} rounds): ${(aCount / a.secs / (bCount / b.secs)).toFixed(3)}`);
    console.log(`peak RSS of run, max over all rounds: ${mb(Math.max(...rounds.a.map((r) => r.peak), c.peak))}`);
    for (const [r, n] of [...rounds.a.map((x) => [x, x.count]), ...rounds.b.map((x) => [x, x.count]), [c, cCount]]) {
      if (n !== total) console.log(`WARNING: ${r.label} copied ${n} of ${total} values`);
    }
  } finally {
    await Promise.allSettled([source.destroy(), backup.destroy(), redis.destroy()]);
  }
}
