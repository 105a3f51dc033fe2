import type { Registry } from 'prom-client';
import { withTimeout, type StatusReport } from '@influx-backup/runtime';

/** What a handler answers; the Express layer only translates it. */
export interface HandlerResult {
  status: number;
  /** A string is sent as it is; anything else as JSON. */
  body: unknown;
  headers?: Record<string, string>;
}

export type Handler = () => Promise<HandlerResult>;

/** The part of an ioredis client /health needs. */
export interface RedisProbe {
  readonly status: string;
  ping(): Promise<unknown>;
}

/**
 * True while ioredis knows it has no connection (between retries, or closed): a
 * command sent now would only wait in its offline queue.
 */
export function redisUnreachable(redis: RedisProbe): boolean {
  return redis.status === 'reconnecting' || redis.status === 'close' || redis.status === 'end';
}

const NO_STORE = { 'Cache-Control': 'no-store' };

/**
 * 200 when Redis answers PING in time, 503 otherwise. While ioredis is reconnecting
 * a PING would only sit in its offline queue, so the state alone says "down".
 */
export function healthHandler(redis: RedisProbe, timeoutMs: number): Handler {
  return async () => {
    const up =
      !redisUnreachable(redis) &&
      (await withTimeout(redis.ping(), timeoutMs, 'Redis PING').then(
        () => true,
        () => false,
      ));
    return up
      ? { status: 200, body: { status: 'ok', redis: 'up' }, headers: NO_STORE }
      : { status: 503, body: { status: 'degraded', redis: 'down' }, headers: NO_STORE };
  };
}

/** The `status --json` report; 503 naming the reason when Redis cannot give it (in time). */
export function statusHandler(status: () => Promise<StatusReport>): Handler {
  return async () => {
    try {
      return { status: 200, body: await status(), headers: NO_STORE };
    } catch (err) {
      return { status: 503, body: { error: (err as Error).message }, headers: NO_STORE };
    }
  };
}

/** Prometheus text; the registry reads the status itself at scrape time. */
export function metricsHandler(registry: Registry): Handler {
  return async () => ({
    status: 200,
    body: await registry.metrics(),
    headers: { ...NO_STORE, 'Content-Type': registry.contentType },
  });
}

export function unauthorized(realm: string): HandlerResult {
  return {
    status: 401,
    body: { error: 'authentication required' },
    headers: { 'WWW-Authenticate': `Basic realm="${realm}"`, ...NO_STORE },
  };
}
