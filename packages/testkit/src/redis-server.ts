import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { ensureBinary } from './install.js';
import { freePort, waitFor } from './ports.js';
import { spawnLogged, type ManagedProcess } from './process.js';

export interface RedisServer {
  readonly port: number;
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
}

async function ping(port: number, password?: string): Promise<boolean> {
  return new Promise((resolvePing) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    sock.on('error', () => resolvePing(false));
    sock.on('connect', () => {
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
  const port = await freePort();
  const logFile = join(dir, 'redis.log');
  const args = [
    '--port',
    String(port),
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
  let proc: ManagedProcess | undefined;
  const start = async (): Promise<void> => {
    proc = spawnLogged(bin, args, join(dir, 'stdout.log'));
    const child = proc.child;
    await waitFor(`redis-server on 127.0.0.1:${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      return ping(port, options.password);
    });
  };
  await start();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}/0`,
    dir,
    async stop({ save = false, signal = 'SIGTERM' } = {}) {
      if (save) {
        // SHUTDOWN SAVE writes the dataset even with `save ""`, so a restart keeps the queues.
        await new Promise<void>((r) => {
          const sock = createConnection({ host: '127.0.0.1', port });
          sock.on('connect', () => {
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
