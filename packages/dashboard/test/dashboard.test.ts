import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, formatTimeNs, loadConfig } from '@influx-backup/config';
import type { Logger, LogMeta } from '@influx-backup/core';
import { chunkJobId, chunkPayload, fieldId, JOB_BACKFILL, JOB_COPY, JOB_RESTORE, restoreFieldId, runKey } from '@influx-backup/queue';
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

class RecordingLogger implements Logger {
  constructor(
    readonly lines: string[] = [],
    private readonly bindings: LogMeta = {},
  ) {}
  private add(level: string, message: string, meta?: LogMeta): void {
    const all = { ...this.bindings, ...meta };
    this.lines.push(`${level} ${message} ${Object.keys(all).length ? JSON.stringify(all) : ''}`);
  }
  debug(m: string, meta?: LogMeta): void {
    this.add('debug', m, meta);
  }
  info(m: string, meta?: LogMeta): void {
    this.add('info', m, meta);
  }
  warn(m: string, meta?: LogMeta): void {
    this.add('warn', m, meta);
  }
  error(m: string, meta?: LogMeta): void {
    this.add('error', m, meta);
  }
  child(meta: LogMeta): Logger {
    return new RecordingLogger(this.lines, { ...this.bindings, ...meta });
  }
}

function basic(user: string, pass: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
}

function writeConfig(dir: string, redisUrl: string, prefix: string, dashboard: string): string {
  const file = join(dir, `${prefix}.yaml`);
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

// Every test has a Redis prefix of its own (and the outage test a Redis of its own),
// so each one passes alone, in any order, and after any other.
describe('dashboard against a real Redis', () => {
  let redis: RedisServer;
  let dir: string;
  const auth = basic(USER, PASSWORD);

  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'ib-dashboard-'));
  });

  after(async () => {
    await redis?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** What one test serves: a runtime under its own prefix, the app on a free port, what it answered and logged. */
  interface Rig {
    readonly rt: Runtime;
    readonly logger: RecordingLogger;
    readonly file: string;
    readonly seen: Seen[];
    /** Where the app listens: http://127.0.0.1:PORT */
    readonly base: string;
    get(path: string, headers?: Record<string, string>): Promise<Seen>;
    /** Closes everything, then checks that the password showed in no answer and no log line. */
    close(): Promise<void>;
  }

  const prefixes = new Set<string>();
  function freshPrefix(): string {
    let prefix: string;
    do prefix = `ib-dash-${randomBytes(4).toString('hex')}`;
    while (prefixes.has(prefix));
    prefixes.add(prefix);
    return prefix;
  }

  async function rig(redisUrl = redis.url): Promise<Rig> {
    const file = writeConfig(dir, redisUrl, freshPrefix(), `  username: "${USER}"\n  password: "\${DASHBOARD_PASSWORD}"\n  port: 0`);
    const logger = new RecordingLogger();
    const rt = createRuntime(loadConfig({ file, env: { DASHBOARD_PASSWORD: PASSWORD }, cwd: dir }), logger);
    // A short timeout, so the requests made while Redis is down answer quickly.
    const server = createServer(createApp({ ...dashboardDeps(rt), logger, timeoutMs: 1_000 }));
    const base = await listen(server);
    const seen: Seen[] = [];
    return {
      rt,
      logger,
      file,
      seen,
      base,
      async get(path, headers = {}) {
        const res = await fetch(base + path, { headers });
        const s = { url: path, status: res.status, headers: res.headers, body: await res.text() };
        seen.push(s);
        return s;
      },
      async close() {
        await new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        });
        await rt.close();
        assertNoPassword(seen, logger.lines);
      },
    };
  }

  it('/health answers 200 without credentials while Redis answers', async () => {
    const r = await rig();
    try {
      const health = await r.get('/health');
      assert.equal(health.status, 200);
      assert.deepEqual(JSON.parse(health.body), { status: 'ok', redis: 'up' });
    } finally {
      await r.close();
    }
  });

  it('refuses /, /api/status, /metrics and the board API without the right credentials', async () => {
    const r = await rig();
    try {
      for (const path of ['/', '/api/status', '/metrics', '/api/queues', '/static/favicon-32x32.png']) {
        for (const headers of WRONG_CREDENTIALS) {
          const res = await r.get(path, headers);
          assert.equal(res.status, 401, `${path} with ${JSON.stringify(headers)}`);
          assert.equal(res.headers.get('www-authenticate'), 'Basic realm="influx-backup"');
        }
      }
    } finally {
      await r.close();
    }
  });

  it('serves Bull Board, /api/status and /metrics with the right credentials', async () => {
    const r = await rig();
    try {
      const page = await r.get('/', auth);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.body, /<title>influx-backup<\/title>/);

      const status = await r.get('/api/status', auth);
      assert.equal(status.status, 200);
      const report = JSON.parse(status.body) as {
        redis: string;
        queues: { copy: Record<string, number>; schedule: Record<string, number> };
      };
      assert.equal(report.redis, r.rt.redisEndpoint);
      assert.equal(report.queues.copy.waiting, 0);
      assert.equal(report.queues.schedule.waiting, 0);

      const metrics = await r.get('/metrics', auth);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.match(metrics.body, /^influx_backup_redis_up 1$/m);
      assert.match(metrics.body, /^influx_backup_jobs\{queue="copy",state="waiting"\} 0$/m);
      assert.match(metrics.body, /^process_cpu_user_seconds_total /m);
    } finally {
      await r.close();
    }
  });

  it("lists both queues in Bull Board's API", async () => {
    const r = await rig();
    try {
      const res = await r.get('/api/queues', auth);
      assert.equal(res.status, 200);
      const body = JSON.parse(res.body) as { queues: { name: string; description?: string }[] };
      assert.deepEqual(body.queues.map((q) => q.name).sort(), ['copy', 'schedule']);
      assert.match(body.queues.find((q) => q.name === 'copy')?.description ?? '', /^Chunk jobs \(copy, backfill, restore\)/);
    } finally {
      await r.close();
    }
  });

  it('shows a queued job in /api/status, /metrics and the board, by its job name', async () => {
    const r = await rig();
    try {
      // Payloads of no run's plan: the board shows their kind and range only.
      const payload = chunkPayload([{ k: 0, i: 0 }], 0n, 3_599_999_999_999n);
      await r.rt.copyQueue.add(JOB_COPY, payload, { jobId: 'dash-test-1' });
      const report = JSON.parse((await r.get('/api/status', auth)).body) as { queues: { copy: Record<string, number> } };
      assert.equal(report.queues.copy.waiting, 1);
      const metrics = await r.get('/metrics', auth);
      assert.match(metrics.body, /^influx_backup_jobs\{queue="copy",state="waiting"\} 1$/m);
      assert.match(metrics.body, /^influx_backup_jobs\{queue="schedule",state="waiting"\} 0$/m);

      await r.rt.copyQueue.add(JOB_BACKFILL, payload, { jobId: 'dash-test-2' });
      const board = JSON.parse((await r.get('/api/queues?activeQueue=copy&status=waiting&page=1&jobsPerPage=10', auth)).body) as {
        queues: { name: string; counts: Record<string, number>; jobs: { id: string; name: string }[] }[];
      };
      const copy = board.queues.find((q) => q.name === 'copy');
      assert.equal(copy?.counts.waiting, 2);
      const range = `${formatTimeNs(0n)} .. ${formatTimeNs(3_599_999_999_999n)}`;
      assert.deepEqual(copy?.jobs.map((j) => `${j.id} ${j.name}`).sort(), [
        `dash-test-1 copy-chunk ${range}`,
        `dash-test-2 backfill-chunk ${range}`,
      ]);
    } finally {
      await r.close();
    }
  });

  it("shows a chunk's field and RFC 3339 range in Bull Board, and keeps its payload", async () => {
    const r = await rig();
    try {
      // A chunk as the planner enqueues it: the names live in the run's plan, the payload holds positions and times.
      const run = runKey('plan-x');
      await r.rt.store.runs.open(run, { runId: 'plan-x', kind: 'copy', sourceDb: 'metrics', backupDb: 'metrics_backup' });
      const fid = fieldId('127.0.0.1:1', 'metrics', 'cpu', 'usage');
      const field = { fieldId: fid, measurement: 'cpu', field: 'usage', type: 'float' as const, retentionPolicy: 'raw', advances: true };
      await r.rt.store.runs.addFieldPlans(run, [{ k: 3, meta: field }]);
      const payload = chunkPayload([{ k: 3, i: 2 }], 1_795_564_800_000_000_000n, 1_795_568_399_999_999_999n);
      const id = chunkJobId(run, 7);
      await r.rt.copyQueue.add(JOB_COPY, payload, { jobId: id });
      const board = JSON.parse((await r.get('/api/queues?activeQueue=copy&status=waiting&page=1&jobsPerPage=10', auth)).body) as {
        queues: { name: string; jobs: { id: string; name: string; data: Record<string, unknown> }[] }[];
      };
      const job = board.queues.find((q) => q.name === 'copy')?.jobs.find((j) => j.id === id);
      assert.equal(job?.name, 'copy-chunk cpu.usage in raw 2026-11-25T00:00:00Z .. 2026-11-25T00:59:59.999999999Z');
      // Readable names only: what it copies, then its payload key by key (k, i, s and d under their names).
      assert.deepEqual(job?.data, {
        copies: 'cpu.usage',
        policy: 'raw',
        type: 'float',
        run: 'plan-x',
        from: '2026-11-25T00:00:00Z',
        to: '2026-11-25T00:59:59.999999999Z',
        fieldNumber: 3,
        chunkNumber: 2,
      });
      // Bull Board's "update data" sends the view back (here with a later end): Redis gets the payload it stands for.
      const edited = { ...job?.data, to: '2026-11-25T01:59:59.999999999Z' };
      const put = await fetch(`${r.base}/api/queues/copy/${id}/update-data`, {
        method: 'PATCH',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ jobData: edited }),
      });
      assert.equal(put.status, 200, await put.text());
      assert.deepEqual(
        (await r.rt.copyQueue.getJob(id))?.data,
        chunkPayload([{ k: 3, i: 2 }], 1_795_564_800_000_000_000n, 1_795_571_999_999_999_999n),
      );
      await r.rt.copyQueue.getJob(id).then((j) => j?.updateData(payload));
      // The job's own page reads it the same way.
      const one = JSON.parse((await r.get(`/api/queues/copy/${id}`, auth)).body) as { job: { name: string } };
      assert.equal(one.job.name, job?.name);
      // Redis keeps the payload as the worker needs it.
      assert.deepEqual((await r.rt.copyQueue.getJob(id))?.data, payload);
    } finally {
      await r.close();
    }
  });

  it('shows a restore-chunk as a restore: what it reads on the backup server and the database it writes', async () => {
    const r = await rig();
    try {
      const run = runKey('restore-x', 'restore');
      await r.rt.store.runs.open(run, {
        runId: 'restore-x',
        kind: 'restore',
        sourceDb: 'metrics_backup',
        backupDb: 'scratch',
        reads: 'backup',
      });
      const fid = restoreFieldId('127.0.0.1:2', 'metrics_backup', 'cpu', 'usage', 'raw', 'scratch');
      await r.rt.store.runs.addFieldPlans(run, [
        { k: 0, meta: { fieldId: fid, measurement: 'cpu', field: 'usage', type: 'float', retentionPolicy: 'raw', advances: false } },
      ]);
      const id = chunkJobId(run, 0);
      await r.rt.copyQueue.add(JOB_RESTORE, chunkPayload([{ k: 0, i: 0 }], 1_795_564_800_000_000_000n, 1_795_568_399_999_999_999n), {
        jobId: id,
      });
      const board = JSON.parse((await r.get('/api/queues?activeQueue=copy&status=waiting&page=1&jobsPerPage=10', auth)).body) as {
        queues: { name: string; jobs: { id: string; name: string; data: Record<string, unknown> }[] }[];
      };
      const job = board.queues.find((q) => q.name === 'copy')?.jobs.find((j) => j.id === id);
      assert.equal(job?.name, 'restore-chunk cpu.usage in raw into scratch 2026-11-25T00:00:00Z .. 2026-11-25T00:59:59.999999999Z');
      const d = job?.data ?? {};
      assert.deepEqual(
        { restores: d.restores, reads: d.reads, writes: d.writes, copies: d.copies },
        { restores: 'cpu.usage', reads: 'metrics_backup on the backup server', writes: 'scratch on the source server', copies: undefined },
      );
    } finally {
      await r.close();
    }
  });

  it('says which process serves each queue, and the page loads no remote fonts', async () => {
    const r = await rig();
    try {
      const body = JSON.parse((await r.get('/api/queues', auth)).body) as {
        queues: { name: string; description?: string; hasWorkers: boolean | null }[];
      };
      // Short enough for a queue's card: Bull Board cuts a description longer than its line.
      for (const q of body.queues) assert.ok((q.description ?? '').length <= 100, `${q.name}: ${q.description}`);
      // Without scheduler.jobs no planner is needed: the schedule queue says so, and shows no "No workers" alarm
      // (its workers are not known); the copy queue, which needs workers, does show it.
      const schedule = body.queues.find((q) => q.name === 'schedule');
      assert.equal(schedule?.description, 'Cron ticks of scheduler.jobs: none configured, so no planner is needed.');
      assert.equal(schedule?.hasWorkers, null);
      assert.equal(body.queues.find((q) => q.name === 'copy')?.hasWorkers, false);
      assert.match(body.queues.find((q) => q.name === 'copy')?.description ?? '', /copied by influx-backup worker processes/);
      for (const path of ['/', '/queue/copy']) {
        const page = await r.get(path, auth);
        assert.equal(page.status, 200);
        assert.match(
          page.body,
          /<link href="static\/css\/main\.[0-9a-f]+\.css" rel="stylesheet">/,
          `${path} still links Bull Board's own CSS`,
        );
        assert.doesNotMatch(page.body, /fonts\.(googleapis|gstatic)\.com/, `${path} links a remote font`);
      }
    } finally {
      await r.close();
    }
  });

  it('exports checkpoints, workers and the last run as gauges', async () => {
    const r = await rig();
    try {
      const { store } = r.rt;
      const fid = fieldId('127.0.0.1:1', 'metrics', 'cpu', 'usage', 'one "year"');
      await store.checkpoints.openPlan('dash-plan', 1);
      await store.checkpoints.complete('dash-plan', fid, 0, 1_700_000_000_500_000_000n);
      const now = new Date().toISOString();
      await store.workers.heartbeat({
        id: 'host-a-42',
        host: 'host-a',
        pid: 42,
        startedAt: now,
        lastSeen: now,
        jobsDone: 7,
        jobsFailed: 1,
      });
      await store.lastRuns.set({
        runId: 'run-x',
        mode: 'run',
        startedAt: '2024-05-01T10:00:00.000Z',
        finishedAt: '2024-05-01T10:01:30.000Z',
        fields: 1,
        chunks: 3,
        completed: 3,
        values: 12345,
        failed: 0,
        ok: true,
        failures: [],
      });

      const body = (await r.get('/metrics', auth)).body;
      const labels =
        'measurement="cpu",field="usage",retention_policy="one \\\\"year\\\\"",database="metrics",source="metrics",server="127.0.0.1:1"';
      assert.match(body, new RegExp(`^influx_backup_checkpoint_timestamp_seconds\\{${labels}\\} 1700000000\\.5$`, 'm'));
      const age = new RegExp(`^influx_backup_checkpoint_age_seconds\\{${labels}\\} ([0-9.e+]+)$`, 'm').exec(body);
      assert.ok(age?.[1], 'checkpoint age');
      assert.ok(Math.abs(Number(age[1]) - (Date.now() / 1000 - 1_700_000_000.5)) < 60);
      // The checkpoint moved just now.
      const updated = new RegExp(`^influx_backup_checkpoint_updated_timestamp_seconds\\{${labels}\\} ([0-9.e+]+)$`, 'm').exec(body);
      assert.ok(updated?.[1], 'checkpoint updated time');
      assert.ok(Math.abs(Number(updated[1]) - Date.now() / 1000) < 60, updated[1]);
      assert.match(body, /^influx_backup_workers_seen 1$/m);
      assert.match(body, /^influx_backup_worker_last_seen_age_seconds\{worker="host-a-42",host="host-a"\} \d/m);
      assert.match(body, /^influx_backup_worker_jobs\{worker="host-a-42",host="host-a",result="done"\} 7$/m);
      assert.match(body, /^influx_backup_last_run_ok\{mode="run"\} 1$/m);
      assert.match(body, /^influx_backup_last_run_values\{mode="run"\} 12345$/m);
      assert.match(body, /^influx_backup_last_run_duration_seconds\{mode="run"\} 90$/m);

      const report = JSON.parse((await r.get('/api/status', auth)).body) as { checkpoints: { field: string; checkpointNs: string }[] };
      assert.deepEqual(
        report.checkpoints.map((c) => [c.field, c.checkpointNs]),
        [['usage', '1700000000500000000']],
      );
    } finally {
      await r.close();
    }
  });

  it("exports the repair counters by source and each field's last-verified time", async () => {
    const r = await rig();
    try {
      const { store } = r.rt;
      const fid = fieldId('127.0.0.1:1', 'metrics', 'cpu', 'usage', 'autogen');
      const at = '2024-05-02T03:00:00.000Z';
      const check = {
        at,
        deep: false,
        startNs: '0',
        endNs: '1',
        compared: 48,
        different: 2,
        missing: 3,
        changed: 0,
        extra: 1,
        copied: 120,
        backupTypes: [],
        stillMissing: 0,
        ok: true,
      };
      await store.verifications.record([{ fieldId: fid, verification: check }], { source: '', compared: 48, different: 2 });
      await store.verifications.record([{ fieldId: fid, verification: { ...check, at } }], { source: '', compared: 48, different: 0 });
      // A repair chunk's values count as repaired once, when its worker finishes it.
      const done = {
        run: 'rdash00001',
        seq: 0,
        claim: { chunk: 'pdash', jobId: 'rdash00001.0' },
        outcome: 'done' as const,
        values: 120,
        measurement: 'cpu',
        fieldIds: [fid],
        repair: true,
      };
      assert.equal(await store.runs.finishChunk(done), true);
      assert.equal(await store.runs.finishChunk(done), false, 'counted once');

      const body = (await r.get('/metrics', auth)).body;
      assert.match(body, /^influx_backup_repair_chunks_compared_total\{source="metrics"\} 96$/m);
      assert.match(body, /^influx_backup_repair_chunks_different_total\{source="metrics"\} 2$/m);
      assert.match(body, /^influx_backup_repair_values_total\{source="metrics"\} 120$/m);
      const labels = 'measurement="cpu",field="usage",retention_policy="autogen",database="metrics",source="metrics",server="127.0.0.1:1"';
      assert.match(body, new RegExp(`^influx_backup_field_last_verified_timestamp_seconds\\{${labels}\\} ${Date.parse(at) / 1000}$`, 'm'));
      const report = JSON.parse((await r.get('/api/status', auth)).body) as {
        verifications: { field: string; at: string; different: number }[];
      };
      assert.deepEqual(
        report.verifications.map((v) => [v.field, v.at, v.different]),
        [['usage', at, 2]],
      );
    } finally {
      await r.close();
    }
  });

  it('createApp refuses an empty or missing password, naming dashboard.password', async () => {
    const r = await rig();
    try {
      for (const password of ['', undefined]) {
        assert.throws(
          () => createApp({ ...dashboardDeps(r.rt), auth: { username: USER, password } }),
          (err: unknown) => err instanceof ConfigError && /dashboard\.password/.test(err.message),
        );
      }
    } finally {
      await r.close();
    }
  });

  it('runDashboard listens on dashboard.host:port, logs the URL and stops on request', async () => {
    const r = await rig();
    const stop = new AbortController();
    let url = '';
    const done = runDashboard(r.rt, stop.signal, {
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
      r.seen.push({ url: 'runDashboard /api/status', status: status.status, headers: status.headers, body: await status.text() });
      assert.ok(
        r.logger.lines.some((l) => l.includes(url)),
        r.logger.lines.join('\n'),
      );
    } finally {
      stop.abort('stop requested');
      await done;
      await r.close();
    }
    assert.ok(
      r.logger.lines.some((l) => l.includes('stop requested: closing the dashboard')),
      r.logger.lines.join('\n'),
    );
    await assert.rejects(fetch(`${url}health`));
  });

  it('runDashboard refuses to start without a password', async () => {
    const file = writeConfig(dir, redis.url, freshPrefix(), `  username: "${USER}"\n  port: 0`);
    const noPw = loadConfig({ file, env: {}, cwd: dir });
    const running = createRuntime(noPw, new RecordingLogger());
    try {
      await assert.rejects(runDashboard(running, new AbortController().signal), (err: unknown) => {
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
    const file = writeConfig(dir, redis.url, freshPrefix(), `  password: "\${DASHBOARD_PASSWORD}"\n  port: ${port}`);
    const running = createRuntime(loadConfig({ file, env: { DASHBOARD_PASSWORD: PASSWORD }, cwd: dir }), new RecordingLogger());
    try {
      await assert.rejects(runDashboard(running, new AbortController().signal), (err: unknown) => {
        return err instanceof ConfigError && err.key === 'dashboard.port' && err.message.includes(`127.0.0.1:${port} is already in use`);
      });
    } finally {
      await running.close();
      await new Promise((r) => taken.close(r));
    }
  });

  it('/health answers 503 once Redis is stopped, and the rest answers without hanging', async () => {
    // A Redis of this test's own: stopping it leaves the other tests theirs.
    const own = await startRedis();
    const r = await rig(own.url);
    try {
      assert.equal((await r.get('/health')).status, 200);
      await own.stop();
      const health = await waitFor('/health to say degraded', async () => {
        const res = await r.get('/health');
        return res.status === 503 ? res : undefined;
      });
      assert.deepEqual(JSON.parse(health.body), { status: 'degraded', redis: 'down' });

      const status = await r.get('/api/status', auth);
      assert.equal(status.status, 503);
      assert.match(status.body, new RegExp(r.rt.redisEndpoint.replace(/\./g, '\\.')));
      const metrics = await r.get('/metrics', auth);
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /^influx_backup_redis_up 0$/m);
      assert.doesNotMatch(metrics.body, /^influx_backup_jobs\{/m);
      // Still behind auth while degraded.
      assert.equal((await r.get('/api/status')).status, 401);
    } finally {
      r.rt.redis.disconnect();
      await r.close();
      await own.destroy();
    }
  });

  it('never shows the password in a response or a log line', async () => {
    const r = await rig();
    try {
      const paths = ['/', '/health', '/api/status', '/metrics', '/api/queues', '/no-such-page'];
      const answers: string[] = [];
      for (const path of paths) {
        answers.push(`${path} ${(await r.get(path, auth)).status}`);
        // Every wrong credential is refused, except on /health, which asks for none.
        for (const headers of WRONG_CREDENTIALS) assert.equal((await r.get(path, headers)).status, path === '/health' ? 200 : 401, path);
      }
      assert.deepEqual(answers, ['/ 200', '/health 200', '/api/status 200', '/metrics 200', '/api/queues 200', '/no-such-page 404']);
      // Every one of those answers is checked by close().
      assert.equal(r.seen.length, paths.length * (1 + WRONG_CREDENTIALS.length));
      assert.ok(r.logger.lines.length > 0, 'nothing was logged, so nothing was checked');
    } finally {
      // close() checks every answer and every log line for the password.
      await r.close();
    }
  });
});

const WRONG_CREDENTIALS: Record<string, string>[] = [
  {},
  basic(USER, `${PASSWORD}x`),
  basic(USER, PASSWORD.slice(0, -1)),
  basic('admin', PASSWORD),
  basic(USER, ''),
  { Authorization: `Bearer ${PASSWORD}` },
  { Authorization: 'Basic !!!' },
];

/** Neither the password nor its Basic encoding is in any answer (body or header) or log line. */
function assertNoPassword(seen: readonly Seen[], lines: readonly string[]): void {
  const encoded = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
  for (const s of seen) {
    const headers = JSON.stringify([...s.headers.entries()]);
    for (const secret of [PASSWORD, encoded]) {
      assert.ok(!s.body.includes(secret), `the password is in the body of ${s.url}`);
      assert.ok(!headers.includes(secret), `the password is in the headers of ${s.url}`);
    }
  }
  for (const line of lines) assert.ok(!line.includes(PASSWORD) && !line.includes(encoded), `the password is in the log line ${line}`);
}
