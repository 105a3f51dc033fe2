import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinary } from './install.js';
import { freePort, waitFor } from './ports.js';
import { spawnLogged, type ManagedProcess } from './process.js';

export interface InfluxServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stops the server; its data stays until `destroy`. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
  /** Stops the server and removes its folder. */
  destroy(): Promise<void>;
  /** Runs one InfluxQL statement (POST /query) and returns the parsed JSON answer. */
  query(q: string, db?: string): Promise<unknown>;
  /** Writes line protocol with nanosecond precision; throws on any non-204 answer. */
  write(db: string, lines: string): Promise<void>;
  log(): string;
}

export interface InfluxServerOptions {
  /** Turn on HTTP auth and create this admin user. */
  admin?: { username: string; password: string };
}

function configText(dir: string, httpPort: number, rpcPort: number, auth: boolean): string {
  // Every port is our own: a second influxd on this machine would otherwise clash
  // on the default 8088 backup/restore port.
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
  logging-enabled = false
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
[retention]
  enabled = false
[shard-precreation]
  enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = ${auth}
  log-enabled = false
[logging]
  level = "warn"
`;
}

export async function startInflux(options: InfluxServerOptions = {}): Promise<InfluxServer> {
  const bin = ensureBinary('influxd', 'influxdb');
  const dir = mkdtempSync(join(tmpdir(), 'ib-influx-'));
  const port = await freePort();
  const rpcPort = await freePort();
  const conf = join(dir, 'influxd.conf');
  const logFile = join(dir, 'influxd.log');
  writeFileSync(conf, configText(dir, port, rpcPort, options.admin !== undefined));
  const host = '127.0.0.1';
  const url = `http://${host}:${port}`;
  const authHeader: Record<string, string> = options.admin
    ? { authorization: `Basic ${Buffer.from(`${options.admin.username}:${options.admin.password}`).toString('base64')}` }
    : {};

  let proc: ManagedProcess | undefined;
  const start = async (): Promise<void> => {
    proc = spawnLogged(bin, ['-config', conf], logFile);
    const child = proc.child;
    await waitFor(`influxd on ${host}:${port} (log: ${logFile})`, async () => {
      if (child.exitCode !== null) throw new Error(`influxd exited with ${child.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
      const res = await fetch(`${url}/ping`).catch(() => undefined);
      return res?.status === 204;
    });
  };

  const query = async (q: string, db?: string): Promise<unknown> => {
    const body = new URLSearchParams({ q, epoch: 'ns' });
    if (db) body.set('db', db);
    const res = await fetch(`${url}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...authHeader },
      body,
    });
    const json = (await res.json()) as { error?: string; results?: { error?: string }[] };
    const err = json.error ?? json.results?.find((r) => r.error)?.error;
    if (!res.ok || err) throw new Error(`influx query failed (${res.status}): ${err ?? ''} — ${q}`);
    return json;
  };

  await start();
  if (options.admin) {
    // With auth on and no users yet, InfluxDB lets exactly this statement through.
    const body = new URLSearchParams({
      q: `CREATE USER "${options.admin.username}" WITH PASSWORD '${options.admin.password.replace(/'/g, "\\'")}' WITH ALL PRIVILEGES`,
    });
    const res = await fetch(`${url}/query`, { method: 'POST', body });
    if (!res.ok) throw new Error(`could not create the admin user: ${await res.text()}`);
  }

  return {
    host,
    port,
    url,
    dir,
    stop: async (signal) => proc?.stop(signal),
    start,
    async destroy() {
      await proc?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    query,
    async write(db, lines) {
      const res = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=ns`, {
        method: 'POST',
        headers: authHeader,
        body: lines,
      });
      if (res.status !== 204) throw new Error(`influx write failed (${res.status}): ${await res.text()}`);
    },
    log: () => readFileSync(logFile, 'utf8'),
  };
}
