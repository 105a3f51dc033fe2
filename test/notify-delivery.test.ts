// Delivery of alert notifications: retries 1, 2 and 4 s apart, the bounded queue of 100,
// and never slowing the backup. Real HTTP receivers that fail, refuse or hold their
// answer; real InfluxDB and Redis under `run`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { loadConfig } from '@influx-backup/config';
import type { Logger } from '@influx-backup/core';
import { Notifier, type Notification } from '@influx-backup/monitoring';
import { freePort, startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, ROOT, spawnCli, tempDir, writeConfig, y, type LongRunning } from './helpers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let dir: string;
let n = 0;
const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  dir = tempDir('notify');
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

interface Receiver {
  url: string;
  /** Each POST: when it arrived (ms, monotonic) and its JSON body. */
  posts: { at: number; body: Notification }[];
  /** Answers every held request, and every later one, with 204. */
  release(): void;
  close(): Promise<void>;
}

/** A real HTTP server taking the webhook's POSTs: it answers `status`, or holds every answer until release(). */
async function receiver(answer: { status: number } | 'hold'): Promise<Receiver> {
  const posts: Receiver['posts'] = [];
  let held: ServerResponse[] | undefined = answer === 'hold' ? [] : undefined;
  const server: Server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      posts.push({ at: performance.now(), body: JSON.parse(data) as Notification });
      if (held) held.push(res);
      else res.writeHead(answer === 'hold' ? 204 : answer.status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    posts,
    release() {
      for (const res of held ?? []) res.writeHead(204).end();
      held = undefined;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A logger that keeps each line with the time it was logged. */
function keptLogger(): { logger: Logger; lines: { at: number; level: string; text: string }[] } {
  const lines: { at: number; level: string; text: string }[] = [];
  const keep =
    (level: string) =>
    (text: string): void =>
      void lines.push({ at: performance.now(), level, text });
  const logger: Logger = { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error'), child: () => logger };
  return { logger, lines };
}

/** The gaps between successive times, in seconds. */
const gaps = (times: readonly number[]): number[] => times.slice(1).map((t, i) => (t - times[i]!) / 1000);

/**
 * The README's "1, 2, 4 s apart", each gap within half the shortest of them: a timer never fires early, and the
 * bound keeps every gap nearer its own nominal value than any neighbour's.
 */
function assertBackoff(measured: readonly number[], what: string): void {
  assert.equal(measured.length, 3, `${what}: ${measured.length + 1} tries`);
  [1, 2, 4].forEach((nominal, i) => {
    const g = measured[i]!;
    assert.ok(
      g >= nominal - 0.05 && g <= nominal + 0.5,
      `${what}: gap ${i + 1} is ${g.toFixed(3)} s, not ${nominal} s (${measured.join(', ')})`,
    );
  });
}

/** A source database and the backup database's name: measurement m, fields v and w. */
async function databases(): Promise<{ src: string; dst: string; prefix: string }> {
  n++;
  const db = { src: `notify${n}`, dst: `notify${n}_copy`, prefix: `notify${n}` };
  await source.query(`CREATE DATABASE "${db.src}"`);
  return db;
}

function config(db: { src: string; dst: string; prefix: string }, processing: string, monitoring: string): string {
  return writeConfig(
    dir,
    `${db.prefix}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: ${y(db.src)}, retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: ${y(db.dst)}, retries: 0, timeout: 5 }
processing: ${processing}
backup:
  measurements:
    - { name: "m", start_time: "2024-01-01T00:00:00Z", end_time: "2024-03-01T00:00:00Z" }
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
  retry: { max_attempts: 1 }
redis: { url: ${y(redis.url)}, prefix: ${y(db.prefix)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
${monitoring}`,
  );
}

describe('webhook delivery by a run', () => {
  test('a webhook answering 500: each failure is logged with its reason and retried 3 more times 1, 2 and 4 s apart, then given up at ERROR; the run exits as its copy says', async () => {
    const hook = await receiver({ status: 500 });
    try {
      const db = await databases();
      // v's January chunk fails for good (the backup holds v as an integer there): error_rate 0.25 or more.
      await source.write(db.src, [`m v=1.5,w=10i ${ns('2024-01-01T00:30:00Z')}`, `m v=2.5,w=20i ${ns('2024-02-01T00:30:00Z')}`].join('\n'));
      await backup.query(`CREATE DATABASE "${db.dst}"`);
      await backup.write(db.dst, `m v=7i ${ns('2024-01-01T05:00:00Z')}`);
      const file = config(
        db,
        '{ batch_interval: 0 }',
        `monitoring:
  metrics: { interval: 0.2 }
  alerts:
    - { name: "errors_by_hook", condition: "error_rate > 0.05", action: "notification" }
  notify: { webhook_url: ${y(hook.url)} }
`,
      );
      const r = await cli(['run', '--config', file]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /chunks +4 \(3 done, 1 failed\)/);
      // The run waited for the delivery to be given up: all four tries were made before it exited.
      assert.deepEqual(
        hook.posts.map((p) => [p.body.alert, p.body.state]),
        Array.from({ length: 4 }, () => ['errors_by_hook', 'firing']),
      );
      assertBackoff(gaps(hook.posts.map((p) => p.at)), 'tries seen by the receiver');
      const out = r.stdout + r.stderr;
      for (const [attempt, wait] of [
        [1, 1],
        [2, 2],
        [3, 4],
      ])
        assert.match(
          out,
          new RegExp(
            `WARNING - alert errors_by_hook firing: webhook \\(monitoring\\.notify\\.webhook_url\\) failed \\(try ${attempt}\\): HTTP 500 Internal Server Error; again in ${wait} s`,
          ),
        );
      assert.match(
        out,
        /ERROR - alert errors_by_hook firing: could not be sent by webhook \(monitoring\.notify\.webhook_url\) after 4 tries: HTTP 500/,
      );
    } finally {
      await hook.close();
    }
  });

  test('alerts never slow the backup: while the webhook holds its answer, a run copies every chunk exactly, as fast as the same run without alerts beside it; answered, it exits at once', async () => {
    const hook = await receiver('hold');
    const runs: LongRunning[] = [];
    try {
      const db = await databases();
      // 6 chunks of 360 values, written 20 at a time 0.05 s apart: seconds of copying whatever the machine.
      const t0 = ns('2024-01-01T00:00:00Z');
      await source.write(db.src, Array.from({ length: 6 * 360 }, (_, p) => `m v=${p}i ${t0 + BigInt(p) * 10_000_000_000n}`).join('\n'));
      const processing = '{ max_workers: 2, batch_size: 20, batch_interval: 0.05 }';
      const alerting = config(
        db,
        processing,
        `monitoring:
  metrics: { interval: 0.1 }
  alerts:
    - { name: "running", condition: "duration >= 0", action: "notification" }
  notify: { webhook_url: ${y(hook.url)} }
`,
      );
      const plain = { ...db, dst: `${db.dst}_plain`, prefix: `${db.prefix}plain` };
      const count = async (dst: string): Promise<number> => {
        const res = (await backup.query('SELECT COUNT(v) FROM m', dst).catch(() => undefined)) as
          { results: { series?: { values: [string, number][] }[] }[] } | undefined;
        return res?.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
      };
      /** How long from its start until the backup held every value: the copy, whoever waits for what after it. */
      const copied = async (dst: string): Promise<number> => {
        await waitFor(`every value copied into ${dst}`, async () => (await count(dst)) === 6 * 360, { timeoutMs: 120_000, intervalMs: 50 });
        return performance.now() - started;
      };
      // Side by side, so both copy on the same loaded machine: with alerts held, and without alerts.
      const started = performance.now();
      const run = spawnCli(['run', '--config', alerting]);
      const baseline = spawnCli(['run', '--config', config(plain, processing, '')]);
      runs.push(run, baseline);
      let exited = false;
      void run.exited.then(() => (exited = true));
      const [withAlerts, without] = await Promise.all([
        (async () => {
          await waitFor('the alert posted', () => hook.posts.length >= 1, { timeoutMs: 30_000, intervalMs: 10 });
          const atAlert = await count(db.dst);
          assert.ok(atAlert < 6 * 360, `the copy was over (${atAlert} values) before the alert was sent: nothing shows it was not held up`);
          return copied(db.dst);
        })(),
        copied(plain.dst),
      ]);
      assert.equal(await baseline.exited, 0, baseline.output());
      assert.ok(
        withAlerts <= 2 * without + 1_000,
        `copied in ${Math.round(withAlerts)} ms with the alert held, ${Math.round(without)} ms without alerts`,
      );
      assert.deepEqual((await dump(client(backup.port), db.dst, 'm')).points, (await dump(client(source.port), db.src, 'm')).points);
      assert.ok(hook.posts.length >= 1 && hook.posts.every((p) => p.body.alert === 'running' && p.body.state === 'firing'));
      assert.equal(exited, false, 'the run waits for its notifications before it exits');
      const released = performance.now();
      hook.release();
      assert.equal(await run.exited, 0, run.output());
      // The run waits at most 30 s for its notifications; answered, it need not wait for that.
      assert.ok(performance.now() - released < 15_000, `exited ${Math.round(performance.now() - released)} ms after the answer`);
      assert.match(run.output(), /chunks +6 \(6 done, 0 failed\)/);
    } finally {
      for (const r of runs) r.child.kill('SIGKILL');
      hook.release();
      await hook.close();
    }
  });
});

describe('the Notifier, with real receivers', () => {
  /** monitoring.notify as the configuration file gives it. */
  function notifyConfig(webhookUrl: string): ReturnType<typeof loadConfig>['monitoring']['notify'] {
    const file = writeConfig(
      dir,
      `notifier${++n}.yaml`,
      `databases:
  source: { host: "127.0.0.1", port: 1, database: "x" }
  backup: { host: "127.0.0.1", port: 1 }
backup:
  measurements: [{ name: "m", start_time: "2024-01-01T00:00:00Z" }]
monitoring:
  notify: { webhook_url: ${y(webhookUrl)} }
`,
    );
    return loadConfig({ file, cwd: ROOT }).monitoring.notify;
  }

  const note = (alert: string): Notification => {
    const at = new Date().toISOString();
    return {
      alert,
      state: 'firing',
      metric: 'queue_size',
      value: 1,
      threshold: 0,
      kind: 'copy',
      since: at,
      at,
      repeat: false,
      text: `${alert} firing`,
    };
  };

  test('past 100 notifications waiting, the oldest waiting one is dropped and logged; the rest are delivered in order', async () => {
    const hook = await receiver('hold');
    const { logger, lines } = keptLogger();
    const notifier = new Notifier(notifyConfig(hook.url), logger);
    try {
      const to = notifier.delivery(['notification'], undefined);
      notifier.send(note('n1'), to);
      // n1 is being delivered (its answer held); n2 .. n150 wait, at most 100 of them.
      await waitFor('the first delivery under way', () => hook.posts.length === 1);
      for (let i = 2; i <= 150; i++) notifier.send(note(`n${i}`), to);
      const dropped = lines.filter((l) => /backing up/.test(l.text));
      assert.deepEqual(
        dropped.map((l) => [l.level, l.text]),
        Array.from({ length: 49 }, (_, i) => ['warn', `alert notifications are backing up; dropped n${i + 2} firing`]),
      );
      hook.release();
      await notifier.flush(30_000);
      assert.deepEqual(
        hook.posts.map((p) => p.body.alert),
        ['n1', ...Array.from({ length: 100 }, (_, i) => `n${i + 51}`)],
      );
      assert.deepEqual(
        lines.filter((l) => l.level === 'error'),
        [],
      );
    } finally {
      // Answered, whatever is still queued goes out at once: nothing is left retrying after the test.
      hook.release();
      await notifier.flush(30_000);
      await hook.close();
    }
  });

  test('a webhook whose port refuses connections: each try is logged with the reason, 1, 2 and 4 s apart, then given up at ERROR', async () => {
    const port = await freePort();
    const { logger, lines } = keptLogger();
    const notifier = new Notifier(notifyConfig(`http://127.0.0.1:${port}/hook`), logger);
    notifier.send(note('refused'), notifier.delivery(['notification'], undefined));
    await waitFor('the delivery given up', () => lines.some((l) => l.level === 'error'), { timeoutMs: 30_000 });
    await notifier.flush(1_000);
    const tries = lines.filter((l) => l.level === 'warn');
    assert.equal(tries.length, 3, JSON.stringify(lines));
    tries.forEach((l, i) =>
      assert.match(
        l.text,
        new RegExp(
          `^alert refused firing: webhook \\(monitoring\\.notify\\.webhook_url\\) failed \\(try ${i + 1}\\): .*ECONNREFUSED.*; again in ${2 ** i} s$`,
        ),
      ),
    );
    const gaveUp = lines.find((l) => l.level === 'error')!;
    assert.match(
      gaveUp.text,
      /^alert refused firing: could not be sent by webhook \(monitoring\.notify\.webhook_url\) after 4 tries: .*ECONNREFUSED/,
    );
    // Each try fails at once, so the times its failure is logged are the times of the tries.
    assertBackoff(gaps([...tries, gaveUp].map((l) => l.at)), 'tries logged');
  });
});
