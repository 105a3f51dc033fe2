import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '@influx-backup/config';
import {
  collectFields,
  collectStatus,
  longRunningRole,
  serveUntil,
  withTimeout,
  type RunningRole,
  type Runtime,
} from '@influx-backup/runtime';
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
    describer: rt.describer,
    auth: { username: rt.config.dashboard.username, password: rt.config.dashboard.password },
    redis: rt.redis,
    logger: rt.logger,
    redisEndpoint: rt.redisEndpoint,
    schedules: rt.config.scheduler.enabled ? rt.config.scheduler.jobs.filter((j) => j.enabled).length : 0,
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

/** Starts serving on dashboard.host:dashboard.port. Refuses to start without dashboard.password. */
export async function startDashboard(rt: Runtime, options: RunDashboardOptions = {}): Promise<RunningRole & { readonly url: string }> {
  const { host, port, username } = rt.config.dashboard;
  requirePassword(rt.config.dashboard, rt.config.file);
  const server = createServer(createApp(dashboardDeps(rt)));
  await listen(server, host, port, rt.config.file);

  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${actualPort}/`;
  rt.logger.info(`dashboard at ${url} (basic auth, user ${JSON.stringify(username)}); /health without auth; /api/status, /metrics`);
  options.onListening?.(url);
  void withTimeout(rt.redis.ping(), 5_000, `Redis at ${rt.redisEndpoint}`).catch((err: Error) =>
    rt.logger.warn(`${err.message}; /health answers 503 until Redis is back`),
  );
  return { url, stop: () => close(server) };
}

const STOPPING = 'closing the dashboard';

/** Serves until `stop` is aborted, then closes the server and resolves. */
export async function runDashboard(rt: Runtime, stop: AbortSignal, options: RunDashboardOptions = {}): Promise<void> {
  await serveUntil(rt, stop, await startDashboard(rt, options), STOPPING);
}

/**
 * The `dashboard` role: `influx-backup dashboard` and `apps/dashboard`. No preflight:
 * the dashboard needs neither InfluxDB server, and it starts while Redis is down so
 * that /health can say so. Without dashboard.password it refuses to start (a
 * ConfigError, exit 2) before any connection is opened.
 */
export const dashboardRole = longRunningRole({
  name: 'dashboard',
  description: 'serve Bull Board at / (basic auth), /health, /metrics and /api/status',
  stopping: STOPPING,
  check: (ctx) => requirePassword(ctx.config.dashboard, ctx.config.file),
  start: (rt) => startDashboard(rt),
});
