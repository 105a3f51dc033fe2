// The `config` command of the real CLI, run as a child process from the repository root:
// every seed example is valid (exit 0); every bad input gives exit 2 and one line on
// standard error that names the problem, without a stack trace; no password ever shows.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'apps/cli/dist/main.js');
const EXAMPLES = join(ROOT, 'config/examples');

const FILE_SECRET = 'file-secret-Xy9q';
const ENV_SECRETS = {
  INFLUX_BACKUP_PASS: 'env-secret-Qz7w',
  DASHBOARD_PASSWORD: 'dash-secret-Lp4k',
  REDIS_URL: 'redis://:redis-secret-Wq3e@127.0.0.1:6379/0',
};
const SECRETS = [FILE_SECRET, 'env-secret-Qz7w', 'dash-secret-Lp4k', 'redis-secret-Wq3e'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Only what the test gives: none of the runner's INFLUX_*, LOG_LEVEL or REDIS_URL. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...extra };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function assertNoSecrets(run: Run, what: string): void {
  for (const secret of SECRETS) {
    assert.ok(!run.stdout.includes(secret), `${what}: ${secret} on stdout`);
    assert.ok(!run.stderr.includes(secret), `${what}: ${secret} on stderr`);
  }
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ib-config-cli-'));
}

/** A valid file with a password in it; the cases below break one thing each. */
const VALID = `databases:
  source:
    host: "source.example"
    database: "metrics"
    username: "reader"
    password: "${FILE_SECRET}"
  backup:
    host: "backup.example"
backup:
  measurements:
    - name: "cpu"
      fields: ["usage"]
      start_time: "2023-01-01T00:00:00Z"
    - name: "mem"
      start_time: "2023-01-01T00:00:00Z"
dashboard:
  password: "\${DASHBOARD_PASSWORD}"
`;

interface BadCase {
  name: string;
  /** The file's text; undefined for a file that does not exist. */
  text: string | undefined;
  env?: Record<string, string>;
  args?: string[];
  /** What the one line on stderr must say. */
  expect: RegExp[];
}

const BAD: BadCase[] = [
  { name: 'missing file', text: undefined, expect: [/does-not-exist\.yaml/] },
  { name: 'YAML syntax error', text: `${VALID}processing:\n  max_workers: 4: 5\n`, expect: [/YAML/, /:19\b/] },
  { name: 'wrong type', text: `${VALID}processing:\n  max_workers: "four"\n`, expect: [/processing\.max_workers/] },
  { name: 'negative number', text: `${VALID}processing:\n  batch_interval: -1\n`, expect: [/processing\.batch_interval/] },
  { name: 'unknown top-level key', text: `${VALID}procesing:\n  max_workers: 2\n`, expect: [/procesing/] },
  {
    name: 'misspelt key in measurements[1]',
    text: VALID.replace('    - name: "mem"\n      start_time', '    - name: "mem"\n      start_tme'),
    expect: [/backup\.measurements\[1\]\.start_tme/],
  },
  {
    name: 'bad time',
    text: VALID.replace(
      '    - name: "mem"\n      start_time: "2023-01-01T00:00:00Z"',
      '    - name: "mem"\n      start_time: "2023-02-30T00:00:00Z"',
    ),
    expect: [/backup\.measurements\[1\]\.start_time/],
  },
  {
    name: 'bad duration',
    text: `${VALID.replace('backup:\n  measurements', 'backup:\n  time_chunks:\n    size: "1x"\n  measurements')}`,
    expect: [/backup\.time_chunks\.size/],
  },
  {
    name: 'unset variable',
    text: VALID.replace('"backup.example"', '"${NOT_SET_ANYWHERE_VAR}"'),
    expect: [/NOT_SET_ANYWHERE_VAR/, /databases\.backup\.host/],
  },
  { name: 'bad override variable', text: VALID, env: { MAX_WORKERS: 'lots' }, expect: [/MAX_WORKERS/, /processing\.max_workers/] },
  { name: 'bad --log-level', text: VALID, args: ['--log-level', 'loud'], expect: [/log-level/] },
];

describe('influx-backup config', () => {
  test('the CLI is built', () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run pnpm build`);
  });

  for (const [name, env] of [
    ['full.yaml', {}],
    ['iot-basic.yaml', {}],
    [
      'production.yaml',
      { INFLUX_PASSWORD: FILE_SECRET, INFLUX_BACKUP_HOST: 'backup.example', INFLUX_BACKUP_PASS: ENV_SECRETS.INFLUX_BACKUP_PASS },
    ],
  ] as const) {
    test(`the seed's ${name} is valid`, async () => {
      const run = await cli(['config', '--config', join(EXAMPLES, name), '--log-level', 'debug'], {
        ...env,
        REDIS_URL: ENV_SECRETS.REDIS_URL,
      });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /databases:/);
      assert.doesNotMatch(run.stderr, /^\s+at /m);
      assertNoSecrets(run, name);
    });
  }

  test('full.yaml prints its effective configuration with its passwords masked', async () => {
    const run = await cli(['config', '--config', join(EXAMPLES, 'full.yaml')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /password: "\*{8}"/);
    assert.ok(!run.stdout.includes('backup_pass'), 'the backup password of full.yaml was printed');
  });

  test('a valid file with secrets in the file and the environment prints none of them, even at debug', async () => {
    const dir = tempDir();
    const file = join(dir, 'valid.yaml');
    writeFileSync(file, VALID);
    for (const args of [[], ['--log-level', 'debug'], ['--log-level', 'DEBUG']]) {
      const run = await cli(['config', '--config', file, ...args], ENV_SECRETS);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /username: reader/);
      assertNoSecrets(run, `valid ${args.join(' ')}`);
    }
  });

  for (const bad of BAD) {
    test(`${bad.name}: exit 2 and one line naming the problem`, async () => {
      const dir = tempDir();
      const file = join(dir, bad.text === undefined ? 'does-not-exist.yaml' : 'config.yaml');
      if (bad.text !== undefined) writeFileSync(file, bad.text);
      for (const level of [[], ['--log-level', 'debug']]) {
        const args = ['config', '--config', file, ...(bad.args ?? level)];
        const run = await cli(args, { ...ENV_SECRETS, ...(bad.env ?? {}) });
        const what = `${bad.name} (${args.slice(3).join(' ') || 'default level'})`;
        assert.equal(run.code, 2, `${what}: exit ${run.code}\n${run.stderr}`);
        const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
        assert.equal(lines.length, 1, `${what}: expected one line on stderr, got:\n${run.stderr}`);
        assert.match(lines[0] ?? '', /^error: /);
        for (const pattern of bad.expect) assert.match(lines[0] ?? '', pattern, what);
        assert.doesNotMatch(run.stderr, / {4}at /, `${what}: stack trace`);
        assertNoSecrets(run, what);
      }
    });
  }
});
