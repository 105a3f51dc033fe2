// TLS beyond the source: alert e-mail over SMTP with STARTTLS and with TLS from the
// start, a backup server over HTTPS, and Redis over rediss://. Every certificate is
// made by the test (a throw-away CA); programs trust it the way an operator would:
// ca_file for InfluxDB, NODE_EXTRA_CA_CERTS for SMTP and Redis.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';
import { makeCertificate, startInflux, startRedis, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { cli, client, dump, tempDir, writeConfig, y } from './helpers.js';
import { InfluxClient } from '@influx-backup/influx';

const SMTP_PASSWORD = 'tls-Sm7p-pw';

let plain: InfluxServer;
let secure: InfluxServer;
let redis: RedisServer;
let cert: ReturnType<typeof makeCertificate>;
let dir: string;
let n = 0;

before(async () => {
  cert = makeCertificate();
  [plain, secure, redis] = await Promise.all([
    startInflux(),
    startInflux({ tls: { certFile: cert.certFile, keyFile: cert.keyFile } }),
    startRedis(),
  ]);
  dir = tempDir('tls-more');
  await plain.query('CREATE DATABASE "probes"');
  await plain.write('probes', 'probe,site=x v=1.25,n=7i,s="a" 1700000000000000000\nprobe,site=y v=2.5,n=8i,s="b" 1700000000000000001');
});
after(async () => {
  await Promise.allSettled([plain?.destroy(), secure?.destroy(), redis?.destroy()]);
});

/** Trust the test's CA, as NODE_EXTRA_CA_CERTS makes any Node program do. */
const trusted = (): Record<string, string> => ({ NODE_EXTRA_CA_CERTS: cert.caFile, SMTP_PASSWORD });

/** A configuration copying "probe" from the plain server; `databases` and `redisUrl` replace the defaults. */
function config({ backup, redisUrl = redis.url, extra = '' }: { backup?: string; redisUrl?: string; extra?: string } = {}): string {
  n++;
  return writeConfig(
    dir,
    `c${n}.yaml`,
    `databases:
  source: { host: "127.0.0.1", port: ${plain.port}, database: "probes", retries: 0, timeout: 5 }
  backup: ${backup ?? `{ host: "127.0.0.1", port: ${plain.port}, database: "probes_copy${n}", retries: 0, timeout: 5 }`}
backup:
  measurements:
    - { name: "probe", start_time: "2023-01-01T00:00:00Z", end_time: "2024-01-01T00:00:00Z" }
  retry: { max_attempts: 1 }
redis: { url: ${y(redisUrl)}, prefix: ${y(`tls${n}`)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
${extra}`,
  );
}

interface Mail {
  port: number;
  messages: { user: string; secure: boolean; subject: string }[];
  close(): Promise<void>;
}

/**
 * A real SMTP server with the test's certificate: TLS from the start (`implicit`), or STARTTLS offered. It takes
 * authentication only once the connection is secure, so a message that arrives came over TLS.
 */
async function smtpServer(implicit: boolean): Promise<Mail> {
  const messages: Mail['messages'] = [];
  const server = new SMTPServer({
    secure: implicit,
    key: readFileSync(cert.keyFile),
    cert: readFileSync(cert.certFile),
    allowInsecureAuth: false,
    authOptional: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'backup' && auth.password === SMTP_PASSWORD) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      let text = '';
      stream.on('data', (d: Buffer) => (text += d.toString()));
      stream.on('end', () => {
        messages.push({ user: String(session.user), secure: session.secure, subject: /^Subject: (.*)$/m.exec(text)?.[1] ?? '' });
        cb();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as { port: number }).port;
  return { port, messages, close: () => new Promise((r) => server.close(() => r())) };
}

/** monitoring: an alert that fires at the first check, sent by e-mail through the SMTP server at `port`. */
const mailAlert = (port: number, secureFlag: boolean): string => `monitoring:
  metrics: { interval: 0.1 }
  alerts:
    - { name: "mailed", condition: "duration >= 0", action: "email", recipients: ["oncall@example.org"] }
  notify:
    email: { host: "127.0.0.1", port: ${port}, secure: ${secureFlag}, username: "backup", password: "\${SMTP_PASSWORD}", from: "ib@example.org" }
`;

describe('alert e-mail over TLS', () => {
  for (const implicit of [false, true]) {
    const how = implicit ? 'secure: true and a server speaking TLS from the start' : 'secure: false and a server offering STARTTLS';
    test(`${how}: the e-mail goes over TLS, authenticated, once the CA is trusted; an untrusted certificate is refused, retried and logged`, async () => {
      const mail = await smtpServer(implicit);
      try {
        // Side by side: one run trusts the test's CA, the other does not.
        const [r, refused] = await Promise.all([
          cli(['run', '--config', config({ extra: mailAlert(mail.port, implicit) })], { env: trusted() }),
          cli(['run', '--config', config({ extra: mailAlert(mail.port, implicit) })], { env: { SMTP_PASSWORD } }),
        ]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.deepEqual(
          mail.messages.map((m) => [m.user, m.secure]),
          [['backup', true]],
          'one message, over TLS, from the run that trusts the CA',
        );
        assert.match(mail.messages[0]!.subject, /mailed firing: duration/);
        assert.doesNotMatch(r.stdout + r.stderr, /failed \(try/);

        assert.equal(refused.code, 0, 'an undeliverable alert never fails the backup');
        const out = refused.stdout + refused.stderr;
        assert.match(out, /alert mailed firing: e-mail to oncall@example\.org .* failed \(try 1\): .*certificate/);
        assert.match(out, /ERROR - alert mailed firing: could not be sent by e-mail .* after 4 tries: .*certificate/);
        for (const o of [r, refused]) assert.ok(!(o.stdout + o.stderr).includes(SMTP_PASSWORD));
      } finally {
        await mail.close();
      }
    });
  }
});

describe('a backup server over HTTPS', () => {
  const backupOver = (db: string, tls: string): string =>
    `{ host: "127.0.0.1", port: ${secure.port}, database: ${y(db)}, ssl: true, ${tls}, retries: 0, timeout: 5 }`;

  test('ssl with verify_ssl and ca_file: run copies exactly over HTTPS and verify --deep finds it identical; without ca_file the certificate is refused, naming the backup server', async () => {
    const db = 'probes_tls';
    const file = config({ backup: backupOver(db, `verify_ssl: true, ca_file: ${y(cert.caFile)}`) });
    const r = await cli(['run', '--config', file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const copy = new InfluxClient({ host: '127.0.0.1', port: secure.port, ssl: true, caFile: cert.caFile });
    try {
      const want = await dump(client(plain.port), 'probes', 'probe');
      assert.equal(want.points.length, 6);
      assert.deepEqual(await dump(copy, db, 'probe'), want);
    } finally {
      copy.close();
    }
    const v = await cli(['verify', '--deep', '--config', file]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /verify: 3 fields identical value by value/);

    const untrusted = await cli(['run', '--config', config({ backup: backupOver('probes_untrusted', 'verify_ssl: true') })]);
    assert.equal(untrusted.code, 1, untrusted.stdout + untrusted.stderr);
    assert.match(untrusted.stderr, new RegExp(`^error: backup InfluxDB 127\\.0\\.0\\.1:${secure.port}: .*certificate`, 'm'));
  });
});

describe('Redis over rediss://', () => {
  let tlsRedis: RedisServer;
  before(async () => {
    tlsRedis = await startRedis({ tls: cert });
  });
  after(async () => {
    await tlsRedis?.destroy();
  });

  test('run and status over TLS only (no plain port): the copy is exact; an untrusted certificate is an error naming Redis and the reason', async () => {
    assert.match(tlsRedis.url, /^rediss:\/\/127\.0\.0\.1:\d+\/0$/);
    const file = config({ redisUrl: tlsRedis.url });
    const db = `probes_copy${n}`;
    const r = await cli(['run', '--config', file], { env: trusted() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /chunks +\d+ \(\d+ done, 0 failed\)/);
    assert.deepEqual(await dump(client(plain.port), db, 'probe'), await dump(client(plain.port), 'probes', 'probe'));
    const s = await cli(['status', '--json', '--config', file], { env: trusted() });
    assert.equal(s.code, 0, s.stderr);
    const status = JSON.parse(s.stdout) as { lastRun: { ok: boolean; values: number } };
    assert.deepEqual([status.lastRun.ok, status.lastRun.values], [true, 6]);

    const untrusted = await cli(['status', '--config', file], { timeoutMs: 30_000 });
    assert.equal(untrusted.code, 1, untrusted.stdout + untrusted.stderr);
    const port = new URL(tlsRedis.url).port;
    assert.match(untrusted.stderr, new RegExp(`error: cannot reach Redis at 127\\.0\\.0\\.1:${port}`));
    assert.match(untrusted.stdout + untrusted.stderr, new RegExp(`Redis at 127\\.0\\.0\\.1:${port}: .*certificate`));
  });
});
