// The Dockerfile and docker-compose.yaml, checked for real: every target built with
// Docker or podman (pnpm test:containers prepares one), each role's image run against
// this test's own InfluxDB and Redis on the host network, and the compose stack brought
// up, used and taken down. Run alone: node scripts/run-tests.mjs leaves this folder out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { freePort, startInflux, startRedis, waitFor, type InfluxServer, type RedisServer } from '@influx-backup/testkit';
import { client, dump, ROOT, tempDir, y } from '../helpers.js';
import { Engine, mb, run, said } from './engine.js';

const engine = new Engine();
const TAG = 'test';
const ROLES = ['planner', 'worker', 'dashboard'] as const;
const TARGETS = [...ROLES, 'all'] as const;
type Target = (typeof TARGETS)[number];
/** The names docker-compose.yaml gives the images, with IMAGE_TAG=test. */
const image = (target: Target): string => (target === 'all' ? `influx-backup:${TAG}` : `influx-backup-${target}:${TAG}`);
const BASE = engine.nodeImage ?? 'docker.io/library/node:24-trixie-slim';
const OWN_LAYERS_LIMIT = 40e6;
/** Every container this run starts is named with it, so `after` can remove them all. */
const RUN = `ibct-${process.pid}`;
const SECRET = 'container-test-secret';
const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

async function build(target: Target): Promise<void> {
  const r = await engine.run(['build', ...engine.buildFlags(), '--target', target, '-t', image(target), ROOT], { timeoutMs: 900_000 });
  assert.equal(r.code, 0, `building the ${target} target failed: ${said(r)}`);
  console.log(`# built ${target} (${image(target)}) with ${engine.name} in ${(r.ms / 1000).toFixed(1)} s`);
}

before(async () => {
  // The first target makes the build stage that all four share (or finds it in the
  // engine's cache); the others then only add their own layers, side by side.
  const [first, ...rest] = TARGETS;
  await build(first);
  await Promise.all(rest.map(build));
});

const dirs: string[] = [];
after(async () => {
  const left = (await engine.run(['ps', '-a', '-q', '--filter', `name=${RUN}`])).stdout.split('\n').filter(Boolean);
  await engine.remove(...left);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A folder to mount at /app/config holding `docker.yaml`, readable by the images' user (uid 1000). */
function configDir(yaml: string): string {
  const dir = tempDir('containers');
  dirs.push(dir);
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'docker.yaml'), yaml, { mode: 0o644 });
  return dir;
}

/** Starts a role's image in the background on the host network, with its own CMD and `dir` as /app/config. */
async function start(target: Target, name: string, dir: string, env: Record<string, string> = {}): Promise<string> {
  const container = `${RUN}-${name}`;
  const flags = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await engine.ok(['run', '-d', '--name', container, '--network', 'host', '-v', `${dir}:/app/config:ro`, ...flags, image(target)]);
  return container;
}

/** Runs the influx-backup CLI of the `all` image once, with `dir` as /app/config. */
function cliInImage(dir: string, ...args: string[]): ReturnType<Engine['run']> {
  return engine.run([
    'run',
    '--rm',
    '--network',
    'host',
    '-v',
    `${dir}:/app/config:ro`,
    image('all'),
    'node',
    'apps/cli/dist/main.js',
    ...args,
  ]);
}

/**
 * Stops a container as compose would (SIGTERM, then SIGKILL after `graceS`) and returns
 * its exit code, the time it took, and its logs with what the engine said while stopping it.
 */
async function stop(container: string, graceS: number): Promise<{ code: number; ms: number; logs: string }> {
  const r = await engine.run(['stop', '-t', String(graceS), container], { timeoutMs: (graceS + 30) * 1000 });
  assert.equal(r.code, 0, said(r));
  // `wait` answers with the exit status once it is recorded; `inspect` right after `stop`
  // may still show 0 for a container podman has just killed.
  const code = Number((await engine.ok(['wait', container])).trim());
  return { code, ms: r.ms, logs: `${await logs(container)}${r.stderr}` };
}

async function logs(container: string): Promise<string> {
  const r = await engine.run(['logs', container]);
  return r.stdout + r.stderr;
}

// The three groups run side by side: most of their time is spent waiting on containers.
describe('containers', { concurrency: true }, () => {
  describe('the images', { concurrency: true }, () => {
    test('each image prints its size, and its own layers (above the Node.js base) stay under 40 MB', async () => {
      const base = await engine.imageSize(BASE);
      console.log(`# base ${BASE}: ${mb(base)}`);
      for (const target of TARGETS) {
        const size = await engine.imageSize(image(target));
        const own = size - base;
        console.log(`# ${image(target)}: ${mb(size)}, its own layers ${mb(own)}`);
        assert.ok(own > 0 && own < OWN_LAYERS_LIMIT, `${image(target)}: its own layers are ${mb(own)}, the limit ${mb(OWN_LAYERS_LIMIT)}`);
      }
    });

    test('each image runs as the user node (uid 1000), not root, and holds no typescript, tsx, esbuild, turbo or eslint', async () => {
      // Lists every package under /app: each node_modules folder's entries and each
      // pnpm store folder's (name@version, a scope's "/" written "+").
      const probe = `
      const fs = require('node:fs'), path = require('node:path');
      const names = new Set();
      const walk = (dir) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          if (!e.isDirectory()) continue;
          const p = path.join(dir, e.name);
          if (path.basename(dir) === 'node_modules') {
            if (e.name === '.pnpm') {
              for (const s of fs.readdirSync(p)) names.add(s.replace(/^(@[^+]+)\\+/, '$1/').replace(/(.)@.*$/, '$1'));
            } else if (e.name.startsWith('@')) {
              for (const s of fs.readdirSync(p)) names.add(e.name + '/' + s);
            } else names.add(e.name);
          }
          walk(p);
        }
      };
      walk('/app');
      console.log(JSON.stringify({ uid: process.getuid(), user: require('node:os').userInfo().username, names: [...names] }));`;
      const dev = /^(typescript|tsx|esbuild|turbo|eslint)$|^(@esbuild|@turbo|@eslint|@typescript-eslint)\/|^(turbo|eslint)-/;
      for (const target of TARGETS) {
        const r = await engine.run(['run', '--rm', '--network', 'none', image(target), 'node', '-e', probe]);
        assert.equal(r.code, 0, said(r));
        const seen = JSON.parse(r.stdout) as { uid: number; user: string; names: string[] };
        assert.equal(seen.user, 'node', `${image(target)} runs as ${seen.user}`);
        assert.equal(seen.uid, 1000, `${image(target)} runs as uid ${seen.uid}`);
        assert.ok(seen.names.includes('bullmq'), `${image(target)}: the listing found its dependencies (${seen.names.length} names)`);
        assert.deepEqual(
          seen.names.filter((n) => dev.test(n)),
          [],
          `${image(target)} holds development packages`,
        );
      }
    });

    test('each role exits 2 naming config/docker.yaml when no configuration is mounted, and so does the CLI', async () => {
      for (const role of ROLES) {
        const r = await engine.run(['run', '--rm', '--network', 'none', image(role)]);
        assert.equal(r.code, 2, `${role}: ${said(r)}`);
        assert.match(r.stderr, /config\/docker\.yaml/, `${role}: ${said(r)}`);
      }
      const r = await engine.run([
        'run',
        '--rm',
        '--network',
        'none',
        image('all'),
        'node',
        'apps/cli/dist/main.js',
        'status',
        '--config',
        'config/docker.yaml',
      ]);
      assert.equal(r.code, 2, said(r));
      assert.match(r.stderr, /config\/docker\.yaml/, said(r));
    });
  });

  describe('each role in its image, against this test’s InfluxDB and Redis', { concurrency: true }, () => {
    let source: InfluxServer;
    let backup: InfluxServer;
    let redis: RedisServer;
    let conn: Redis;
    const SRC = 'ct_src';
    const M = 'reading';
    const FIELDS = 4;
    const CHUNKS = 2; // 1h chunks over two hours
    const SLOW_VALUES = 60;

    before(async () => {
      [source, backup, redis] = await Promise.all([startInflux(), startInflux(), startRedis()]);
      conn = new Redis(redis.url, { maxRetriesPerRequest: null });
      await source.query(`CREATE DATABASE "${SRC}"`);
      const lines: string[] = [];
      // Two sensors, one point a minute for two hours: a float, an integer, a boolean and a string.
      for (let i = 0; i < 120; i++) {
        for (const sensor of ['a', 'b']) {
          const t = ns('2024-06-01T00:00:00Z') + BigInt(i) * 60_000_000_000n + (sensor === 'a' ? 0n : 123n);
          lines.push(
            `${M},sensor=${sensor} temp=${(i * 0.37 - 20).toFixed(3)},count=${i * 1000003}i,ok=${i % 3 === 0},note="n\\"${i}" ${t}`,
          );
        }
      }
      await source.write(SRC, lines.join('\n'));
      // The slow one: a field of 60 values in one chunk, copied one value a second: the
      // chunk outlasts both the worker's 30 s and compose's 40 s stop_grace_period.
      const slow: string[] = [];
      for (let i = 0; i < SLOW_VALUES; i++) slow.push(`slow v=${i}i ${ns('2024-06-01T00:00:00Z') + BigInt(i) * 1_000_000_000n}`);
      await source.write(SRC, slow.join('\n'));
    });
    after(async () => {
      conn?.disconnect();
      await Promise.allSettled([source?.destroy(), backup?.destroy(), redis?.destroy()]);
    });

    function yaml(
      prefix: string,
      dst: string,
      { measurement = M, processing = 'max_workers: 2, batch_size: 50, batch_interval: 0', extra = '', redisUrl = redis.url } = {},
    ): string {
      return `databases:
  source: { host: "127.0.0.1", port: ${source.port}, database: ${y(SRC)}, retries: 1, timeout: 5 }
  backup: { host: "127.0.0.1", port: ${backup.port}, database: ${y(dst)}, retries: 1, timeout: 5 }
processing: { ${processing} }
backup:
  measurements:
    - { name: ${y(measurement)}, start_time: "2024-06-01T00:00:00Z", end_time: "2024-06-01T01:59:59Z" }
  time_chunks: { size: "1h", overlap: "0s", max_values: 1 }
  retry: { max_attempts: 3, backoff_factor: 1, max_backoff: 1 }
redis: { url: ${y(redisUrl)}, prefix: ${y(prefix)} }
logging: { level: "INFO", handlers: { file: { enabled: false } } }
${extra}`;
    }

    const exact = async (dst: string, measurement = M): Promise<number> => {
      const want = await dump(client(source.port), SRC, measurement);
      const got = await dump(client(backup.port), dst, measurement);
      assert.ok(want.points.length > 0);
      assert.deepEqual(got.types, want.types, `${measurement}: field types`);
      assert.deepEqual(got.points, want.points, `${measurement}: values`);
      return got.points.length;
    };

    test('the worker copies the chunks that the CLI planned, exactly, value by value, and exits 0 on SIGTERM', async () => {
      const dir = configDir(yaml('ct-copy', 'ct_copy'));
      const planned = await cliInImage(dir, 'plan', '--config', 'config/docker.yaml');
      assert.equal(planned.code, 0, said(planned));
      const copy = new Queue('copy', { connection: conn, prefix: 'ct-copy' });
      try {
        assert.equal((await copy.getJobCounts('waiting')).waiting, FIELDS * CHUNKS);
        const worker = await start('worker', 'worker', dir);
        await waitFor('every chunk copied', async () => (await copy.getJobCounts('completed')).completed === FIELDS * CHUNKS, {
          timeoutMs: 60_000,
        });
        const stopped = await stop(worker, 40);
        assert.equal(stopped.code, 0, stopped.logs);
        assert.match(stopped.logs, /SIGTERM: finishing active chunks/);
        assert.equal(await exact('ct_copy'), 2 * 120 * FIELDS);
        const verified = await cliInImage(dir, 'verify', '--deep', '--config', 'config/docker.yaml');
        assert.equal(verified.code, 0, said(verified));
        assert.match(verified.stdout, /identical value by value/, said(verified));
      } finally {
        await copy.close();
      }
    });

    test('the planner plans on a schedule two seconds away, and exits 0 on SIGTERM', async () => {
      const dir = configDir(
        yaml('ct-plan', 'ct_plan', {
          extra: `scheduler:\n  enabled: true\n  jobs:\n    - { id: "near", trigger: "cron", second: "*/2" }\n`,
        }),
      );
      const copy = new Queue('copy', { connection: conn, prefix: 'ct-plan' });
      const schedule = new Queue('schedule', { connection: conn, prefix: 'ct-plan' });
      try {
        const planner = await start('planner', 'planner', dir);
        await waitFor('a tick planned', async () => ((await schedule.getJobCounts('completed')).completed ?? 0) >= 1, {
          timeoutMs: 60_000,
        });
        // No worker runs: the chunks wait, each once however many ticks planned them.
        assert.equal((await copy.getJobCounts('waiting')).waiting, FIELDS * CHUNKS);
        assert.deepEqual(
          (await schedule.getJobSchedulers(0, -1)).map((s) => s.key),
          ['near'],
        );
        const stopped = await stop(planner, 15);
        assert.equal(stopped.code, 0, stopped.logs);
      } finally {
        await copy.close();
        await schedule.close();
      }
    });

    test('SIGTERM to a worker whose chunk outlasts 30 s: it hands the chunk back and exits 0 before the 40 s grace period; another worker then copies it exactly', async () => {
      const slow = yaml('ct-slow', 'ct_slow', { measurement: 'slow', processing: 'max_workers: 1, batch_size: 1, batch_interval: 1' });
      const dir = configDir(slow);
      const planned = await cliInImage(dir, 'plan', '--config', 'config/docker.yaml');
      assert.equal(planned.code, 0, said(planned));
      const copy = new Queue('copy', { connection: conn, prefix: 'ct-slow' });
      const fast = configDir(yaml('ct-slow', 'ct_slow', { measurement: 'slow' }));
      try {
        const worker = await start('worker', 'slow-worker', dir);
        // In flight: the chunk is active and part of it is in the backup.
        await waitFor(
          'the chunk under way',
          async () => {
            if ((await copy.getJobCounts('active')).active !== 1) return false;
            const r = (await backup.query('SELECT count(v) FROM slow', 'ct_slow')) as {
              results: { series?: { values: [string, number][] }[] }[];
            };
            return (r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0) >= 3;
          },
          { timeoutMs: 60_000, intervalMs: 250 },
        );
        const stopped = await stop(worker, 40);
        assert.equal(stopped.code, 0, `exit ${stopped.code} after ${stopped.ms} ms: ${stopped.logs}`);
        assert.ok(stopped.ms < 40_000, `stopped after ${stopped.ms} ms, past the grace period: ${stopped.logs}`);
        assert.match(stopped.logs, /active chunks did not finish within 30 s; handing them back/);
        assert.equal((await copy.getJobCounts('completed')).completed, 0, `the stopped worker did not finish the chunk: ${stopped.logs}`);
        // Another worker takes the chunk over once its lock lapses, and copies it at full speed.
        const takeover = await start('worker', 'takeover-worker', fast);
        await waitFor('the chunk copied by the other worker', async () => (await copy.getJobCounts('completed')).completed === 1, {
          timeoutMs: 90_000,
        });
        assert.equal(await exact('ct_slow', 'slow'), SLOW_VALUES);
        const done = await stop(takeover, 40);
        assert.equal(done.code, 0, done.logs);
      } finally {
        await copy.close();
      }
    });

    test('the dashboard’s HEALTHCHECK turns healthy; /health answers 503 and the check fails while Redis is down, and both recover', async () => {
      const own = await startRedis();
      const port = await freePort();
      const dir = configDir(
        yaml('ct-dash', 'ct_dash', {
          redisUrl: own.url,
          extra: `dashboard: { host: "127.0.0.1", port: ${port}, username: "admin", password: "\${DASHBOARD_PASSWORD}" }\n`,
        }),
      );
      const health = `http://127.0.0.1:${port}/health`;
      try {
        const dashboard = await start('dashboard', 'dashboard', dir, { DASHBOARD_PASSWORD: SECRET, HEALTH_URL: health });
        await engine.healthy(dashboard);
        assert.equal((await fetch(health)).status, 200);
        assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 401, 'the dashboard asks for credentials');
        await own.stop();
        await waitFor('/health 503', async () => (await fetch(health)).status === 503);
        assert.equal(await engine.checkHealth(dashboard, image('dashboard')), false, 'the HEALTHCHECK fails while Redis is down');
        await own.start();
        await engine.healthy(dashboard);
        const stopped = await stop(dashboard, 15);
        assert.equal(stopped.code, 0, stopped.logs);
        assert.ok(!stopped.logs.includes(SECRET), 'the password stays out of the logs');
      } finally {
        await own.destroy();
      }
    });
  });

  describe('docker-compose.yaml', () => {
    test('the stack comes up healthy with no restart, creates the source database, copies exactly with three workers, binds 127.0.0.1, and down leaves nothing', async () => {
      const project = `${RUN}-compose`;
      const [sourcePort, backupPort, dashboardPort] = [await freePort(), await freePort(), await freePort()];
      // The shipped config/docker.yaml, with its range and schedule brought near: data of
      // the last two hours, planned every five seconds.
      const shipped = readFileSync(join(ROOT, 'config/docker.yaml'), 'utf8');
      const startTime = new Date(Date.now() - 2 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
      const near = shipped
        .replace(/start_time: "[^"]+"/, `start_time: "${startTime}"`)
        .replace(/\n  jobs:\n(?: {4}.*\n)+/, '\n  jobs:\n    - { id: "near", trigger: "cron", second: "*/5" }\n');
      assert.ok(near.includes(startTime) && near.includes('id: "near"') && !near.includes('hourly_incremental'), near);
      const dir = configDir(near);
      const env = {
        DASHBOARD_PASSWORD: SECRET,
        IMAGE_TAG: TAG,
        CONFIG_DIR: dir,
        SOURCE_INFLUXDB_PORT: String(sourcePort),
        BACKUP_INFLUXDB_PORT: String(backupPort),
        DASHBOARD_PORT: String(dashboardPort),
        ...(engine.nodeImage ? { NODE_IMAGE: engine.nodeImage } : {}),
        ...(engine.influxdbImage ? { INFLUXDB_IMAGE: engine.influxdbImage } : {}),
        ...(engine.redisImage ? { REDIS_IMAGE: engine.redisImage } : {}),
      };
      const { command, prefix } = engine.compose();
      const compose = (...args: string[]): ReturnType<typeof run> =>
        run(command, [...prefix, '-p', project, '-f', join(ROOT, 'docker-compose.yaml'), ...args], { env, timeoutMs: 300_000 });
      const containers = async (): Promise<{ name: string; service: string }[]> => {
        const out = await engine.ok(['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}']);
        const names = out.split('\n').filter(Boolean);
        return Promise.all(
          names.map(async (name) => ({
            name,
            service: await engine.inspect(name, '{{index .Config.Labels "com.docker.compose.service"}}'),
          })),
        );
      };
      try {
        // Servers first, then the roles: podman-compose 1.0 starts services in order
        // but does not wait for `condition: service_healthy`, as docker compose does.
        const up = await compose('up', '-d', 'influxdb-source', 'influxdb-backup', 'redis');
        assert.equal(up.code, 0, said(up));
        for (const c of await containers()) await engine.healthy(c.name, 120_000);
        const src = client(sourcePort);
        const dbs = (await sourceDatabases(sourcePort)).sort();
        assert.ok(dbs.includes('iot_sensors'), `INFLUXDB_DB created the source database: ${dbs.join(', ')}`);
        // Points of the last hour and a half, in the measurement config/docker.yaml names.
        const lines: string[] = [];
        const from = BigInt(Date.now() - 90 * 60_000) * 1_000_000n;
        for (let i = 0; i < 90; i++) {
          lines.push(
            `temperature_sensors,room=r${i % 3} celsius=${(20 + i / 7).toFixed(4)},raw=${i * 17}i ${from + BigInt(i) * 60_000_000_000n}`,
          );
        }
        await writeLines(sourcePort, 'iot_sensors', lines.join('\n'));

        const roles = await compose('up', '-d', 'planner', 'worker', 'dashboard');
        assert.equal(roles.code, 0, said(roles));
        const all = await containers();
        assert.deepEqual(all.map((c) => c.service).sort(), [
          'dashboard',
          'influxdb-backup',
          'influxdb-source',
          'planner',
          'redis',
          'worker',
          'worker',
          'worker',
        ]);
        const dashboard = all.find((c) => c.service === 'dashboard')?.name ?? '';
        await engine.healthy(dashboard, 120_000);
        await waitFor(
          'the backup equal to the source',
          async () => {
            const want = await dump(src, 'iot_sensors', 'temperature_sensors');
            const got = await dump(client(backupPort), 'iot_sensors_backup', 'temperature_sensors').catch(() => undefined);
            return got !== undefined && want.points.length === 2 * 90 && JSON.stringify(got) === JSON.stringify(want);
          },
          { timeoutMs: 120_000, intervalMs: 1000 },
        );
        const status = await compose('run', '--rm', '--no-deps', '-T', 'cli', 'status', '--config', 'config/docker.yaml');
        assert.equal(status.code, 0, said(status));
        const workers = new Set(
          status.stdout
            .split('\n')
            .filter((l) => / last seen /.test(l))
            .map((l) => l.trim().split(/\s+/)[0]),
        );
        assert.equal(workers.size, 3, `three workers with distinct ids in status:\n${status.stdout}`);
        for (const c of await containers()) {
          assert.equal(await engine.inspect(c.name, '{{.State.Status}}'), 'running', `${c.name}: ${await logs(c.name)}`);
          assert.equal(await engine.inspect(c.name, '{{.RestartCount}}'), '0', `${c.name} restarted: ${await logs(c.name)}`);
        }
        // Published ports listen on 127.0.0.1 only (PUBLISH_ADDRESS unset).
        for (const c of all.filter((x) => ['influxdb-source', 'influxdb-backup', 'dashboard'].includes(x.service))) {
          const ports = await engine.ok(['port', c.name]);
          assert.match(ports, /127\.0\.0\.1:\d+/, `${c.name}: ${ports}`);
          assert.doesNotMatch(ports, /0\.0\.0\.0|\[::\]/, `${c.name}: ${ports}`);
        }
        assert.equal((await fetch(`http://127.0.0.1:${dashboardPort}/health`)).status, 200);
      } finally {
        const down = await compose('down', '-v', '-t', '40');
        assert.equal(down.code, 0, said(down));
      }
      assert.deepEqual(await containers(), [], 'no container left');
      for (const label of ['com.docker.compose.project', 'io.podman.compose.project']) {
        const volumes = await engine.ok(['volume', 'ls', '-q', '--filter', `label=${label}=${project}`]);
        assert.equal(volumes.trim(), '', `volumes left: ${volumes}`);
      }
      const networks = (await engine.ok(['network', 'ls', '--format', '{{.Name}}'])).split('\n').filter((n) => n.startsWith(project));
      const oldPodmanCompose =
        engine.name === 'podman' && /podman-composer? version:?\s+1\.0\./.test((await run('podman-compose', ['version'])).stdout);
      if (oldPodmanCompose && networks.length > 0) {
        // podman-compose 1.0.x has no network removal in `down`; later versions and docker compose do.
        console.log(`# podman-compose 1.0 leaves the network ${networks.join(', ')}: removed`);
        await engine.ok(['network', 'rm', ...networks]);
      } else {
        assert.deepEqual(networks, [], 'no network left');
      }
    });
  });
});

async function sourceDatabases(port: number): Promise<string[]> {
  const r = await fetch(`http://127.0.0.1:${port}/query?q=${encodeURIComponent('SHOW DATABASES')}`);
  const body = (await r.json()) as { results: { series?: { values: string[][] }[] }[] };
  return (body.results[0]?.series?.[0]?.values ?? []).map((v) => v[0] ?? '');
}

async function writeLines(port: number, db: string, lines: string): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${port}/write?db=${encodeURIComponent(db)}&precision=ns`, { method: 'POST', body: lines });
  assert.equal(r.status, 204, await r.text());
}
