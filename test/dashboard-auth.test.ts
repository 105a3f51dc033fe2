// The dashboard's basic auth against wrong credentials, through the real dashboard
// program: /fields and /api/fields (and every other page but /health) answer 401 and
// show nothing of the backup to a wrong user name, a wrong or near-miss password, or a
// malformed header.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, spawnCli, tempDir, writeConfig, y } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
const PASSWORD = 'Dash-b0ard:pw';

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  await source.query('CREATE DATABASE "guarded"');
  await source.write('guarded', `chiller coolant_temp=4.5,pump_runs=12i ${BigInt(Date.parse('2024-01-01T00:30:00Z')) * 1_000_000n}`);
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test('/fields and /api/fields with wrong credentials: 401 with the Basic challenge and nothing of the backup; the right ones see the fields', async () => {
  const file = writeConfig(
    tempDir('dash-auth'),
    'auth.yaml',
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: "guarded" }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: "guarded_copy" }
backup:
  measurements:
    - { name: "chiller", start_time: "2024-01-01T00:00:00Z", end_time: "2024-01-02T00:00:00Z" }
redis: { url: ${y(redis.url)}, prefix: "guarded" }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
dashboard: { port: 0, username: "ops", password: "\${DASHBOARD_PASSWORD}" }
`,
  );
  const env = { DASHBOARD_PASSWORD: PASSWORD };
  const run = await cli(['run', '--config', file], { env });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const app = spawnCli(['dashboard', '--config', file], env);
  try {
    const url = await waitFor('the dashboard to listen', () => /dashboard at (http:\/\/\S+\/)/.exec(app.output())?.[1]);
    const wrong: [string, string | undefined][] = [
      ['no header', undefined],
      ['wrong password', basic('ops', 'not-the-password')],
      ['wrong user', basic('admin', PASSWORD)],
      ['user name in another case', basic('OPS', PASSWORD)],
      ['the password but its last character', basic('ops', PASSWORD.slice(0, -1))],
      ['the password and one more character', basic('ops', `${PASSWORD}x`)],
      ['an empty password', basic('ops', '')],
      ['an empty user', basic('', PASSWORD)],
      ['not base64', 'Basic !!!not-base64!!!'],
      ['no colon', `Basic ${Buffer.from(`ops${PASSWORD}`).toString('base64')}`],
      ['another scheme', `Bearer ${PASSWORD}`],
    ];
    for (const path of ['fields', 'api/fields', 'api/status', 'metrics', '']) {
      for (const [what, authorization] of wrong) {
        const res = await fetch(`${url}${path}`, { headers: authorization === undefined ? {} : { authorization } });
        const body = await res.text();
        assert.equal(res.status, 401, `/${path} with ${what}: ${res.status}`);
        assert.equal(res.headers.get('www-authenticate'), 'Basic realm="influx-backup"', `/${path} with ${what}`);
        for (const secret of ['coolant_temp', 'pump_runs', 'chiller', 'guarded', PASSWORD])
          assert.ok(!body.includes(secret), `/${path} with ${what} shows ${secret}: ${body.slice(0, 200)}`);
      }
    }
    const right = { authorization: basic('ops', PASSWORD) };
    const api = await fetch(`${url}api/fields`, { headers: right });
    assert.equal(api.status, 200);
    const { fields } = (await api.json()) as { fields: { measurement: string; field: string }[] };
    assert.deepEqual(fields.map((f) => `${f.measurement}.${f.field}`).sort(), ['chiller.coolant_temp', 'chiller.pump_runs']);
    const page = await fetch(`${url}fields`, { headers: right });
    assert.equal(page.status, 200);
    assert.ok((await page.text()).includes('coolant_temp'));
    assert.equal((await fetch(`${url}health`)).status, 200, '/health needs no credentials');
    assert.ok(!app.output().includes(PASSWORD), 'the password is never logged');
  } finally {
    app.child.kill('SIGTERM');
    assert.equal(await app.exited, 0, app.output());
  }
});
