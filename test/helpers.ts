import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeMeasurement, InfluxClient, type SeriesPiece } from '@influx-backup/influx';
import type { InfluxServer, RedisServer } from '@influx-backup/testkit';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'apps/cli/dist/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs the real CLI (or another program: `entry`, e.g. apps/worker/dist/main.js) as a child process.
 * With `openStdin`, its stdin is a pipe that is never written nor closed: a command that waits for an answer there never ends.
 */
export function cli(
  args: string[],
  {
    env = {},
    timeoutMs = 120_000,
    entry = CLI,
    openStdin = false,
  }: { env?: Record<string, string>; timeoutMs?: number; entry?: string; openStdin?: boolean } = {},
): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: [openStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A measurement name holding what InfluxQL and line protocol must escape, and Unicode. */
export const HOSTILE_M = 'we"ird, m=1; back\\slash ü 🌡';
export const HOSTILE_M_LP = escapeMeasurement(HOSTILE_M);

/**
 * Points of HOSTILE_M (11 values in 6 fields): tag keys and values with every special
 * character, a tag and a field of one name, int64 extremes and 2^53 + 1, strings with
 * quotes, backslashes and a newline, booleans, floats, ns and pre-1970 times.
 */
export const HOSTILE_LINES: readonly string[] = [
  `${HOSTILE_M_LP},t\\ a\\,g\\=1=v\\ a\\,l\\=ue;x,same=tagside,uni=日本 same=1.5,f\\ 1\\,x\\=y=-9223372036854775807i,big=9007199254740993i 1700000000123456789`,
  `${HOSTILE_M_LP},t\\ a\\,g\\=1=v2,same=t2 same=2.25,f\\ 1\\,x\\=y=9223372036854775807i,s="q\\"uo\\\\te\nnew line; DROP" 1700000000123456790`,
  `${HOSTILE_M_LP},t\\ a\\,g\\=1=v2 b=true,fl=-0.000001234,s="" -86400000000001`,
  `${HOSTILE_M_LP} b=false,fl=1.7976931348623157e308 0`,
];

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ib-${prefix}-`));
}

/** Writes a YAML configuration file and returns its path. */
export function writeConfig(dir: string, name: string, yaml: string): string {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/** What one test owns: its source and backup databases and its Redis prefix. */
export interface TestNames {
  src: string;
  dst: string;
  prefix: string;
}

/** Fresh names for each test of a file; `tag` keeps two files' apart in a shared server. */
export function namer(tag = ''): () => TestNames {
  let n = 0;
  return () => {
    n++;
    return { src: `${tag}src${n}`, dst: `${tag}dst${n}`, prefix: `${tag}t${n}` };
  };
}

/**
 * The configuration of the end-to-end tests: both servers, small batches (so a chunk
 * takes several writes), 1h chunks, a quick retry, no log file. `processing` and
 * `maxValues` replace the defaults; `extra` adds top-level keys; `timeout` is each
 * server's request timeout in seconds (longer when a test holds requests at a proxy).
 * A server is anything with its port (a PausingProxy in front of one, too).
 */
export function testConfig(
  dir: string,
  servers: { source: { port: number }; backup: { port: number }; redis: Pick<RedisServer, 'url'> },
  n: TestNames,
  measurements: string,
  {
    extra = '',
    processing = 'max_workers: 3, batch_size: 7, batch_interval: 0',
    maxValues = 1,
    timeout = 5,
  }: { extra?: string; processing?: string; maxValues?: number; timeout?: number } = {},
): string {
  return writeConfig(
    dir,
    `${n.prefix}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${servers.source.port}, database: ${y(n.src)}, retries: 1, timeout: ${timeout} }
  backup: { host: "127.0.0.1", port: ${servers.backup.port}, database: ${y(n.dst)}, retries: 1, timeout: ${timeout} }
processing: { ${processing} }
backup:
  measurements:
${measurements}
  time_chunks: { size: "1h", overlap: "0s", max_values: ${maxValues} }
  retry: { max_attempts: 2, backoff_factor: 1, max_backoff: 1 }
redis: { url: ${y(servers.redis.url)}, prefix: ${y(n.prefix)} }
logging: { level: "WARNING", handlers: { file: { enabled: false } } }
${extra}`,
  );
}

/** A string as a YAML double-quoted scalar. */
export function y(s: string): string {
  return JSON.stringify(s);
}

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  field: string;
  time: string;
  value: unknown;
}

/**
 * Every value of every field of a measurement, with its tags, exact time and
 * type, sorted: what two servers must agree on value by value.
 */
export async function dump(
  client: InfluxClient,
  db: string,
  measurement: string,
  retentionPolicy?: string,
): Promise<{ types: Record<string, string>; points: string[] }> {
  const keys = await client.fieldKeys(db, measurement, retentionPolicy);
  const from = retentionPolicy === undefined ? quote(measurement) : `${quote(retentionPolicy)}.${quote(measurement)}`;
  const types: Record<string, string> = {};
  for (const k of keys) types[k.field] = types[k.field] ? `${types[k.field]},${k.type}` : k.type;
  const points: string[] = [];
  for (const { field } of keys) {
    const q = `SELECT ${quote(field)}::field FROM ${from} GROUP BY *`;
    for await (const piece of client.select(q, db, 1000) as AsyncIterable<SeriesPiece>) {
      const tags = Object.entries(piece.tags ?? {})
        .filter(([, v]) => v !== '')
        .sort(([a], [b]) => (a < b ? -1 : 1));
      for (const [t, v] of piece.values) {
        if (v === null) continue;
        points.push(JSON.stringify([piece.name, tags, field, String(t), typeof v, exact(v)]));
      }
    }
  }
  points.sort();
  return { types, points };
}

/** One column of dump()'s rows of one field, in row order: `value` (exact()'s text, the default) or `time` (ns). */
export function column(points: readonly string[], field: string, which: 'value' | 'time' = 'value'): string[] {
  return points
    .map((p) => JSON.parse(p) as [string, unknown, string, string, string, string])
    .filter((row) => row[2] === field)
    .map((row) => (which === 'value' ? row[5] : row[3]));
}

/** A value as text that tells apart every two values a server may hold: -0 from 0, 1 from "1", true from "true". */
export function exact(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function quote(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * Points the server was asked to write since it started (SHOW STATS, module write,
 * pointReq): what a test compares before and after a command to count what it wrote.
 */
export async function pointsWritten(server: InfluxServer): Promise<number> {
  const answer = (await server.query('SHOW STATS')) as {
    results: { series?: { name: string; columns: string[]; values: number[][] }[] }[];
  };
  const write = answer.results[0]?.series?.find((s) => s.name === 'write');
  if (!write) throw new Error('SHOW STATS has no write module');
  return Number(write.values[0]?.[write.columns.indexOf('pointReq')] ?? NaN);
}

export function client(port: number): InfluxClient {
  return new InfluxClient({ host: '127.0.0.1', port, retries: 0, timeoutMs: 10_000 });
}

export interface LongRunning {
  readonly child: import('node:child_process').ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

/** Starts a long-running CLI command (worker, planner, dashboard, plan --wait), or another program `entry`, as a child process. */
export function spawnCli(args: string[], env: Record<string, string> = {}, entry: string = CLI): LongRunning {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((r) => child.on('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
  return { child, output: () => out, exited };
}
