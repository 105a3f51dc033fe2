// What a new user meets on the command line (issue 25): a typo, --help, a missing configuration, `config --check`,
// and the CLI run through pnpm. The real CLI as a child process; `config --check` against real Redis and InfluxDB.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, startInflux, startRedis, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, ROOT, tempDir, writeConfig, y, type CliResult } from './helpers.js';

/** stderr's lines that say something. */
function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

describe('the command line without servers', () => {
  test('a mistyped command prints the suggestion and one line of usage, not the whole help; exit 2', async () => {
    const r = await cli(['stauts']);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(lines(r.stderr), [
      "error: unknown command 'stauts'",
      '(Did you mean status?)',
      'usage: influx-backup COMMAND [flags]   (influx-backup --help lists the commands)',
    ]);
    assert.equal(r.stdout, '');
  });

  test("a mistyped flag prints the suggestion and its command's usage line; exit 2", async () => {
    const r = await cli(['run', '--ful']);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(lines(r.stderr), [
      "error: unknown option '--ful'",
      '(Did you mean --full?)',
      'usage: influx-backup run [options]   (influx-backup run --help lists its flags)',
    ]);
  });

  test('--help shows the flags every command takes, with the default file, and three examples', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Every command takes:\n {2}--config <file> +the configuration file \(default: "config\/backup_config\.yaml"\)$/m,
    );
    assert.match(r.stdout, /^ {2}--log-level <level> +DEBUG, INFO, WARNING, ERROR, CRITICAL/m);
    assert.match(r.stdout, /^ {2}--verbose +debug logging, and stack traces on errors$/m);
    const examples = r.stdout.split('Examples:\n')[1]?.split('\n\n')[0] ?? '';
    assert.equal(lines(examples).filter((l) => l.startsWith('  influx-backup ')).length, 3, r.stdout);
    // Each command is still listed.
    for (const cmd of ['run', 'plan', 'backfill', 'restore', 'worker', 'status', 'verify', 'config', 'planner', 'dashboard'])
      assert.match(r.stdout, new RegExp(`^ {2}${cmd} `, 'm'));
  });

  test('a missing configuration file names it, the template and how to start from it, in one line; exit 2', async () => {
    const file = join(tempDir('cli-usage'), 'nowhere.yaml');
    const r = await cli(['status', '--config', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.ok(r.stderr.includes(file), r.stderr);
    assert.match(r.stderr, /cp config\/backup_config\.yaml\.template config\/backup_config\.yaml/);
    assert.match(r.stderr, /\.demo\/demo\.yaml/);
  });

  test('through pnpm exec a failing command exits with its own status and pnpm adds no ELIFECYCLE line', async () => {
    const r = await new Promise<CliResult>((done) => {
      const started = Date.now();
      const child = spawn('pnpm', ['exec', 'influx-backup', 'stauts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => done({ code, stdout, stderr, ms: Date.now() - started }));
    });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /Did you mean status\?/);
    assert.doesNotMatch(r.stdout + r.stderr, /ELIFECYCLE/);
  });
});

describe('config --check against real servers', () => {
  let influx: InfluxServer;
  let redis: RedisServer;
  let dir: string;
  before(async () => {
    [influx, redis] = await Promise.all([startInflux(), startRedis()]);
    dir = tempDir('cli-check');
    await influx.query('CREATE DATABASE "checked"');
  });
  after(async () => {
    await Promise.allSettled([influx?.destroy(), redis?.destroy()]);
  });

  const config = (backupPort: number): string =>
    writeConfig(
      dir,
      `check-${backupPort}.yaml`,
      `databases:
  source: { host: "127.0.0.1", port: ${influx.port}, database: "checked", retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backupPort}, database: "checked_copy", retries: 0, timeout: 5 }
backup:
  measurements:
    - name: "m"
      start_time: "2026-11-25T00:00:00Z"
redis: { url: ${y(redis.url)}, prefix: "check" }
`,
    );

  test('prints its verdict first, a line per server, and says no credentials are configured when none are; the configuration only with --print', async () => {
    const file = config(influx.port);
    const r = await cli(['config', '--check', '--config', file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = lines(r.stdout);
    assert.equal(out[0], `configuration ${file} is valid`);
    assert.match(out[1] ?? '', /^ok +Redis 127\.0\.0\.1:\d+ +Redis \S+$/);
    assert.match(
      out[2] ?? '',
      /^ok +source InfluxDB 127\.0\.0\.1:\d+ +InfluxDB \S+, no credentials configured \(databases\.source\.username\); /,
    );
    assert.match(
      out[3] ?? '',
      /^ok +backup InfluxDB 127\.0\.0\.1:\d+ +InfluxDB \S+, no credentials configured \(databases\.backup\.username\); /,
    );
    assert.equal(out[4], 'every server answered (3)');
    assert.equal(out.length, 5, 'no configuration without --print');
    assert.doesNotMatch(r.stdout, /credentials accepted/);

    const printed = await cli(['config', '--check', '--print', '--config', file]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.deepEqual(lines(printed.stdout).slice(0, 5), out, 'the same verdict first');
    const rest = printed.stdout.split('every server answered (3)\n')[1] ?? '';
    assert.match(rest, /^\n# Effective configuration from .* \(secrets masked\)\n/);
    assert.match(rest, /^databases:\n {2}source:\n/m);
  });

  test('a server that fails is a FAILED line among the others, counted at the end; exit 1', async () => {
    const r = await cli(['config', '--check', '--config', config(await freePort())]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = lines(r.stdout);
    assert.match(out[3] ?? '', /^FAILED +backup InfluxDB 127\.0\.0\.1:\d+ +connection refused/);
    assert.equal(out.at(-1), '1 of 3 servers FAILED');
  });
});
