// The fields part of `pnpm bench` (alone: `node scripts/bench.mjs --only fields`):
// issue 9's comparison on a 3M-value dataset (the copy part's, three times the
// points). In alternation, medians of BENCH_ROUNDS (default 3):
//   - `influx-backup run --full` with processing.fields_per_job "all"
//   - the minimal whole-point copier (scripts/bench-whole.mjs)
//   - the minimal per-field copier (scripts/bench-minimal.mjs)
//   - server-side SELECT INTO (into another database of the source server)
// Each prints values/s and the CPU seconds of each influxd (utime + stime from
// /proc/PID/stat before and after). Then `run` twice with fields_per_job "all"
// and checkpoints: the first copies everything, the second finds nothing new.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInflux, startRedis } from '../packages/testkit/dist/index.js';
import { countValues, load } from './lib/dataset.mjs';
import { cpuSeconds } from './lib/proc.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WORKERS = 4;
const BATCH = 5000;
const spec = {
  measurement: 'bench_sensors',
  tags: { site: ['north', 'south', 'east', 'west', 'lab'], sensor: Array.from({ length: 20 }, (_, i) => `s${i}`) },
  fields: { temperature: 'float', counter: 'integer', state: 'string', online: 'boolean' },
  points: 7500,
  startNs: BigInt(Date.parse('2024-03-01T00:00:00Z')) * 1_000_000n,
  stepNs: 35n * 1_000_000_000n,
};

async function exec(cmd, args, env = {}) {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`);
}

export async function fieldsBench() {
  const total = countValues(spec);
  const [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  try {
    process.stderr.write(`loading ${total.toLocaleString('en-US')} field values into ${source.url} ...\n`);
    await load(source.url, 'bench', spec);
    const dir = mkdtempSync(join(tmpdir(), 'ib-bench-fields-'));
    let db = 0;
    const config = () => {
      const file = join(dir, `bench-${++db}.yaml`);
      writeFileSync(
        file,
        `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "bench" }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: "bench_backup" }
processing: { max_workers: ${WORKERS}, batch_size: ${BATCH}, batch_interval: 0, worker_memory_limit: 200, fields_per_job: "all" }
backup:
  measurements:
    - name: "${spec.measurement}"
      start_time: "2024-01-01T00:00:00Z"
      end_time: "2024-12-31T23:59:59Z"
  time_chunks: { size: "1h", overlap: "0s" }
redis: { url: "${redis.url.replace(/\/0$/, `/${db % 16}`)}", prefix: "bench-fields-${db}" }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
`,
      );
      return file;
    };
    const count = async (server, database) => {
      let n = 0;
      for (const f of Object.keys(spec.fields)) {
        const res = await server.query(`SELECT COUNT("${f}") FROM "${spec.measurement}"`, database);
        n += Number(res.results[0].series?.[0]?.values[0][1] ?? 0);
      }
      return n;
    };
    const minimalEnv = {
      SRC: source.url,
      DST: backup.url,
      MEASUREMENT: spec.measurement,
      FIELDS: Object.keys(spec.fields).join(','),
      INT_FIELDS: Object.keys(spec.fields)
        .filter((f) => spec.fields[f] === 'integer')
        .join(','),
      CONCURRENCY: String(WORKERS),
      BATCH: String(BATCH),
    };
    const CLI = join(root, 'apps/cli/dist/main.js');
    const methods = {
      'run, fields_per_job all': {
        go: () => exec(process.execPath, [CLI, 'run', '--full', '--config', config()]),
        counted: () => count(backup, 'bench_backup'),
      },
      'minimal whole-point copier': {
        go: () => exec(process.execPath, [join(root, 'scripts/bench-whole.mjs')], minimalEnv),
        counted: () => count(backup, 'bench_backup'),
      },
      'minimal per-field copier': {
        go: () => exec(process.execPath, [join(root, 'scripts/bench-minimal.mjs')], minimalEnv),
        counted: () => count(backup, 'bench_backup'),
      },
      'SELECT INTO (source only)': {
        go: () => source.query(`SELECT * INTO "bench_into"."autogen"."${spec.measurement}" FROM "${spec.measurement}" GROUP BY *`, 'bench'),
        counted: () => count(source, 'bench_into'),
      },
    };
    const reset = async () => {
      await backup.query('DROP DATABASE "bench_backup"');
      await backup.query('CREATE DATABASE "bench_backup"');
      await source.query('DROP DATABASE "bench_into"');
      await source.query('CREATE DATABASE "bench_into"');
    };
    const measure = async (label, go) => {
      const [s0, b0] = [cpuSeconds(source.pid()), cpuSeconds(backup.pid())];
      const load0 = loadavg()[0];
      const started = process.hrtime.bigint();
      await go();
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      return { label, secs, srcCpu: cpuSeconds(source.pid()) - s0, bakCpu: cpuSeconds(backup.pid()) - b0, load: load0 };
    };

    const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
    const rounds = Object.fromEntries(Object.keys(methods).map((k) => [k, []]));
    const names = Object.keys(methods);
    for (let i = 0; i < ROUNDS; i++) {
      // Rotate the order: the servers' background work (compactions) falls on each in turn.
      for (const name of [...names.slice(i % names.length), ...names.slice(0, i % names.length)]) {
        await reset();
        const r = await measure(name, methods[name].go);
        r.count = await methods[name].counted();
        rounds[name].push(r);
        process.stderr.write(`  round ${i + 1}: ${name} ${r.secs.toFixed(2)} s (load ${r.load.toFixed(1)})\n`);
      }
    }
    const median = (list) => [...list].sort((x, y) => x.secs - y.secs)[Math.floor(list.length / 2)];
    const med = Object.fromEntries(names.map((n) => [n, median(rounds[n])]));

    // Incremental: checkpoints kept in one Redis prefix; the second run has nothing new.
    await reset();
    const inc = config();
    const first = await measure('run (incremental), first', () => exec(process.execPath, [CLI, 'run', '--config', inc]));
    const second = await measure('run (incremental), nothing new', () => exec(process.execPath, [CLI, 'run', '--config', inc]));

    const rate = (r) => r.count / r.secs;
    console.log(
      `\ndataset: ${total.toLocaleString('en-US')} field values (4 fields, 100 series), ${WORKERS} workers, batch ${BATCH}, ${cpus().length} cores, medians of ${ROUNDS} rounds`,
    );
    console.log('| method | values/s | wall s | source influxd CPU s | backup influxd CPU s | load (1 min) |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const n of names) {
      const r = med[n];
      const bak = n.startsWith('SELECT INTO') ? '-' : r.bakCpu.toFixed(1);
      console.log(
        `| ${n} | ${Math.round(rate(r)).toLocaleString('en-US')} | ${r.secs.toFixed(2)} | ${r.srcCpu.toFixed(1)} | ${bak} | ${r.load.toFixed(1)} |`,
      );
    }
    for (const r of [first, second])
      console.log(`| ${r.label} | - | ${r.secs.toFixed(2)} | ${r.srcCpu.toFixed(1)} | ${r.bakCpu.toFixed(1)} | ${r.load.toFixed(1)} |`);
    const all = med['run, fields_per_job all'];
    const whole = med['minimal whole-point copier'];
    const into = med['SELECT INTO (source only)'];
    console.log(`\nall / whole-point copier (values/s): ${(rate(all) / rate(whole)).toFixed(2)} (target >= 0.9)`);
    console.log(`all / SELECT INTO (values/s): ${(rate(all) / rate(into)).toFixed(2)} (target >= 1.3)`);
    console.log(
      `source CPU per value, all / whole-point: ${(all.srcCpu / all.count / (whole.srcCpu / whole.count)).toFixed(2)} (target <= 1.2)`,
    );
    console.log(`second incremental run / first (wall): ${(second.secs / first.secs).toFixed(2)}`);
    for (const n of names)
      for (const r of rounds[n]) if (r.count !== total) console.log(`WARNING: ${n} copied ${r.count} of ${total} values`);
    const incCount = await count(backup, 'bench_backup');
    if (incCount !== total) console.log(`WARNING: the incremental runs copied ${incCount} of ${total} values`);
  } finally {
    await Promise.allSettled([source.destroy(), backup.destroy(), redis.destroy()]);
  }
}
