// Alerts per run and repeated (issue 23), through the real CLI against real InfluxDB and
// Redis, sent to a real webhook receiver and a real SMTP server: every failing run is
// an alert naming it, an alert that stays firing is sent again every repeat_interval,
// a later healthy run resolves it once, and a rule changed in the file starts fresh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startInflux, startRedis, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, tempDir, writeConfig, y, type CliResult } from './helpers.js';
import { SMTP_PASSWORD, smtpReceiver, webhookReceiver, type Hook } from './receivers.js';

let source: InfluxServer;
let backup: InfluxServer;
let redis: RedisServer;
let dir: string;
let n = 0;

before(async () => {
  [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
  dir = tempDir('alerts');
});
after(async () => {
  await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
});

const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

interface Db {
  src: string;
  dst: string;
  prefix: string;
}

/**
 * Fields v and w of measurement m in January and February, and a backup that holds v
 * as an integer in January's shard: v's January chunk fails for good on a type
 * conflict, every run, until that point is gone from the backup.
 */
async function conflicted(): Promise<Db> {
  n++;
  const db = { src: `al${n}`, dst: `al${n}_backup`, prefix: `al${n}` };
  await source.query(`CREATE DATABASE "${db.src}"`);
  await source.write(db.src, [`m v=1.5,w=10i ${ns('2024-01-01T00:30:00Z')}`, `m v=2.5,w=20i ${ns('2024-02-01T00:30:00Z')}`].join('\n'));
  await backup.query(`CREATE DATABASE "${db.dst}"`);
  await backup.write(db.dst, `m v=7i ${ns('2024-01-01T05:00:00Z')}`);
  return db;
}

function config(db: Db, monitoring: string, opts: { measurements?: string; processing?: string } = {}): string {
  return writeConfig(
    dir,
    `c${n}-${Math.random().toString(36).slice(2, 8)}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: ${y(db.src)}, retries: 0, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: ${y(db.dst)}, retries: 0, timeout: 5 }
processing: ${opts.processing ?? '{ batch_interval: 0 }'}
backup:
  measurements:
${opts.measurements ?? '    - { name: "m", start_time: "2024-01-01T00:00:00Z", end_time: "2024-03-01T00:00:00Z" }'}
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
  retry: { max_attempts: 1 }
redis: { url: ${y(redis.url)}, prefix: ${y(db.prefix)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
monitoring:
  metrics: { interval: 0.2 }
${monitoring}`,
  );
}

const webhookRule = (hook: Hook): string => `  alerts:
    - name: "errors"
      condition: "error_rate > 0.05"
      action: "notification"
  notify:
    webhook_url: ${y(hook.url)}
`;

/** The id a `run` prints its summary under. */
function runIdOf(r: CliResult): string {
  const id = /^(run-\S+):/m.exec(r.stdout + r.stderr)?.[1];
  assert.ok(id, `no run id in:\n${r.stdout}${r.stderr}`);
  return id;
}

interface StatusAlert {
  alert: string;
  source: string;
  kind: string;
  run: string;
  since: string;
  lastSent: string;
  value: number;
}

async function statusAlerts(file: string, env: Record<string, string> = {}): Promise<{ alerts: StatusAlert[]; text: string }> {
  const json = await cli(['status', '--json', '--config', file], { env });
  assert.equal(json.code, 0, json.stderr);
  const text = await cli(['status', '--config', file], { env });
  assert.equal(text.code, 0, text.stderr);
  return { alerts: (JSON.parse(json.stdout) as { alerts: StatusAlert[] }).alerts, text: text.stdout };
}

describe('alerts per run', () => {
  test('two failing runs in a row send two firing notifications, each naming its run; a healthy third run sends one resolved, a fourth nothing', async () => {
    const hook = await webhookReceiver();
    try {
      const db = await conflicted();
      const file = config(db, webhookRule(hook));
      const first = await cli(['run', '--config', file]);
      assert.equal(first.code, 1, first.stdout + first.stderr);
      const run1 = runIdOf(first);
      // The run sends its alerts before it exits.
      assert.deepEqual(
        hook.posts.map((p) => [p.body.alert, p.body.state, p.body.run, p.body.repeat]),
        [['errors', 'firing', run1, false]],
      );
      assert.match(String(hook.posts[0]!.body.text), new RegExp(`errors firing: error_rate [\\d.]+ > 0\\.05 in run ${run1}$`));
      const since = String(hook.posts[0]!.body.since);

      // status lists it: since when, and the run.
      const firing = await statusAlerts(file);
      assert.equal(firing.alerts.length, 1, JSON.stringify(firing.alerts));
      assert.deepEqual(
        [firing.alerts[0]!.alert, firing.alerts[0]!.kind, firing.alerts[0]!.run, firing.alerts[0]!.since],
        ['errors', 'copy', run1, since],
      );
      assert.match(firing.text, /^alerts firing:$/m);
      assert.match(
        firing.text,
        new RegExp(`^\\s+errors\\s+${since.replace(/[.]/g, '\\.')}\\s+${run1}\\s+error_rate [\\d.]+ > 0\\.05`, 'm'),
      );

      // The second night fails too: its own alert, though the first never resolved.
      const second = await cli(['run', '--config', file]);
      assert.equal(second.code, 1, second.stdout + second.stderr);
      const run2 = runIdOf(second);
      assert.notEqual(run2, run1);
      assert.deepEqual(
        hook.posts.map((p) => [p.body.state, p.body.run]),
        [
          ['firing', run1],
          ['firing', run2],
        ],
      );
      // Still the same alert: firing since the first night, now of the second night's run.
      assert.equal(hook.posts[1]!.body.since, since);
      const still = (await statusAlerts(file)).alerts;
      assert.deepEqual(
        still.map((a) => [a.alert, a.run, a.since]),
        [['errors', run2, since]],
      );

      // The conflicting point goes from the backup: the third run copies everything.
      await backup.query(`DROP MEASUREMENT "m"`, db.dst);
      const third = await cli(['run', '--config', file]);
      assert.equal(third.code, 0, third.stdout + third.stderr);
      const run3 = runIdOf(third);
      assert.deepEqual(
        hook.posts.map((p) => [p.body.state, p.body.run]),
        [
          ['firing', run1],
          ['firing', run2],
          ['resolved', run3],
        ],
      );
      assert.match(String(hook.posts[2]!.body.text), new RegExp(`errors resolved: error_rate 0 no longer > 0\\.05 in run ${run3}$`));
      const resolved = await statusAlerts(file);
      assert.deepEqual(resolved.alerts, []);
      assert.doesNotMatch(resolved.text, /alerts firing/);

      const fourth = await cli(['run', '--config', file]);
      assert.equal(fourth.code, 0, fourth.stdout + fourth.stderr);
      assert.equal(hook.posts.length, 3, JSON.stringify(hook.posts.map((p) => p.body)));
    } finally {
      await hook.close();
    }
  });

  test('repeat_interval: 2s re-sends the alert of a long failing run, never sooner than 2 s after the last send', async () => {
    const hook = await webhookReceiver();
    try {
      n++;
      const db = { src: `al${n}`, dst: `al${n}_backup`, prefix: `al${n}` };
      await source.query(`CREATE DATABASE "${db.src}"`);
      // Measurement a (planned first) fails at once on a type conflict; then m's 12
      // one-hour chunks of 360 values, each written in 18 batches 0.1 s apart, two at
      // a time: the run goes on for 10 s at the very least, however fast the machine.
      const t0 = ns('2024-01-01T00:00:00Z');
      const lines = [`a x=1.5 ${t0}`];
      for (let p = 0; p < 12 * 360; p++) lines.push(`m v=${p}i ${t0 + BigInt(p) * 10_000_000_000n}`);
      await source.write(db.src, lines.join('\n'));
      await backup.query(`CREATE DATABASE "${db.dst}"`);
      await backup.write(db.dst, `a x=7i ${t0}`);
      const range = 'start_time: "2024-01-01T00:00:00Z", end_time: "2024-01-01T11:59:59Z"';
      const rules = `  alerts:
    repeat_interval: "2s"
    rules:
      - { name: "errors", condition: "error_rate > 0.05", action: "notification" }
  notify:
    webhook_url: ${y(hook.url)}
`;
      const file = config(db, rules, {
        measurements: `    - { name: "a", ${range} }\n    - { name: "m", ${range} }`,
        processing: '{ max_workers: 2, batch_size: 20, batch_interval: 0.1 }',
      });
      const started = Date.now();
      const r = await cli(['run', '--config', file]);
      const ended = Date.now();
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const run = runIdOf(r);
      assert.match(r.stdout, /chunks\s+13 \(12 done, 1 failed\)/);

      const posts = hook.posts.map((p) => p.body);
      assert.ok(posts.length >= 3, `the run took ${(ended - started) / 1000} s and sent ${JSON.stringify(posts)}`);
      const [first, ...repeats] = posts;
      assert.deepEqual([first!.state, first!.repeat, first!.run], ['firing', false, run]);
      for (const p of repeats) {
        assert.deepEqual([p.alert, p.state, p.repeat, p.run, p.since], ['errors', 'firing', true, run, first!.since]);
        assert.match(
          String(p.text),
          new RegExp(`errors still firing since ${String(first!.since).replace(/[.]/g, '\\.')}: .* in run ${run}$`),
        );
      }
      // Each send decided at least 2 s after the one before (on Redis's clock), and so
      // no more sends than the time between the first and the last allows.
      const at = posts.map((p) => Date.parse(String(p.at)));
      for (let i = 1; i < at.length; i++)
        assert.ok(at[i]! - at[i - 1]! >= 2_000, `sent ${at[i]! - at[i - 1]!} ms after the one before: ${JSON.stringify(at)}`);
      assert.ok(repeats.length <= Math.floor((at.at(-1)! - at[0]!) / 2_000), JSON.stringify(at));
      // And they arrived that way: never two within the interval, up to the receiver's own timing.
      const arrived = hook.posts.map((p) => p.receivedAt);
      assert.ok(repeats.length <= Math.floor((arrived.at(-1)! - arrived[0]! + 1_000) / 2_000), JSON.stringify(arrived));
    } finally {
      await hook.close();
    }
  });

  test('a rule changed from webhook to e-mail between two failing runs starts fresh: the second run e-mails, through a real SMTP conversation', async () => {
    const [hook, mail] = await Promise.all([webhookReceiver(), smtpReceiver()]);
    try {
      const db = await conflicted();
      const first = await cli(['run', '--config', config(db, webhookRule(hook))]);
      assert.equal(first.code, 1, first.stdout + first.stderr);
      assert.deepEqual(
        hook.posts.map((p) => [p.body.alert, p.body.state]),
        [['errors', 'firing']],
      );
      // The same name, now by e-mail to the DBAs.
      const byMail = config(
        db,
        `  alerts:
    - name: "errors"
      condition: "error_rate > 0.05"
      action: "email"
      recipients: ["dba@example.org"]
  notify:
    webhook_url: ${y(hook.url)}
    email: { host: "127.0.0.1", port: ${mail.port}, secure: false, username: "backup", password: "\${SMTP_PASSWORD}", from: "influx-backup@example.org" }
`,
      );
      const second = await cli(['run', '--config', byMail], { env: { SMTP_PASSWORD } });
      assert.equal(second.code, 1, second.stdout + second.stderr);
      const run2 = runIdOf(second);
      assert.equal(mail.messages.length, 1, second.stdout + second.stderr);
      const msg = mail.messages[0]!;
      assert.equal(msg.user, 'backup');
      assert.equal(msg.from, 'influx-backup@example.org');
      assert.deepEqual(msg.to, ['dba@example.org']);
      assert.match(msg.text, /Subject: .*errors firing/);
      assert.match(msg.text, new RegExp(`"run": "${run2}"`));
      // The webhook rule is gone: nothing more to it, not even a resolve; the log says why.
      assert.equal(hook.posts.length, 1);
      assert.match(
        second.stdout + second.stderr,
        /alert errors \(firing since .*\): its rule is no longer configured as it was; it starts fresh/,
      );
      assert.deepEqual(
        (await statusAlerts(byMail, { SMTP_PASSWORD })).alerts.map((a) => [a.alert, a.run]),
        [['errors', run2]],
      );
    } finally {
      await Promise.all([hook.close(), mail.close()]);
    }
  });
});
