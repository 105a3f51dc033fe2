import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ensureBinary } from './install.js';
import { freePort, waitFor } from './ports.js';
import { spawnLogged, type ManagedProcess } from './process.js';

export interface RedisServer {
  readonly port: number;
  /** redis://, or rediss:// when the server was started with `tls`. */
  readonly url: string;
  readonly dir: string;
  /** Stops the server; with `save`, its data is written to disk first so `start` brings it back. */
  stop(opts?: { save?: boolean; signal?: NodeJS.Signals }): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
  log(): string;
}

export interface RedisServerOptions {
  password?: string;
  /** maxmemory-policy to run with; noeviction by default, as the README asks of operators. */
  maxmemoryPolicy?: string;
  appendonly?: boolean;
  /** Listen on this port (a test that starts Redis where a program already looks for it); a free one by default. */
  port?: number;
  /** Serve TLS only (no plain port) with this PEM certificate and key (see makeCertificate); the url is rediss://. */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** More redis-server arguments, e.g. ['--rename-command', 'CONFIG', '']. */
  args?: string[];
}

/** A connection to the test server: plain, or TLS trusting the test's own CA. */
function open(port: number, tls: RedisServerOptions['tls']): Socket {
  if (!tls) return createConnection({ host: '127.0.0.1', port });
  return tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(tls.caFile) });
}

async function ping(port: number, password?: string, tls?: RedisServerOptions['tls']): Promise<boolean> {
  return new Promise((resolvePing) => {
    const sock = open(port, tls);
    let buf = '';
    sock.on('error', () => resolvePing(false));
    sock.on(tls ? 'secureConnect' : 'connect', () => {
      if (password) sock.write(`AUTH ${password}\r\n`);
      sock.write('PING\r\n');
    });
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('+PONG')) {
        sock.destroy();
        resolvePing(true);
      }
    });
    sock.setTimeout(1000, () => {
      sock.destroy();
      resolvePing(false);
    });
  });
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = ensureBinary('redis-server', 'redis-server');
  const dir = mkdtempSync(join(tmpdir(), 'ib-redis-'));
  const port = options.port ?? (await freePort());
  const logFile = join(dir, 'redis.log');
  const listen = options.tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile]
    : ['--port', String(port)];
  // A TLS server here asks no client certificate: the tests check that clients verify the server's.
  const args = [
    ...listen,
    ...(options.tls ? ['--tls-ca-cert-file', options.tls.caFile, '--tls-auth-clients', 'no'] : []),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--maxmemory-policy',
    options.maxmemoryPolicy ?? 'noeviction',
    '--logfile',
    logFile,
  ];
  if (options.password) args.push('--requirepass', options.password);
  args.push(...(options.args ?? []));
  let proc: ManagedProcess | undefined;
  const start = async (): Promise<void> => {
    proc = spawnLogged(bin, args, join(dir, 'stdout.log'));
    const child = proc.child;
    await waitFor(`redis-server on 127.0.0.1:${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      return ping(port, options.password, options.tls);
    });
  };
  await start();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    port,
    url: `${options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}/0`,
    dir,
    async stop({ save = false, signal = 'SIGTERM' } = {}) {
      if (save) {
        // SHUTDOWN SAVE writes the dataset even with `save ""`, so a restart keeps the queues.
        await new Promise<void>((r) => {
          const sock = open(port, options.tls);
          sock.on(options.tls ? 'secureConnect' : 'connect', () => {
            if (options.password) sock.write(`AUTH ${options.password}\r\n`);
            sock.write('SHUTDOWN SAVE\r\n');
          });
          sock.on('close', () => r());
          sock.on('error', () => r());
        });
      }
      await proc?.stop(signal);
    },
    start,
    async destroy() {
      await proc?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => readFileSync(logFile, 'utf8'),
  };
}
