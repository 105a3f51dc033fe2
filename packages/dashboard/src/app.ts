import express, { type Application, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import { createBullBoard } from '@bull-board/api';
import { ExpressAdapter } from '@bull-board/express';
import { AUTH_REALM, basicAuthChecker, requirePassword } from './basic-auth.js';
import {
  healthHandler,
  metricsHandler,
  redisUnreachable,
  statusHandler,
  unauthorized,
  type Handler,
  type HandlerResult,
  type RedisProbe,
} from './handlers.js';
import { queueAdapter } from './job-view.js';
import { createMetricsRegistry } from './metrics.js';
import { withTimeout, type FieldsReport, type StatusReport } from '@influx-backup/runtime';
import { ASSETS } from './assets.js';
import { fieldsHandler } from './fields-page.js';
import { PAGES } from './page.js';
import { statusPageHandler } from './status-page.js';
import type { Logger } from '@influx-backup/core';
import type { JobDescriber } from '@influx-backup/queue';

export interface DashboardDeps {
  /** The status report (collectStatus of a Runtime) for /api/status and /metrics. */
  status: () => Promise<StatusReport>;
  /** The fields report (collectFields of a Runtime) for /fields and /api/fields. */
  fields?: () => Promise<FieldsReport>;
  /** The queues Bull Board shows: copy and schedule. */
  queues: readonly Queue[];
  /** What a chunk job copies (its run's plan); without it Bull Board shows a chunk's range only. */
  describer?: JobDescriber;
  /** dashboard.username and dashboard.password; an empty password is refused. */
  auth: { username: string; password?: string | undefined };
  /** The Redis connection /health pings. */
  redis: RedisProbe;
  /** Registry served at /metrics; by default one built on `status` with the process metrics. */
  registry?: Registry;
  logger?: Logger;
  /** How long a request waits for Redis before answering 503; 3 s by default. */
  timeoutMs?: number;
  /** host:port of Redis, for messages (never the URL: it may hold the password). */
  redisEndpoint?: string;
  /** Bull Board without its buttons (retry, clean, empty, ...); off by default. */
  readOnly?: boolean;
  /** How many scheduler.jobs run: with none, the schedule queue needs no planner (and says so). Unknown by default. */
  schedules?: number;
}

/**
 * Bull Board shows times in its own three formats (today, this year, older): each here has the date and the time
 * with seconds and the zone, in UTC like every time influx-backup prints, so a job's times read alike any day.
 */
const DATE_FORMAT: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  timeZone: 'UTC',
  timeZoneName: 'short',
};

/**
 * Bull Board prints "No errors recorded" (and "No progress data") in its error colour, on a job that did not fail
 * too. In its job tabs that class holds only such empty states: a failed job shows its stack trace, not this (BullMQ
 * records one on every failure). So they take the muted colour. Checked in a browser by the screenshot test.
 */
const BOARD_CSS = '<style>[class*="tabContent-"] .error.error{color:var(--muted-foreground)}</style>';

/**
 * Bull Board's page links Google Fonts in its HTML, and a browser without internet waits for them before it
 * draws. Its CSS falls back to the system's fonts, so the link goes: each page rendered is passed through this.
 */
function withoutRemoteFonts(html: string): string {
  return html.replace(/<link[^>]*\/\/fonts\.(?:googleapis|gstatic)\.com[^>]*>\s*/g, '').replace('</head>', `${BOARD_CSS}</head>`);
}

function send(res: Response, r: HandlerResult): void {
  res.status(r.status);
  for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
  if (typeof r.body === 'string') res.send(r.body);
  else res.json(r.body);
}

/** The only place a Handler meets Express. */
function route(handler: Handler): RequestHandler {
  return async (_req, res) => send(res, await handler());
}

/**
 * The dashboard: /health without auth; Bull Board at /, /api/status and /metrics behind
 * HTTP basic auth. Listens nowhere; the caller does (tests need no port).
 * Throws a ConfigError naming dashboard.password when there is no password.
 */
export function createApp(deps: DashboardDeps): Application {
  const credentials = requirePassword(deps.auth);
  const timeoutMs = deps.timeoutMs ?? 3_000;
  const logger = deps.logger;
  const what = `reading the status from Redis${deps.redisEndpoint ? ` at ${deps.redisEndpoint}` : ''}`;
  const status = (): Promise<StatusReport> =>
    redisUnreachable(deps.redis)
      ? Promise.reject(new Error(`${what}: no connection, reconnecting`))
      : withTimeout(deps.status(), timeoutMs, what);
  const registry =
    deps.registry ??
    createMetricsRegistry(status, {
      // Debug only: Prometheus scrapes every few seconds, and the runtime already warns about Redis.
      onError: (err) => logger?.debug(`metrics: ${err.message}`),
    });

  // While Redis is down every reconnect attempt makes a queue emit 'error', and BullMQ
  // prints those to the console when nobody listens. The runtime's Redis client already
  // logs each distinct connection error once.
  for (const q of deps.queues) {
    if (q.listenerCount('error') === 0) q.on('error', (err: Error) => logger?.debug(`queue ${q.name}: ${err.message}`));
  }

  const app = express();
  app.disable('x-powered-by');

  app.get('/health', route(healthHandler(deps.redis, timeoutMs)));
  // The logo (every page's favicon) and the menu's icons: what a login prompt's page may show, nothing else.
  app.get('/assets/:name', (req: Request<{ name: string }>, res: Response) => {
    const asset = ASSETS[req.params.name];
    if (!asset) {
      res.status(404).json({ error: 'no such asset' });
      return;
    }
    res.setHeader('Content-Type', asset.type).setHeader('Cache-Control', 'public, max-age=86400').send(asset.body);
  });
  app.get('/favicon.ico', (_req, res) => res.redirect(301, '/assets/logo.svg'));

  // Everything registered after this line needs the credentials.
  const authorized = basicAuthChecker(credentials);
  const denied = unauthorized(AUTH_REALM);
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (authorized(req.headers.authorization)) {
      next();
      return;
    }
    // Neither the header nor the user name is logged: a mistyped password is often
    // the real one with a typo.
    logger?.debug(`dashboard: 401 for ${req.method} ${req.path}`);
    send(res, denied);
  });

  app.get('/api/status', route(statusHandler(status)));
  app.get('/status', route(statusPageHandler(status, 'influx-backup')));
  app.get('/metrics', route(metricsHandler(registry)));
  const fieldsReport = deps.fields;
  if (fieldsReport) {
    const fields = (): Promise<FieldsReport> =>
      redisUnreachable(deps.redis)
        ? Promise.reject(new Error(`${what}: no connection, reconnecting`))
        : withTimeout(fieldsReport(), timeoutMs, what);
    app.get('/fields', route(fieldsHandler(fields, 'html', 'influx-backup')));
    app.get('/api/fields', route(fieldsHandler(fields, 'json', 'influx-backup')));
  }

  app.use((_req: Request, res: Response, next: NextFunction) => {
    const render = res.render.bind(res) as (view: string, options: object, done: (err: Error | null, html?: string) => void) => void;
    res.render = (view: string, options?: object) => {
      render(view, options ?? {}, (err, html) => (err ? next(err) : res.send(withoutRemoteFonts(html ?? ''))));
    };
    next();
  });
  const board = new ExpressAdapter();
  board.setBasePath('/');
  createBullBoard({
    queues: deps.queues.map((q) => queueAdapter(q, deps.describer, deps.readOnly ?? false, deps.schedules)),
    serverAdapter: board,
    options: {
      uiConfig: {
        boardTitle: 'influx-backup',
        boardLogo: { path: 'assets/logo.svg', width: 32, height: 32 },
        favIcon: { default: 'assets/logo.svg', alternative: 'assets/logo.svg' },
        // Bull Board 9's one place for links of one's own: the menu at the right of its header (uiConfig.menu sets
        // only the sidebar's width, and the sidebar lists queues). Each with its icon, as the dashboard's pages show them.
        miscLinks: PAGES.filter(([path]) => path !== 'fields' || fieldsReport).map(([path, text, icon]) => ({
          text,
          url: `/${path}`,
          icon: `/${icon}`,
        })),
        dateFormats: { short: DATE_FORMAT, common: DATE_FORMAT, full: DATE_FORMAT },
      },
    },
  });
  app.use(board.getRouter() as RequestHandler);

  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    // Express's own handler would send the stack trace to the browser.
    logger?.error(`dashboard: ${req.method} ${req.path} failed: ${err instanceof Error ? err.message : String(err)}`);
    send(res, { status: 500, body: { error: 'internal error' } });
  });
  return app;
}
