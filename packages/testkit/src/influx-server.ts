import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinary } from './install.js';
import { freePort, waitFor } from './ports.js';
import { spawnLogged, type ManagedProcess } from './process.js';

interface Answer {
  status: number;
  text: string;
}

/** A plain HTTP(S) request; a test server's self-signed certificate is accepted here. */
function request(url: string, method: string, body?: string | URLSearchParams, headers: Record<string, string> = {}): Promise<Answer> {
  const payload = body === undefined ? undefined : String(body);
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, {
      method,
      headers: {
        ...(body instanceof URLSearchParams ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      rejectUnauthorized: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.end(payload);
  });
}

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
  /** The running influxd's process id (benchmarks read its CPU time in /proc). */
  pid(): number | undefined;
}

export interface InfluxServerOptions {
  /** Turn on HTTP auth and create this admin user. */
  admin?: { username: string; password: string };
  /** Serve HTTPS with this PEM certificate and key (see makeCertificate). */
  tls?: { certFile: string; keyFile: string };
  /** Listen for HTTP on this port (one a program already looks at); a free one by default. */
  port?: number;
}

function configText(dir: string, httpPort: number, rpcPort: number, auth: boolean, tls?: InfluxServerOptions['tls']): string {
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
${tls ? `  https-enabled = true\n  https-certificate = "${tls.certFile}"\n  https-private-key = "${tls.keyFile}"\n` : ''}
[logging]
  level = "warn"
`;
}

export async function startInflux(options: InfluxServerOptions = {}): Promise<InfluxServer> {
  const bin = ensureBinary('influxd', 'influxdb');
  const dir = mkdtempSync(join(tmpdir(), 'ib-influx-'));
  const port = options.port ?? (await freePort());
  const rpcPort = await freePort();
  const conf = join(dir, 'influxd.conf');
  const logFile = join(dir, 'influxd.log');
  writeFileSync(conf, configText(dir, port, rpcPort, options.admin !== undefined, options.tls));
  const host = '127.0.0.1';
  const url = `${options.tls ? 'https' : 'http'}://${host}:${port}`;
  const authHeader: Record<string, string> = options.admin
    ? { authorization: `Basic ${Buffer.from(`${options.admin.username}:${options.admin.password}`).toString('base64')}` }
    : {};

  let proc: ManagedProcess | undefined;
  const start = async (): Promise<void> => {
    proc = spawnLogged(bin, ['-config', conf], logFile);
    const child = proc.child;
    await waitFor(`influxd on ${host}:${port} (log: ${logFile})`, async () => {
      if (child.exitCode !== null) throw new Error(`influxd exited with ${child.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
      const res = await request(`${url}/ping`, 'GET').catch(() => undefined);
      return res?.status === 204;
    });
  };

  const query = async (q: string, db?: string): Promise<unknown> => {
    const body = new URLSearchParams({ q, epoch: 'ns' });
    if (db) body.set('db', db);
    const res = await request(`${url}/query`, 'POST', body, authHeader);
    const json = JSON.parse(res.text) as { error?: string; results?: { error?: string }[] };
    const err = json.error ?? json.results?.find((r) => r.error)?.error;
    if (res.status !== 200 || err) throw new Error(`influx query failed (${res.status}): ${err ?? ''} — ${q}`);
    return json;
  };

  await start();
  if (options.admin) {
    // With auth on and no users yet, InfluxDB lets exactly this statement through.
    const body = new URLSearchParams({
      q: `CREATE USER "${options.admin.username}" WITH PASSWORD '${options.admin.password.replace(/'/g, "\\'")}' WITH ALL PRIVILEGES`,
    });
    const res = await request(`${url}/query`, 'POST', body);
    if (res.status !== 200) throw new Error(`could not create the admin user: ${res.text}`);
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
      const res = await request(`${url}/write?db=${encodeURIComponent(db)}&precision=ns`, 'POST', lines, authHeader);
      if (res.status !== 204) throw new Error(`influx write failed (${res.status}): ${res.text}`);
    },
    log: () => readFileSync(logFile, 'utf8'),
    pid: () => proc?.child.pid,
  };
}
