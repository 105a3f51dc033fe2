// temp experiment: drain CPU per job, code at ROOT (argv[2]); not committed
import { spawn, execSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInflux, startRedis } from '../packages/testkit/dist/index.js';
const ROOT = process.argv[2];
const HOURS = Number(process.argv[3] ?? 1440);
const CLI = join(ROOT, 'apps/cli/dist/main.js');
const H = 3_600_000_000_000n;
const cpu = (pid) => { try { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; } catch { return NaN; } };
async function post(url, path, body) { const r = await fetch(url + path, { method: 'POST', body }); if (!r.ok) throw new Error(await r.text()); }
const [source, backup] = await Promise.all([startInflux(), startInflux()]);
const redis = await startRedis();
const redisPid = Number(execSync(`pgrep -f "redis-server.*:${redis.port}" | head -1`).toString().trim());
await post(source.url, '/query', new URLSearchParams({ q: 'CREATE DATABASE "year"' }));
let lines = [];
const start = Date.parse('2023-01-01T00:00:00Z');
for (let h = 0; h < HOURS; h++) { const t = BigInt(start) * 1_000_000n + BigInt(h) * H; for (let s = 0; s < 2; s++) lines.push(`hourly,series=s${s} ${Array.from({ length: 10 }, (_, f) => `f${f}=${(h * 31 + s * 7 + f) % 100003}i`).join(',')} ${t}`); if (lines.length >= 2000) await post(source.url, '/write?db=year&precision=ns', lines.splice(0).join('\n')); }
if (lines.length) await post(source.url, '/write?db=year&precision=ns', lines.join('\n'));
const end = new Date(start + HOURS * 3600e3 - 1000).toISOString();
const dir = mkdtempSync(join(tmpdir(), 'ib-drain-'));
const file = join(dir, 'c.yaml');
writeFileSync(file, `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "year" }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: "year_backup" }
processing: { max_workers: 8, batch_size: 5000, batch_interval: 0, worker_memory_limit: 200 }
backup:
  measurements:
    - { name: "hourly", start_time: "2023-01-01T00:00:00Z", end_time: "${end}" }
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
redis: { url: "${redis.url}", prefix: "scale" }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
`);
const run = (args) => { const c = spawn(process.execPath, [...(args[0] === 'worker' && process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.PROF] : []), CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }); let out = ''; c.stdout.on('data', (d) => (out += d)); c.stderr.on('data', (d) => (out += d)); return { c, out: () => out, done: new Promise((r) => c.on('exit', (code) => r(code))) }; };
if (process.env.WAITMODE) {
  const pids0 = [redisPid, source.pid(), backup.pid()];
  const z0 = pids0.map(cpu);
  const t0 = Date.now();
  const waiter = run(['plan', '--wait', '--full', '--config', file]);
  const workers = [run(['worker', '--config', file]), run(['worker', '--config', file])];
  let last = [0, 0, 0];
  const timer = setInterval(() => { const v = [waiter, ...workers].map((w) => cpu(w.c.pid)); last = v.map((x, i) => (Number.isNaN(x) ? last[i] : x)); }, 100);
  const code = await waiter.done;
  const wall = (Date.now() - t0) / 1000;
  clearInterval(timer);
  const z1 = pids0.map(cpu);
  for (const w of workers) w.c.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.done));
  console.log(JSON.stringify({ root: ROOT, code, wall, planWaitCpu: last[0], workerCpu: last.slice(1), redisCpu: +(z1[0] - z0[0]).toFixed(2), srcCpu: +(z1[1] - z0[1]).toFixed(2), bakCpu: +(z1[2] - z0[2]).toFixed(2) }));
  console.log(waiter.out().slice(-600));
  await Promise.all([source.destroy(), backup.destroy(), redis.destroy()]);
  process.exit(0);
}
const p = run(['plan', '--full', '--config', file]); if (await p.done !== 0) throw new Error(p.out());
const pids = [redisPid, source.pid(), backup.pid()];
const statsOf = async () => Object.fromEntries((await r0.info('commandstats')).split('\n').filter((l) => l.startsWith('cmdstat_')).map((l) => [l.split(':')[0].slice(8), Number(/calls=(\d+)/.exec(l)[1])]));
const { Redis: R0 } = (await import('node:module')).createRequire(join(ROOT, 'packages/queue/package.json'))('ioredis');
const r0 = new R0(redis.url);
const s0 = await statsOf();
const c0 = pids.map(cpu);
const t0 = Date.now();
const workers = [run(['worker', '--config', file]), run(['worker', '--config', file])];
const { Redis } = (await import('node:module')).createRequire(join(ROOT, 'packages/queue/package.json'))('ioredis');
const r = new Redis(redis.url);
let wcpu = [0, 0];
for (;;) { await new Promise((res) => setTimeout(res, 200)); wcpu = workers.map((w) => cpu(w.c.pid)); const [w, a, pr] = await Promise.all([r.llen('scale:copy:wait'), r.llen('scale:copy:active'), r.zcard('scale:copy:prioritized')]); if (w + a + pr === 0) break; }
const wall = (Date.now() - t0) / 1000;
const c1 = pids.map(cpu);
const s1 = await statsOf();
const per = Object.fromEntries(Object.entries(s1).map(([k, v]) => [k, +((v - (s0[k] ?? 0)) / (HOURS * 10)).toFixed(3)]).filter(([, v]) => v > 0.001));
console.log(JSON.stringify(per));
r0.disconnect();
for (const w of workers) w.c.kill('SIGTERM');
await Promise.all(workers.map((w) => w.done));
const jobs = HOURS * 10;
console.log(JSON.stringify({ root: ROOT, jobs, wall, perJobMs: (wall * 1000 / jobs).toFixed(3), workerCpu: wcpu, redisCpu: c1[0] - c0[0], srcCpu: c1[1] - c0[1], bakCpu: c1[2] - c0[2], workerCpuPerJobMs: ((wcpu[0] + wcpu[1]) * 1000 / jobs).toFixed(3), redisCpuPerJobMs: ((c1[0] - c0[0]) * 1000 / jobs).toFixed(3) }));
r.disconnect();
await Promise.all([source.destroy(), backup.destroy(), redis.destroy()]);
