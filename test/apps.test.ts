// The planner, worker and dashboard as programs of their own (node apps/ROLE/dist/main.js),
// run as child processes: the CLI's flags and exit statuses, one line per error, and the
// same role code as `influx-backup ROLE`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis, waitFor, type RedisServer } from '@influx-backup/testkit';
import { cli, ROOT, spawnCli, tempDir, writeConfig, type CliResult } from './helpers.js';

const ROLES = ['planner', 'worker', 'dashboard'] as const;
const main = (role: string): string => join(ROOT, 'apps', role, 'dist/main.js');

/** A valid file whose servers are nowhere; enough for errors raised before any connection. */
const CONFIG = `databases:
  source:
    host: "127.0.0.1"
    port: 1
    database: "metrics"
  backup:
    host: "127.0.0.1"
    port: 1
backup:
  measurements:
    - name: "cpu"
      start_time: "2023-01-01T00:00:00Z"
logging:
  handlers:
    file:
      enabled: false
`;

function assertOneLine(run: CliResult, what: string, ...patterns: RegExp[]): void {
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `${what}: expected one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0] ?? '', /^error: /);
  for (const p of patterns) assert.match(lines[0] ?? '', p, what);
}

describe('apps/planner, apps/worker and apps/dashboard', () => {
  for (const role of ROLES) {
    test(`${role}: built, --help names the three flags`, async () => {
      assert.ok(existsSync(main(role)), `${main(role)} is missing: run pnpm build`);
      const run = await cli(['--help'], { entry: main(role) });
      assert.equal(run.code, 0, run.stderr);
      for (const flag of ['--config', '--log-level', '--verbose']) assert.ok(run.stdout.includes(flag), `${flag} in\n${run.stdout}`);
    });

    test(`${role}: a missing config file exits 2 and names the file, as influx-backup ${role} does`, async () => {
      const file = join(tempDir('apps'), 'missing.yaml');
      for (const [what, run] of [
        [`apps/${role}`, await cli(['--config', file], { entry: main(role) })],
        [`influx-backup ${role}`, await cli([role, '--config', file])],
      ] as const) {
        assert.equal(run.code, 2, `${what}: exit ${run.code}\n${run.stderr}`);
        assertOneLine(run, what, /missing\.yaml/);
        assert.doesNotMatch(run.stderr, / {4}at /, `${what}: stack trace`);
      }
    });

    test(`${role}: bad usage and a bad key exit 2, naming the flag or the key`, async () => {
      const dir = tempDir('apps');
      const bad = writeConfig(dir, 'bad.yaml', `${CONFIG}procesing:\n  max_workers: 2\n`);
      const good = writeConfig(dir, 'good.yaml', CONFIG);
      const unknownKey = await cli(['--config', bad], { entry: main(role) });
      assert.equal(unknownKey.code, 2, unknownKey.stderr);
      assertOneLine(unknownKey, 'unknown key', /procesing/);
      const level = await cli(['--config', good, '--log-level', 'loud'], { entry: main(role) });
      assert.equal(level.code, 2, level.stderr);
      assertOneLine(level, '--log-level loud', /log-level/);
      const flag = await cli(['--config', good, '--no-such-flag'], { entry: main(role) });
      assert.equal(flag.code, 2, flag.stderr);
      assert.match(flag.stderr, /--no-such-flag/);
    });
  }

  test('dashboard: refuses to start without dashboard.password, exit 2 naming the key', async () => {
    const file = writeConfig(tempDir('apps'), 'nopw.yaml', CONFIG);
    const run = await cli(['--config', file], { entry: main('dashboard'), env: { DASHBOARD_PASSWORD: '' } });
    assert.equal(run.code, 2, run.stderr);
    assertOneLine(run, 'no password', /dashboard\.password/);
  });
});

describe('apps/dashboard against a real Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.destroy();
  });

  test('serves until SIGTERM, then closes and exits 0', async () => {
    const file = writeConfig(
      tempDir('apps'),
      'dashboard.yaml',
      `${CONFIG}redis:\n  url: "${redis.url}"\n  prefix: "apps-dashboard"\ndashboard:\n  port: 0\n  password: "\${DASHBOARD_PASSWORD}"\n`,
    );
    const app = spawnCli(['--config', file], { DASHBOARD_PASSWORD: 'apps-test-secret' }, main('dashboard'));
    try {
      const url = await waitFor('the dashboard to listen', () => /dashboard at (http:\/\/\S+\/)/.exec(app.output())?.[1]);
      const health = await fetch(`${url}health`);
      assert.equal(health.status, 200, await health.text());
      app.child.kill('SIGTERM');
      assert.equal(await app.exited, 0, app.output());
      assert.match(app.output(), /SIGTERM: closing the dashboard/);
      assert.ok(!app.output().includes('apps-test-secret'), app.output());
    } finally {
      app.child.kill('SIGKILL');
    }
  });
});
