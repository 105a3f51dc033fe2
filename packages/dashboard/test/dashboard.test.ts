import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig, type BackupConfig } from '@influx-backup/config';
import { fieldId, JOB_BACKFILL, JOB_COPY } from '@influx-backup/queue';
import { createRuntime, type Runtime } from '@influx-backup/runtime';
import { startRedis, waitFor, type RedisServer } from '@influx-backup/testkit';
import { createApp, dashboardDeps, runDashboard } from '../src/index.js';

// Long and random, so finding it in a body or a log line cannot be a coincidence.
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const USER = 'operator';

interface Seen {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

class RecordingLogger {
  readonly lines: string[] = [];
  private add(level: string, message: string, meta?: Record<string, unknown>): void {
    this.lines.push(`${level} ${message} ${meta ? JSON.stringify(meta) : ''}`);
  }
  debug(m: string, meta?: Record<string, unknown>): void {
    this.add('debug', m, meta);
  }
  info(m: string, meta?: Record<string, unknown>): void {
    this.add('info', m, meta);
  }
  warn(m: string, meta?: Record<string, unknown>): void {
    this.add('warn', m, meta);
  }
  error(m: string, meta?: Record<string, unknown>): void {
    this.add('error', m, meta);
  }
}

function basic(user: string, pass: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
}

function writeConfig(dir: string, redisUrl: string, prefix: string, dashboard: string): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `databases:
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
      fields: ["usage"]
      start_time: "2023-01-01T00:00:00Z"
logging:
  handlers:
    console:
      enabled: false
    file:
      enabled: false
redis:
  url: "${redisUrl}"
  prefix: "${prefix}"
dashboard:
${dashboard}
`,
  );
  return file;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

describe('dashboard against a real Redis', () => {
  let redis: RedisServer;
  let dir: string;
  let config: BackupConfig;
  let rt: Runtime;
  let server: Server;
  let base: string;
  const logger = new RecordingLogger();
  const seen: Seen[] = [];

  const get = async (path: string, headers: Record<string, string> = {}): Promise<Seen> => {
    const res = await fetch(base + path, { headers });
    const s = { url: path, status: res.status, headers: res.headers, body: await res.text() };
    seen.push(s);
    return s;
  };
  const auth = basic(USER, PASSWORD);

  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'ib-dashboard-'));
    const prefix = `ib-dash-${randomBytes(4).toString('hex')}`;
    const file = writeConfig(dir, redis.url, prefix, `  username: "${USER}"\n  password: "\${DASHBOARD_PASSWORD}"\n  port: 0`);
    config = loadConfig({ file, env: { DASHBOARD_PASSWORD: PASSWORD }, cwd: dir });
    rt = createRuntime(config, logger);
    // A short timeout, so the requests made while Redis is down answer quickly.
    server = createServer(createApp({ ...dashboardDeps(rt), logger, timeoutMs: 1_000 }));
    base = await listen(server);
  });

  after(async () => {
    await new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
    rt.redis.disconnect();
    await rt.close();
    await redis.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/health answers 200 without credentials while Redis answers', async () => {
    const r = await get('/health');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: 'ok', redis: 'up' });
  });

  it('refuses /, /api/status, /metrics and the board API without the right credentials', async () => {
    const wrong = [
      {},
      basic(USER, `${PASSWORD}x`),
      basic(USER, PASSWORD.slice(0, -1)),
      basic('admin', PASSWORD),
      basic(USER, ''),
      { Authorization: `Bearer ${PASSWORD}` },
      { Authorization: 'Basic !!!' },
    ];
    for (const path of ['/', '/api/status', '/metrics', '/api/queues', '/static/favicon-32x32.png']) {
      for (const headers of wrong) {
        const r = await get(path, headers);
        assert.equal(r.status, 401, `${path} with ${JSON.stringify(headers)}`);
        assert.equal(r.headers.get('www-authenticate'), 'Basic realm="influx-backup"');
      }
    }
  });

  it('serves Bull Board, /api/status and /metrics with the right credentials', async () => {
    const page = await get('/', auth);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.body, /<title>influx-backup<\/title>/);

    const status = await get('/api/status', auth);
    assert.equal(status.status, 200);
    const report = JSON.parse(status.body) as { redis: string; queues: { copy: Record<string, number>; schedule: Record<string, number> } };
    assert.equal(report.redis, rt.redisEndpoint);
    assert.equal(report.queues.copy.waiting, 0);
    assert.equal(report.queues.schedule.waiting, 0);

    const metrics = await get('/metrics', auth);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(metrics.body, /^influx_backup_redis_up 1$/m);
    assert.match(metrics.body, /^influx_backup_jobs\{queue="copy",state="waiting"\} 0$/m);
    assert.match(metrics.body, /^process_cpu_user_seconds_total /m);
  });

  it("lists both queues in Bull Board's API", async () => {
    const r = await get('/api/queues', auth);
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as { queues: { name: string; description?: string }[] };
    assert.deepEqual(body.queues.map((q) => q.name).sort(), ['copy', 'schedule']);
    assert.match(body.queues.find((q) => q.name === 'copy')?.description ?? '', /copy-chunk.*backfill-chunk/);
  });

  it('shows a queued job in /api/status, /metrics and the board, by its job name', async () => {
    await rt.copyQueue.add(JOB_COPY, { measurement: 'cpu', field: 'usage' }, { jobId: 'dash-test-1' });
    const report = JSON.parse((await get('/api/status', auth)).body) as { queues: { copy: Record<string, number> } };
    assert.equal(report.queues.copy.waiting, 1);
    const metrics = await get('/metrics', auth);
    assert.match(metrics.body, /^influx_backup_jobs\{queue="copy",state="waiting"\} 1$/m);
    assert.match(metrics.body, /^influx_backup_jobs\{queue="schedule",state="waiting"\} 0$/m);

    await rt.copyQueue.add(JOB_BACKFILL, { measurement: 'cpu', field: 'usage' }, { jobId: 'dash-test-2' });
    const board = JSON.parse((await get('/api/queues?activeQueue=copy&status=waiting&page=1&jobsPerPage=10', auth)).body) as {
      queues: { name: string; counts: Record<string, number>; jobs: { id: string; name: string }[] }[];
    };
    const copy = board.queues.find((q) => q.name === 'copy');
    assert.equal(copy?.counts.waiting, 2);
    assert.deepEqual(copy?.jobs.map((j) => `${j.id} ${j.name}`).sort(), ['dash-test-1 copy-chunk', 'dash-test-2 backfill-chunk']);
  });

  it('exports checkpoints, workers and the last run as gauges', async () => {
    const fid = fieldId('127.0.0.1:1', 'metrics', 'cpu', 'usage');
    await rt.store.openPlan('dash-plan', 1);
    await rt.store.completeChunk('dash-plan', fid, 0, 1_700_000_000_500_000_000n);
    const now = new Date().toISOString();
    await rt.store.heartbeat({ id: 'host-a-42', host: 'host-a', pid: 42, startedAt: now, lastSeen: now, jobsDone: 7, jobsFailed: 1 });
    await rt.store.setLastRun({
      runId: 'run-x',
      mode: 'run',
      startedAt: '2024-05-01T10:00:00.000Z',
      finishedAt: '2024-05-01T10:01:30.000Z',
      values: 12345,
      failed: 0,
      ok: true,
    });

    const body = (await get('/metrics', auth)).body;
    const labels = 'measurement="cpu",field="usage",database="metrics",source="127.0.0.1:1"';
    assert.match(body, new RegExp(`^influx_backup_checkpoint_timestamp_seconds\\{${labels}\\} 1700000000\\.5$`, 'm'));
    const age = new RegExp(`^influx_backup_checkpoint_age_seconds\\{${labels}\\} ([0-9.e+]+)$`, 'm').exec(body);
    assert.ok(age?.[1], 'checkpoint age');
    assert.ok(Math.abs(Number(age[1]) - (Date.now() / 1000 - 1_700_000_000.5)) < 60);
    assert.match(body, /^influx_backup_workers_seen 1$/m);
    assert.match(body, /^influx_backup_worker_last_seen_age_seconds\{worker="host-a-42",host="host-a"\} \d/m);
    assert.match(body, /^influx_backup_worker_jobs\{worker="host-a-42",host="host-a",result="done"\} 7$/m);
    assert.match(body, /^influx_backup_last_run_ok\{mode="run"\} 1$/m);
    assert.match(body, /^influx_backup_last_run_values\{mode="run"\} 12345$/m);
    assert.match(body, /^influx_backup_last_run_duration_seconds\{mode="run"\} 90$/m);

    const report = JSON.parse((await get('/api/status', auth)).body) as { checkpoints: { field: string; checkpointNs: string }[] };
    assert.deepEqual(
      report.checkpoints.map((c) => [c.field, c.checkpointNs]),
      [['usage', '1700000000500000000']],
    );
  });

  it('createApp refuses an empty or missing password, naming dashboard.password', () => {
    for (const password of ['', undefined]) {
      assert.throws(
        () => createApp({ ...dashboardDeps(rt), auth: { username: USER, password } }),
        (err: unknown) => err instanceof ConfigError && /dashboard\.password/.test(err.message),
      );
    }
  });

  it('runDashboard listens on dashboard.host:port, logs the URL and stops on request', async () => {
    const own = new RecordingLogger();
    const running = createRuntime(config, own);
    const stop = new AbortController();
    let url = '';
    const done = runDashboard(running, {
      signal: stop.signal,
      handleSignals: false,
      onListening: (u) => {
        url = u;
      },
    });
    try {
      await waitFor('the dashboard to listen', () => url);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const health = await fetch(`${url}health`);
      assert.equal(health.status, 200);
      await health.text();
      const status = await fetch(`${url}api/status`, { headers: auth });
      assert.equal(status.status, 200);
      seen.push({ url: 'runDashboard /api/status', status: status.status, headers: status.headers, body: await status.text() });
      assert.ok(own.lines.some((l) => l.includes(url)), own.lines.join('\n'));
    } finally {
      stop.abort();
      await done;
      await running.close();
    }
    logger.lines.push(...own.lines);
    await assert.rejects(fetch(`${url}health`));
  });

  it('runDashboard refuses to start without a password', async () => {
    const file = writeConfig(dir, redis.url, 'ib-dash-nopw', `  username: "${USER}"\n  port: 0`);
    const noPw = loadConfig({ file, env: {}, cwd: dir });
    const own = new RecordingLogger();
    const running = createRuntime(noPw, own);
    try {
      await assert.rejects(runDashboard(running, { handleSignals: false }), (err: unknown) => {
        return err instanceof ConfigError && err.key === 'dashboard.password' && err.message.includes(file);
      });
    } finally {
      await running.close();
    }
  });

  it('runDashboard names dashboard.port when the port is taken', async () => {
    const taken = createServer();
    const url = await listen(taken);
    const port = Number(new URL(url).port);
    const file = writeConfig(dir, redis.url, 'ib-dash-taken', `  password: "\${DASHBOARD_PASSWORD}"\n  port: ${port}`);
    const running = createRuntime(loadConfig({ file, env: { DASHBOARD_PASSWORD: PASSWORD }, cwd: dir }), new RecordingLogger());
    try {
      await assert.rejects(runDashboard(running, { handleSignals: false }), (err: unknown) => {
        return err instanceof ConfigError && err.key === 'dashboard.port' && err.message.includes(`127.0.0.1:${port} is already in use`);
      });
    } finally {
      await running.close();
      await new Promise((r) => taken.close(r));
    }
  });

  it('/health answers 503 once Redis is stopped, and the rest answers without hanging', async () => {
    await redis.stop();
    const health = await waitFor('/health to say degraded', async () => {
      const r = await get('/health');
      return r.status === 503 ? r : undefined;
    });
    assert.deepEqual(JSON.parse(health.body), { status: 'degraded', redis: 'down' });

    const status = await get('/api/status', auth);
    assert.equal(status.status, 503);
    assert.match(status.body, new RegExp(rt.redisEndpoint.replace(/\./g, '\\.')));
    const metrics = await get('/metrics', auth);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^influx_backup_redis_up 0$/m);
    assert.doesNotMatch(metrics.body, /^influx_backup_jobs\{/m);
    // Still behind auth while degraded.
    assert.equal((await get('/api/status')).status, 401);
  });

  it('never shows the password in a response or a log line', () => {
    assert.ok(seen.length > 40);
    assert.ok(logger.lines.length > 0);
    const encoded = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    for (const s of seen) {
      const headers = JSON.stringify([...s.headers.entries()]);
      for (const secret of [PASSWORD, encoded]) {
        assert.ok(!s.body.includes(secret), `the password is in the body of ${s.url}`);
        assert.ok(!headers.includes(secret), `the password is in the headers of ${s.url}`);
      }
    }
    for (const line of logger.lines) assert.ok(!line.includes(PASSWORD) && !line.includes(encoded), `the password is in the log line ${line}`);
  });
});
