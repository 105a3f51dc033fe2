import { resolve } from 'node:path';
import { loadConfig, parseTime, type BackupConfig } from '@influx-backup/config';
import { createLogger, type Logger } from '@influx-backup/logger';
import type { Runtime } from '@influx-backup/runtime';
import { UsageError } from './errors.js';

export interface GlobalOptions {
  config: string;
  logLevel?: string;
  verbose?: boolean;
}

export interface SelectorOptions {
  measurement?: string[];
  field?: string[];
  startTime?: string;
  endTime?: string;
  full?: boolean;
}

export interface CommandContext {
  config: BackupConfig;
  logger: Logger;
}

/** Commands that only read or print: they open no log file. */
const NO_LOG_FILE = new Set(['config', 'status', 'verify']);

export function loadContext(opts: GlobalOptions, component: string): CommandContext {
  const levelOverride = opts.verbose ? 'debug' : opts.logLevel;
  const config = loadConfig({
    file: resolve(opts.config),
    cwd: process.cwd(),
    ...(levelOverride ? { overrides: { logLevel: levelOverride } } : {}),
  });
  const logging = NO_LOG_FILE.has(component)
    ? { ...config.logging, handlers: { ...config.logging.handlers, file: { ...config.logging.handlers.file, enabled: false } } }
    : config.logging;
  const logger = createLogger(logging, {
    component,
    ...(levelOverride ? { levelOverride } : {}),
    secrets: secretsOf(config),
  });
  return { config, logger };
}

export function secretsOf(config: BackupConfig): string[] {
  const out = [config.databases.source.password, config.databases.backup.password, config.dashboard.password];
  try {
    const url = new URL(config.redis.url);
    if (url.password) out.push(decodeURIComponent(url.password), url.password);
  } catch {
    // validated by the config package
  }
  return out.filter((s): s is string => typeof s === 'string' && s.length > 0);
}

export async function withRuntime<T>(ctx: CommandContext, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const { createRuntime } = await import('@influx-backup/runtime');
  const rt = createRuntime(ctx.config, ctx.logger);
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

/** A --start-time / --end-time value as nanoseconds, or a usage error naming the flag. */
export function timeFlag(flag: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  try {
    return parseTime(value);
  } catch {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not an RFC 3339 time (e.g. 2024-01-31T23:59:59Z)`);
  }
}

export function selection(opts: SelectorOptions): {
  measurements?: string[];
  fields?: string[];
  startNs?: bigint;
  endNs?: bigint;
  full: boolean;
} {
  const startNs = timeFlag('--start-time', opts.startTime);
  const endNs = timeFlag('--end-time', opts.endTime);
  if (startNs !== undefined && endNs !== undefined && endNs < startNs) {
    throw new UsageError(`--end-time ${opts.endTime} is before --start-time ${opts.startTime}`);
  }
  return {
    ...(opts.measurement?.length ? { measurements: opts.measurement } : {}),
    ...(opts.field?.length ? { fields: opts.field } : {}),
    ...(startNs !== undefined ? { startNs } : {}),
    ...(endNs !== undefined ? { endNs } : {}),
    full: opts.full ?? false,
  };
}

export function runId(kind: string): string {
  return `${kind}-${new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 15)}-${process.pid}`;
}
