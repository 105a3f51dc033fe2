// Monitoring and alerts (issue 12), against real servers and real receivers: a real HTTP
// server takes the webhook's POSTs, a real SMTP server (smtp-server) takes the e-mail
// with authentication, real InfluxDB and Redis hold the data and the state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { loadConfig } from '@influx-backup/config';
import type { Logger } from '@influx-backup/core';
import { createMetricsRegistry } from '@influx-backup/dashboard';
import type { MetricsBlock } from '@influx-backup/monitoring';
import { collectStatus, createRuntime, startWorker } from '@influx-backup/runtime';
import { ensureBinary, startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, ROOT, spawnCli, tempDir, writeConfig, y, type LongRunning } from './helpers.js';
import { pausingProxy } from './proxy.js';
import { HOOK_SECRET, SMTP_PASSWORD, smtpReceiver, webhookReceiver, type Hook, type Mail } from './receivers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let dir: string;
let n = 0;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  dir = tempDir('monitoring');
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

/** A fresh, empty source database, its backup database's name and a Redis prefix. */
async function emptySource(): Promise<{ src: string; dst: string; prefix: string }> {
  n++;
  const db = { src: `mon${n}`, dst: `mon${n}_backup`, prefix: `mon${n}` };
  await source.query(`CREATE DATABASE "${db.src}"`);
  return db;
}

/** A logger for a runtime in this process, keeping its warnings and errors. */
function keptLogger(kept: string[] = []): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (m) => void kept.push(m),
    error: (m) => void kept.push(m),
    child: () => logger,
  };
  return logger;
}

/**
 * A source with fields v and w of measurement m in January and February, and a
 * backup that already holds v as an integer in January: v's January chunk fails
 * for good on a type conflict, the rest copies.
 */
async function conflicted(): Promise<{ src: string; dst: string; prefix: string }> {
  const { src, dst, prefix } = await emptySource();
  await source.write(src, [`m v=1.5,w=10i ${ns('2024-01-01T00:30:00Z')}`, `m v=2.5,w=20i ${ns('2024-02-01T00:30:00Z')}`].join('\n'));
  await backup.query(`CREATE DATABASE "${dst}"`);
  await backup.write(dst, `m v=7i ${ns('2024-01-01T05:00:00Z')}`);
  return { src, dst, prefix };
}

/** What every configuration here shares after its databases: measurement m over January and February, hourly chunks, one attempt. */
function copySettings(prefix: string, processing = '{ batch_interval: 0 }'): string {
  return `processing: ${processing}
backup:
  measurements:
    - name: "m"
      start_time: "2024-01-01T00:00:00Z"
      end_time: "2024-03-01T00:00:00Z"
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
  retry: { max_attempts: 1 }
redis: { url: ${y(redis.url)}, prefix: ${y(prefix)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
`;
}

/** `through`: the backup as the copy reaches it (a proxy in front of it), with requests that wait 2 minutes for an answer. */
function config(
  db: { src: string; dst: string; prefix: string },
  monitoring: string,
  name = `c${n}.yaml`,
  processing?: string,
  through?: { port: number },
): string {
  return writeConfig(
    dir,
    name,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: ${y(db.src)}, retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${through?.port ?? backup.port}, database: ${y(db.dst)}, retries: 0, timeout: ${through ? 120 : 5} }
${copySettings(db.prefix, processing)}${monitoring}`,
  );
}

const notify = (hook: Hook, mail: Mail): string => `  notify:
    webhook_url: ${y(hook.url)}
    email: { host: "127.0.0.1", port: ${mail.port}, secure: false, username: "backup", password: "\${SMTP_PASSWORD}", from: "influx-backup@example.org", to: ["oncall@example.org"] }
`;

describe('alerts of a run with a failing field', () => {
  test('list form: one firing POST to the webhook, one e-mail to the rule recipients through authenticated SMTP; no secret printed at DEBUG', async () => {
    const [hook, mail] = await Promise.all([webhookReceiver(), smtpReceiver()]);
    try {
      const db = await conflicted();
      const file = config(
        db,
        `monitoring:
  metrics: { interval: 0.2 }
  alerts:
    - name: "errors_by_mail"
      condition: "error_rate > 0.05"
      action: "email"
      recipients: ["admin@example.org", "dba@example.org"]
    - name: "errors_by_hook"
      condition: "error_rate > 0.05"
      action: "notification"
    - name: "slow_run"
      condition: "duration > 3600"
      action: "notification"
${notify(hook, mail)}`,
      );
      const r = await cli(['run', '--config', file, '--log-level', 'DEBUG'], { env: { SMTP_PASSWORD } });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      // The run sends its alerts before it exits: both are there when it has exited.
      assert.equal(hook.posts.length, 1, JSON.stringify(hook.posts));
      const post = hook.posts[0]!;
      assert.equal(post.auth, `Basic ${Buffer.from(`hook:${HOOK_SECRET}`).toString('base64')}`);
      assert.equal(post.body.alert, 'errors_by_hook');
      assert.equal(post.body.state, 'firing');
      assert.equal(post.body.metric, 'error_rate');
      assert.equal(post.body.threshold, 0.05);
      assert.ok(typeof post.body.value === 'number' && post.body.value > 0.05, String(post.body.value));
      assert.match(String(post.body.text), /errors_by_hook firing: error_rate [\d.]+ > 0\.05/);

      assert.equal(mail.messages.length, 1, JSON.stringify(mail.messages));
      const msg = mail.messages[0]!;
      assert.equal(msg.user, 'backup');
      assert.equal(msg.from, 'influx-backup@example.org');
      assert.deepEqual([...msg.to].sort(), ['admin@example.org', 'dba@example.org']);
      assert.match(msg.text, /Subject: .*errors_by_mail firing/);

      // Logged at WARNING too; never a secret, even at DEBUG.
      const out = r.stdout + r.stderr;
      assert.match(out, /WARNING - .*alert errors_by_hook firing/);
      assert.match(out, /DEBUG - /);
      for (const secret of [SMTP_PASSWORD, HOOK_SECRET, 'T0KEN']) assert.ok(!out.includes(secret), `${secret} printed:\n${out}`);

      // Nor in the printed configuration.
      const shown = await cli(['config', '--config', file, '--verbose'], { env: { SMTP_PASSWORD } });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /password: "?\*{8}/);
      for (const secret of [SMTP_PASSWORD, HOOK_SECRET, 'T0KEN'])
        assert.ok(!(shown.stdout + shown.stderr).includes(secret), `${secret} printed`);
    } finally {
      await Promise.all([hook.close(), mail.close()]);
    }
  });

  test('several sources: the alert names the source whose run crossed the threshold', async () => {
    const hook = await webhookReceiver();
    try {
      const bad = await conflicted();
      const good = await emptySource();
      await source.write(
        good.src,
        [`m v=1.5,w=10i ${ns('2024-01-01T00:30:00Z')}`, `m v=2.5,w=20i ${ns('2024-02-01T00:30:00Z')}`].join('\n'),
      );
      const server = `host: "127.0.0.1", port: ${source.port}, retries: 0, timeout: 5`;
      const file = writeConfig(
        dir,
        `several${n}.yaml`,
        `databases:
  sources:
    - { name: "good", ${server}, database: ${y(good.src)}, backup_database: ${y(good.dst)} }
    - { name: "bad", ${server}, database: ${y(bad.src)}, backup_database: ${y(bad.dst)} }
  backup: { host: "127.0.0.1", port: ${backup.port}, retries: 0, timeout: 5 }
${copySettings(bad.prefix)}monitoring:
  metrics: { interval: 0.2 }
  alerts:
    - name: "errors_by_hook"
      condition: "error_rate > 0.05"
      action: "notification"
  notify:
    webhook_url: ${y(hook.url)}
`,
      );
      const r = await cli(['run', '--config', file]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      // The good source's run has no failure; the rule fires on the bad one's, and says so.
      assert.equal(hook.posts.length, 1, JSON.stringify(hook.posts));
      const post = hook.posts[0]!;
      assert.equal(post.body.alert, 'errors_by_hook');
      assert.equal(post.body.state, 'firing');
      assert.equal(post.body.source, 'bad');
      assert.match(String(post.body.text), /errors_by_hook firing \(source bad\): error_rate [\d.]+ > 0\.05/);
      assert.match(r.stdout + r.stderr, /WARNING - .*alert errors_by_hook firing \(source bad\)/);
    } finally {
      await hook.close();
    }
  });

  test('thresholds form: high_error_rate goes to the webhook and to notify.email.to; a refused SMTP login is logged with its reason, retried, and never fails the run differently', async () => {
    const [hook, mail] = await Promise.all([webhookReceiver(), smtpReceiver()]);
    try {
      const db = await conflicted();
      const file = config(
        db,
        `monitoring:
  metrics: { interval: 0.2 }
  alerts: { enabled: true, thresholds: { error_rate: 0.05, memory_usage: 0.99, duration: 3600 } }
${notify(hook, mail)}`,
      );
      // A wrong password: the server refuses the login on every try.
      const wrong = 'not-the-Sm7p-password';
      const r = await cli(['run', '--config', file, '--verbose'], { env: { SMTP_PASSWORD: wrong } });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.deepEqual(
        hook.posts.map((p) => [p.body.alert, p.body.state]),
        [['high_error_rate', 'firing']],
      );
      assert.equal(mail.messages.length, 0);
      const out = r.stdout + r.stderr;
      assert.match(out, /alert high_error_rate firing: e-mail to oncall@example\.org .* failed \(try 1\): .*Invalid/);
      assert.match(out, /could not be sent by e-mail .* after 4 tries/);
      assert.ok(!out.includes(wrong), out);
      // The copy itself is reported as usual: w copied, v's January chunk failed.
      assert.match(r.stdout, /1 failed/);
    } finally {
      await Promise.all([hook.close(), mail.close()]);
    }
  });
});

/** The id a `run` prints its summary under. */
const runIdOf = (r: { stdout: string; stderr: string }): string => {
  const id = /^(run-\S+):/m.exec(r.stdout + r.stderr)?.[1];
  assert.ok(id, `no run id in:\n${r.stdout}${r.stderr}`);
  return id;
};

describe('the planner', () => {
  test('two planners send each alert once per run, also when the one checking stops and the other takes over, and with a run beside them', async () => {
    const hook = await webhookReceiver();
    const planners: LongRunning[] = [];
    try {
      const db = await conflicted();
      // The run itself checks no alerts; the planners check the newest run's.
      const quiet = config(db, '', `c${n}-run.yaml`);
      const first = await cli(['run', '--config', quiet]);
      assert.equal(first.code, 1, first.stdout + first.stderr);
      const file = config(
        db,
        `monitoring:
  metrics: { interval: 0.3 }
  alerts:
    - name: "run_errors"
      condition: "error_rate > 0.05"
      action: "notification"
  notify:
    webhook_url: ${y(hook.url)}
`,
        `c${n}-planner.yaml`,
      );
      for (let i = 0; i < 2; i++) planners.push(spawnCli(['planner', '--config', file, '--verbose']));
      await waitFor('the first alert', () => hook.posts.length >= 1, { timeoutMs: 30_000 });
      const conn = new Redis(redis.url);
      let second: string;
      try {
        const holder = await waitFor('the lease holder', () => conn.get(`${db.prefix}:state:alerts-lease`));
        const checking = planners.findIndex((p) => p.child.pid !== undefined && holder.includes(`-${p.child.pid}-`));
        assert.ok(checking >= 0, `no planner holds ${holder}`);
        const other = planners[1 - checking]!;
        // Each planner checks; only one of them at a time, under the lease.
        planners[checking]!.child.kill('SIGTERM');
        assert.equal(await planners[checking]!.exited, 0, planners[checking]!.output());
        await waitFor(
          'the other planner to take over',
          async () => (await conn.get(`${db.prefix}:state:alerts-lease`))?.includes(`-${other.child.pid}-`),
          { timeoutMs: 30_000 },
        );
        const checks = (): number => other.output().split('alerts: checked').length - 1;
        const base = checks();
        await waitFor('three checks by the new holder', () => checks() >= base + 3, { timeoutMs: 30_000 });
        assert.equal(hook.posts.length, 1, JSON.stringify(hook.posts));
        // A run beside the planner, with the same rules, fails the same way: its own
        // alert, sent once, by the run or by the planner, whichever holds the lease.
        const again = await cli(['run', '--config', file]);
        assert.equal(again.code, 1, again.stdout + again.stderr);
        second = runIdOf(again);
        await waitFor("the second run's alert", () => hook.posts.length >= 2, { timeoutMs: 30_000 });
        const after = checks();
        await waitFor('three checks of the new run', () => checks() >= after + 3, { timeoutMs: 30_000 });
      } finally {
        conn.disconnect();
      }
      assert.deepEqual(
        hook.posts.map((p) => [p.body.alert, p.body.state, p.body.run, p.body.repeat]),
        [
          ['run_errors', 'firing', runIdOf(first), false],
          ['run_errors', 'firing', second, false],
        ],
      );
      for (const p of planners) assert.ok(!p.output().includes(HOOK_SECRET));
    } finally {
      for (const p of planners) p.child.kill('SIGTERM');
      await Promise.all(planners.map((p) => p.exited));
      await hook.close();
    }
  });
});

describe('reduce_workers', () => {
  test('a forced memory threshold halves the worker concurrency while it holds, chunks in flight finish, and it comes back after', async () => {
    const db = await emptySource();
    // 12 one-hour chunks of 360 values, each written in 18 batches 0.1 s apart; the backup is
    // reached through a proxy that holds the 6 chunks in flight until the concurrency dropped.
    const proxy = await pausingProxy(backup.port);
    const t0 = ns('2024-01-01T00:00:00Z');
    await source.write(db.src, Array.from({ length: 12 * 360 }, (_, p) => `m v=${p}i ${t0 + BigInt(p) * 10_000_000_000n}`).join('\n'));
    const limitMb = 4096;
    // The threshold: 200 MB above this process's memory now, as a fraction of the limit.
    const threshold = ((process.memoryUsage.rss() + 200 * 1048576) / (limitMb * 1048576)).toFixed(4);
    const file = config(
      db,
      `monitoring:
  metrics: { interval: 0.1 }
  alerts:
    - name: "memory"
      condition: "memory_usage > ${threshold}"
      action: "reduce_workers"
`,
      `c${n}.yaml`,
      `{ max_workers: 6, worker_memory_limit: ${limitMb}, batch_size: 20, batch_interval: 0.1 }`,
      proxy,
    );
    const planned = await cli(['plan', '--config', file]);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /12 chunks/);
    const warnings: string[] = [];
    const rt = createRuntime(loadConfig({ file, cwd: ROOT }), keptLogger(warnings));
    const w = startWorker(rt);
    const inFlight = new Set<string>();
    const completed = new Set<string>();
    const failed: string[] = [];
    let watch: { held: string[]; mostLater: number; later: number } | undefined;
    w.worker.on('active', (job) => {
      inFlight.add(job.id ?? '');
      // Once the chunks in flight at the drop are done, the worker takes at most 3 at once.
      if (watch && watch.held.every((id) => completed.has(id))) {
        watch.later++;
        watch.mostLater = Math.max(watch.mostLater, inFlight.size);
      }
    });
    w.worker.on('completed', (job) => {
      inFlight.delete(job.id ?? '');
      completed.add(job.id ?? '');
    });
    w.worker.on('failed', (job, err) => failed.push(`${job?.id}: ${err.message}`));
    try {
      await Promise.all([w.worker.waitUntilReady(), rt.copyQueue.waitUntilReady(), rt.scheduleQueue.waitUntilReady()]);
      assert.equal(w.worker.concurrency, 6);
      await waitFor('6 chunks in flight', () => inFlight.size === 6, { timeoutMs: 20_000 });
      // None of the 6 can finish now, however long the alert takes.
      proxy.hold();
      // 400 MB really held: every page written, so it is resident.
      let ballast: Buffer | undefined = Buffer.alloc(400 * 1048576, 1);
      await waitFor('the concurrency to drop', () => w.worker.concurrency === 3, { timeoutMs: 20_000 });
      watch = { held: [...inFlight], mostLater: 0, later: 0 };
      assert.equal(watch.held.length, 6, 'the 6 chunks are still in flight at the drop');
      proxy.release();
      assert.ok(
        warnings.some((m) => /alert memory firing: memory_usage/.test(m)),
        warnings.join('\n'),
      );
      await waitFor('the chunks in flight at the drop to finish', () => watch!.held.every((id) => completed.has(id)), {
        timeoutMs: 30_000,
      });
      await waitFor('a chunk taken at the lower concurrency', () => watch!.later >= 2, { timeoutMs: 30_000 });
      assert.ok(watch.mostLater <= 3, `${watch.mostLater} chunks at once while reduced`);
      assert.equal(ballast.length, 400 * 1048576);
      ballast = undefined;
      setFlagsFromString('--expose_gc');
      (runInNewContext('gc') as () => void)();
      await waitFor('the concurrency to come back', () => w.worker.concurrency === 6, { timeoutMs: 20_000 });
      assert.ok(
        warnings.some((m) => /alert memory resolved/.test(m)),
        warnings.join('\n'),
      );
      await waitFor('every chunk copied', () => completed.size === 12, { timeoutMs: 60_000 });
      assert.deepEqual(failed, []);
    } finally {
      proxy.release();
      await w.stop();
      await rt.close();
      await proxy.close();
    }
  });
});

describe('the metrics block', () => {
  test('estimated_completion, with the counters held still mid-run, lies between the sample and the pace so far and moves later with time; after the run the block and the Prometheus counters match the run summary', async () => {
    const db = await emptySource();
    // Two measurements, 12 one-hour chunks each of 360 values. The backup is reached through a
    // proxy that holds everything from the first write of b: a's chunks are queued first and
    // taken 2 at once, so by then at least 11 of the 24 chunks are done and none of b's.
    const proxy = await pausingProxy(backup.port);
    const t0 = ns('2024-01-01T00:00:00Z');
    const lines: string[] = [];
    for (let p = 0; p < 12 * 360; p++)
      lines.push(`a x=${p}i ${t0 + BigInt(p) * 10_000_000_000n}`, `b y=${p / 2} ${t0 + BigInt(p) * 10_000_000_000n}`);
    await source.write(db.src, lines.join('\n'));
    const file = writeConfig(
      dir,
      `c${n}.yaml`,
      `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: ${y(db.src)} }
  backup: { host: "127.0.0.1", port: ${proxy.port}, database: ${y(db.dst)}, timeout: 120 }
processing: { max_workers: 2, batch_size: 60, batch_interval: 0.06 }
backup:
  measurements:
    - { name: "a", start_time: "2024-01-01T00:00:00Z", end_time: "2024-01-01T11:59:59Z" }
    - { name: "b", start_time: "2024-01-01T00:00:00Z", end_time: "2024-01-01T11:59:59Z" }
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
redis: { url: ${y(redis.url)}, prefix: ${y(db.prefix)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
`,
    );
    const held = { from: 0, secs: 0 };
    void proxy.holdWhen((sent) => /(^|\n)b y=/.test(sent)).then(() => (held.from = Date.now()));
    const started = Date.now();
    const run = spawnCli(['run', '--config', file]);
    try {
      await waitFor('the first write of b', () => held.from > 0, { timeoutMs: 60_000 });
      type Status = {
        metrics: MetricsBlock;
        lastRun: { inProgress?: boolean; chunks: number; completed: number; failed: number; startedAt: string } | null;
      };
      const sample = async (): Promise<{ before: number; after: number; status: Status }> => {
        const before = Date.now();
        const r = await cli(['status', '--json', '--config', file]);
        assert.equal(r.code, 0, r.stderr);
        return { before, after: Date.now(), status: JSON.parse(r.stdout) as Status };
      };
      const samples = [
        await waitFor('an estimate (the plan complete)', async () => {
          const s = await sample();
          return s.status.metrics.progress.estimated_completion !== null ? s : undefined;
        }),
      ];
      samples.push(await sample());
      for (const { before, after, status } of samples) {
        const eta = Date.parse(status.metrics.progress.estimated_completion!);
        const c = status.lastRun!;
        const finished = c.completed + c.failed;
        assert.equal(c.inProgress, true);
        assert.ok(finished >= 11 && c.chunks - finished >= 12, JSON.stringify(c));
        // The run's pace so far, from its own start: the estimate is at the sample or later, and no
        // later than the chunks left would take at that pace.
        const perChunk = (after - Date.parse(c.startedAt)) / finished;
        assert.ok(
          eta >= before && eta <= after + perChunk * (c.chunks - finished),
          `estimate ${eta}, sample ${before}..${after}, ${JSON.stringify(c)}`,
        );
        assert.ok(status.metrics.progress.measurements_completed <= status.metrics.progress.measurements_total);
      }
      // Nothing finished between the two samples: only time passed, so the pace is slower and the estimate later.
      assert.deepEqual(samples[1]!.status.lastRun!.completed, samples[0]!.status.lastRun!.completed);
      assert.ok(
        Date.parse(samples[1]!.status.metrics.progress.estimated_completion!) >
          Date.parse(samples[0]!.status.metrics.progress.estimated_completion!),
        JSON.stringify(samples.map((s) => s.status.metrics.progress)),
      );
      held.secs = (Date.now() - held.from) / 1000;
      proxy.release();
      assert.equal(await run.exited, 0, run.output());
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      await proxy.close();
    }
    const exited = Date.now();
    const runId = /^(run-\S+):/m.exec(run.output())?.[1];
    const values = Number(/^\s+values\s+([\d,]+)/m.exec(run.output())?.[1]?.replace(/,/g, ''));
    assert.equal(values, 2 * 12 * 360, run.output());
    assert.match(run.output(), /chunks\s+24 \(24 done, 0 failed\)/);

    // After the run: the block is the finished run's and agrees with its summary.
    const after = JSON.parse((await cli(['status', '--json', '--config', file])).stdout) as {
      metrics: MetricsBlock;
      metricsBySource: Record<string, MetricsBlock>;
      totals: { values: number; done: number; failed: number; retried: number };
      lastRun: { startedAt: string; finishedAt: string; values: number };
    };
    const m = after.metrics;
    assert.equal(m.run, runId);
    const finished = Date.parse(m.progress.estimated_completion ?? '');
    assert.ok(finished >= started && finished <= exited, m.progress.estimated_completion ?? 'null');
    assert.deepEqual(m.progress, {
      measurements_completed: 2,
      measurements_total: 2,
      estimated_completion: m.progress.estimated_completion,
    });
    assert.deepEqual(m.quality, { error_rate: 0, retry_count: 0, success_rate: 1 });
    assert.equal(m.performance.queue_size, 0);
    assert.equal(m.performance.active_workers, 0);
    const secs = (Date.parse(after.lastRun.finishedAt) - Date.parse(after.lastRun.startedAt)) / 1000;
    const rate = values / secs;
    // The block's pace runs from the run's opening to its last chunk, inside the summary's span
    // and around the hold: so at least the summary's rate, and at most the values over the hold.
    assert.ok(
      m.performance.records_per_second >= Math.floor(rate) && m.performance.records_per_second <= values / held.secs,
      `${m.performance.records_per_second} values/s vs ${rate} from the summary and ${values / held.secs} over the ${held.secs} s hold`,
    );
    assert.deepEqual(after.totals, { values, done: 24, failed: 0, retried: 0 });
    // The one source's block is the same run's.
    const own = after.metricsBySource[db.src];
    assert.deepEqual([own?.run, own?.quality, own?.progress], [m.run, m.quality, m.progress]);

    // The same numbers as Prometheus counters, and a last success per field.
    const rt = createRuntime(loadConfig({ file, cwd: ROOT }), keptLogger());
    try {
      const text = await createMetricsRegistry(() => collectStatus(rt), { defaultMetrics: false }).metrics();
      assert.match(text, /^# TYPE influx_backup_values_copied_total counter$/m);
      // Labelled with the single source's name (its database); nothing was counted before totals were per source.
      assert.match(text, new RegExp(`^influx_backup_values_copied_total\\{source="${db.src}"\\} ${values}$`, 'm'));
      assert.match(text, new RegExp(`^influx_backup_chunks_done_total\\{source="${db.src}"\\} 24$`, 'm'));
      assert.match(text, new RegExp(`^influx_backup_chunks_failed_total\\{source="${db.src}"\\} 0$`, 'm'));
      assert.match(text, new RegExp(`^influx_backup_chunk_retries_total\\{source="${db.src}"\\} 0$`, 'm'));
      assert.doesNotMatch(text, /^influx_backup_\w+_total\{source=""\}/m);
      for (const [measurement, field] of [
        ['a', 'x'],
        ['b', 'y'],
      ]) {
        const at = new RegExp(
          `^influx_backup_field_last_success_timestamp_seconds\\{measurement="${measurement}",field="${field}",[^}]*\\} ([\\d.]+)$`,
          'm',
        ).exec(text);
        assert.ok(at && Number(at[1]) * 1000 >= started - 1_000 && Number(at[1]) * 1000 <= exited, `${measurement}.${field}: ${at?.[1]}`);
      }
    } finally {
      await rt.close();
    }
  });
});

describe('promtool', () => {
  test('deploy/prometheus/alerts.yaml passes promtool check rules and its unit tests', () => {
    // Like influxd and redis-server: installed when missing and root (CI, scripts/setup.sh), else a failure naming the package.
    const promtool = ensureBinary('promtool', 'prometheus');
    const rules = join(ROOT, 'deploy/prometheus/alerts.yaml');
    const checked = execFileSync(promtool, ['check', 'rules', rules], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(checked, /SUCCESS: \d+ rules found/);
    const tested = execFileSync(promtool, ['test', 'rules', join(ROOT, 'deploy/prometheus/alerts.test.yaml')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.match(tested, /SUCCESS/);
  });
});
