import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '@influx-backup/config';
import { EXIT_OK, onShutdownSignals, whenAborted, type ProcessContext, type Role } from '@influx-backup/process';
import { collectFields, collectStatus, withRuntime, withTimeout, type Runtime } from '@influx-backup/runtime';
import { createApp, type DashboardDeps } from './app.js';
import { requirePassword } from './basic-auth.js';

export interface RunDashboardOptions {
  /** Called once the server listens, with the URL it answers on. */
  onListening?: (url: string) => void;
}

/** The dashboard's dependencies taken from a Runtime. */
export function dashboardDeps(rt: Runtime): DashboardDeps {
  return {
    status: () => collectStatus(rt),
    fields: () => collectFields(rt),
    queues: [rt.copyQueue, rt.scheduleQueue],
    store: rt.store,
    auth: { username: rt.config.dashboard.username, password: rt.config.dashboard.password },
    redis: rt.redis,
    logger: rt.logger,
    redisEndpoint: rt.redisEndpoint,
  };
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: Server, host: string, port: number, file: string | undefined): Promise<void> {
  const where = `${urlHost(host)}:${port}`;
  const at = (key: string): { key: string; file?: string } => ({ key, ...(file ? { file } : {}) });
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(new ConfigError(`${where} is already in use: stop what listens there or choose another port`, at('dashboard.port')));
      } else if (err.code === 'EACCES') {
        reject(new ConfigError(`not allowed to listen on ${where} (ports below 1024 need privileges)`, at('dashboard.port')));
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
        reject(new ConfigError(`cannot listen on ${where}: ${host} is not an address of this machine`, at('dashboard.host')));
      } else {
        reject(new Error(`cannot listen on ${where}: ${err.message}`));
      }
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Stops taking connections, lets requests in flight finish for a moment, then cuts the rest. */
function close(server: Server, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    // Bull Board's page keeps connections alive between its polls.
    server.closeIdleConnections();
  });
}

/**
 * Serves on dashboard.host:dashboard.port until `stop` is aborted, then closes the
 * server and resolves. Refuses to start without dashboard.password.
 */
export async function runDashboard(rt: Runtime, stop: AbortSignal, options: RunDashboardOptions = {}): Promise<void> {
  const { host, port, username } = rt.config.dashboard;
  requirePassword(rt.config.dashboard, rt.config.file);
  const app = createApp(dashboardDeps(rt));
  const server = createServer(app);
  await listen(server, host, port, rt.config.file);

  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${actualPort}/`;
  rt.logger.info(`dashboard at ${url} (basic auth, user ${JSON.stringify(username)}); /health without auth; /api/status, /metrics`);
  options.onListening?.(url);
  void withTimeout(rt.redis.ping(), 5_000, `Redis at ${rt.redisEndpoint}`).catch((err: Error) =>
    rt.logger.warn(`${err.message}; /health answers 503 until Redis is back`),
  );

  const why = await whenAborted(stop);
  rt.logger.info(`${why}: closing the dashboard`);
  await close(server);
}

/**
 * The `dashboard` role: `influx-backup dashboard` and `apps/dashboard`. No preflight:
 * the dashboard needs neither InfluxDB server, and it starts while Redis is down so
 * that /health can say so. Without dashboard.password it refuses to start (a
 * ConfigError, exit 2) before any connection is opened.
 */
export const dashboardRole: Role = {
  name: 'dashboard',
  description: 'serve Bull Board at / (basic auth), /health, /metrics and /api/status',
  async run(ctx: ProcessContext) {
    requirePassword(ctx.config.dashboard, ctx.config.file);
    return withRuntime(ctx, async (rt) => {
      const shutdown = onShutdownSignals();
      try {
        await runDashboard(rt, shutdown.signal);
      } finally {
        shutdown.dispose();
      }
      return EXIT_OK;
    });
  },
};
