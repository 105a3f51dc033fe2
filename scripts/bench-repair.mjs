// The repair part of `pnpm bench` (alone: `node scripts/bench.mjs --only repair`):
// what `verify --repair` costs beside the full pass it spares. 3,000,000 field values
// (100 series, the four field types, 200 one-hour chunks per field), in alternation,
// medians of BENCH_ROUNDS (default 3):
//   - `run --full` with processing.fields_per_job "all" into an emptied backup
//   - `verify --repair` of that unchanged range (counts on the size grid)
// then, once, late points in 1% of the chunks (2 of 200) and `verify --repair` again.
// For each: the source and backup influxd's CPU seconds (utime + stime from
// /proc/PID/stat before and after) and the points the backup was asked to write
// (SHOW STATS, module write, pointReq). Targets (issue 20): the shallow repair of an
// unchanged range costs the source at most a quarter of the full copy's CPU and
// writes nothing; with 1% of chunks late it writes at most 2% of what the copy writes.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInflux, startRedis } from '../packages/testkit/dist/index.js';
import { countValues, load } from './lib/dataset.mjs';
import { cpuSeconds } from './lib/proc.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(root, 'apps/cli/dist/main.js');
const WORKERS = 4;
const BATCH = 5000;
const HOUR_NS = 3_600_000_000_000n;
const spec = {
  measurement: 'bench_sensors',
  tags: { site: ['north', 'south', 'east', 'west', 'lab'], sensor: Array.from({ length: 20 }, (_, i) => `s${i}`) },
  fields: { temperature: 'float', counter: 'integer', state: 'string', online: 'boolean' },
  points: 7500,
  startNs: BigInt(Date.parse('2024-03-01T00:00:00Z')) * 1_000_000n,
  // 7,500 points 96 s apart: 200 hours, 200 one-hour chunks per field.
  stepNs: 96n * 1_000_000_000n,
};
/** The chunks late points land in: 1% of the 200. */
const LATE_HOURS = [50n, 150n];

async function exec(args) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`influx-backup ${args.join(' ')} exited ${code}:\n${out}`);
  return out;
}

async function pointsWritten(server) {
  const answer = await server.query('SHOW STATS');
  const write = answer.results[0].series.find((s) => s.name === 'write');
  return Number(write.values[0][write.columns.indexOf('pointReq')]);
}

export async function repairBench() {
  const total = countValues(spec);
  const [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  try {
    process.stderr.write(`loading ${total.toLocaleString('en-US')} field values into ${source.url} ...\n`);
    await load(source.url, 'bench', spec);
    const dir = mkdtempSync(join(tmpdir(), 'ib-bench-repair-'));
    const file = join(dir, 'repair.yaml');
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
redis: { url: "${redis.url}", prefix: "bench-repair" }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
`,
    );
    const count = async (server, database) => {
      let n = 0;
      for (const f of Object.keys(spec.fields)) {
        const res = await server.query(`SELECT COUNT("${f}") FROM "${spec.measurement}"`, database);
        n += Number(res.results[0].series?.[0]?.values[0][1] ?? 0);
      }
      return n;
    };
    const measure = async (label, args) => {
      const [s0, b0, w0] = [cpuSeconds(source.pid()), cpuSeconds(backup.pid()), await pointsWritten(backup)];
      const load0 = loadavg()[0];
      const started = process.hrtime.bigint();
      const out = await exec([...args, '--config', file]);
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      return {
        label,
        secs,
        srcCpu: cpuSeconds(source.pid()) - s0,
        bakCpu: cpuSeconds(backup.pid()) - b0,
        written: (await pointsWritten(backup)) - w0,
        load: load0,
        out,
      };
    };
    const emptyBackup = async () => {
      await backup.query('DROP DATABASE "bench_backup"');
      await backup.query('CREATE DATABASE "bench_backup"');
    };

    const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
    const full = [];
    const shallow = [];
    for (let i = 0; i < ROUNDS; i++) {
      await emptyBackup();
      full.push(await measure('run --full, fields_per_job all', ['run', '--full']));
      shallow.push(await measure('verify --repair, nothing changed', ['verify', '--repair']));
      process.stderr.write(
        `  round ${i + 1}: full pass ${full[i].secs.toFixed(2)} s, source ${full[i].srcCpu.toFixed(2)} s CPU; ` +
          `repair ${shallow[i].secs.toFixed(2)} s, source ${shallow[i].srcCpu.toFixed(2)} s CPU, ${shallow[i].written} points written\n`,
      );
    }
    const copied = await count(backup, 'bench_backup');

    // A sensor offline for a while uploads late: 5 points in a series of its own in each of 2 chunks of 200.
    const late = [];
    for (const h of LATE_HOURS)
      for (let p = 0; p < 5; p++)
        late.push(
          `${spec.measurement},site=late,sensor=s99 temperature=${p}.5,counter=${p}i,state="late",online=true ${spec.startNs + h * HOUR_NS + BigInt(p) * 1_000_000_000n}`,
        );
    await source.write('bench', late.join('\n'));
    const lateRepair = await measure('verify --repair, 1% of chunks late', ['verify', '--repair']);
    const exact = (await count(backup, 'bench_backup')) === (await count(source, 'bench'));

    const median = (list, key) => [...list].sort((x, y) => x[key] - y[key])[Math.floor(list.length / 2)][key];
    const row = (label, list) =>
      `| ${label} | ${median(list, 'secs').toFixed(2)} | ${median(list, 'srcCpu').toFixed(2)} | ${median(list, 'bakCpu').toFixed(2)} | ${median(list, 'written').toLocaleString('en-US')} | ${median(list, 'load').toFixed(1)} |`;
    console.log(
      `\nrepair: ${total.toLocaleString('en-US')} field values (4 fields, 100 series, 200 one-hour chunks per field), ${WORKERS} workers, batch ${BATCH}, ${cpus().length} cores, medians of ${ROUNDS} rounds`,
    );
    console.log('| pass | wall s | source influxd CPU s | backup influxd CPU s | points written | load (1 min) |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    console.log(row(full[0].label, full));
    console.log(row(shallow[0].label, shallow));
    console.log(row(lateRepair.label, [lateRepair]));
    const cpuRatio = median(shallow, 'srcCpu') / median(full, 'srcCpu');
    const perRound = shallow.map((s, i) => (s.srcCpu / full[i].srcCpu).toFixed(2)).join(', ');
    console.log(`\nshallow repair / full pass, source CPU: ${cpuRatio.toFixed(2)} (rounds: ${perRound}) (target <= 0.25)`);
    console.log(`shallow repair of the unchanged range, points written: ${Math.max(...shallow.map((s) => s.written))} (target 0)`);
    const writeRatio = lateRepair.written / median(full, 'written');
    console.log(
      `1% of chunks late, points written / full pass: ${writeRatio.toFixed(4)} (${lateRepair.written.toLocaleString('en-US')} of ${median(full, 'written').toLocaleString('en-US')}) (target <= 0.02)`,
    );
    console.log(`backup exact after the repair (COUNT of every field): ${exact ? 'yes' : 'NO'} (target yes)`);
    if (copied !== total) console.log(`WARNING: the full passes copied ${copied} of ${total} values`);
  } finally {
    await Promise.allSettled([source.destroy(), backup.destroy(), redis.destroy()]);
  }
}
