import { stringify } from 'yaml';
import { CRON_FIELD_KEYS } from './cron.js';
import { formatDuration } from './duration.js';
import { MASK } from './secrets.js';
import type { BackupConfig, CronFields, InfluxConnectionConfig, LogLevel } from './types.js';

const PYTHON_LEVEL: Readonly<Record<LogLevel, string>> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' };

function masked(secret: string | undefined): string {
  return secret === undefined || secret === '' ? '' : MASK;
}

/** The URL with its password (not its user) replaced by ********. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    return `${u.protocol}//${u.username}:${MASK}@${u.host}${u.pathname}${u.search}${u.hash}`;
  } catch {
    return MASK;
  }
}

function seconds(ms: number): number {
  return ms / 1000;
}

function connection(c: InfluxConnectionConfig): Record<string, unknown> {
  return {
    host: c.host,
    port: c.port,
    username: c.username ?? '',
    password: masked(c.password),
    database: c.database,
    ssl: c.ssl,
    verify_ssl: c.verifySsl,
    ca_file: c.caFile ?? '',
    timeout: seconds(c.timeoutMs),
    retries: c.retries,
  };
}

function cronFields(job: CronFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, key] of Object.entries(CRON_FIELD_KEYS)) {
    const value = job[field as keyof CronFields];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The configuration as the seed's snake_case YAML, every default filled in, secrets masked. */
export function toSnakeCase(config: BackupConfig): Record<string, unknown> {
  const { logging, databases, processing, backup, scheduler, monitoring, redis, dashboard } = config;
  const alerts = monitoring.alerts;
  return {
    version: config.version,
    app_name: config.appName,
    logging: {
      level: PYTHON_LEVEL[logging.level],
      format: logging.format,
      handlers: {
        console: { enabled: logging.handlers.console.enabled, level: PYTHON_LEVEL[logging.handlers.console.level] },
        file: {
          enabled: logging.handlers.file.enabled,
          level: PYTHON_LEVEL[logging.handlers.file.level],
          filename: logging.handlers.file.filename,
          max_bytes: logging.handlers.file.maxBytes,
          backup_count: logging.handlers.file.backupCount,
        },
      },
    },
    databases: { source: connection(databases.source), backup: connection(databases.backup) },
    processing: {
      max_workers: processing.maxWorkers,
      batch_size: processing.batchSize,
      batch_interval: seconds(processing.batchIntervalMs),
      worker_memory_limit: processing.workerMemoryLimitMb,
      operation_timeout: seconds(processing.operationTimeoutMs),
    },
    backup: {
      measurements: backup.measurements.map((m) => ({
        name: m.name,
        ...(m.fields === undefined ? {} : { fields: [...m.fields] }),
        start_time: m.startTime,
        ...(m.endTime === undefined ? {} : { end_time: m.endTime }),
      })),
      time_chunks: { size: formatDuration(backup.timeChunks.sizeMs), overlap: formatDuration(backup.timeChunks.overlapMs), max_values: backup.timeChunks.maxValues },
      retry: {
        max_attempts: backup.retry.maxAttempts,
        backoff_factor: backup.retry.backoffFactor,
        max_backoff: seconds(backup.retry.maxBackoffMs),
      },
    },
    scheduler: {
      enabled: scheduler.enabled,
      timezone: scheduler.timezone,
      jobs: scheduler.jobs.map((job) => ({
        id: job.id,
        trigger: job.trigger,
        enabled: job.enabled,
        full: job.full,
        ...cronFields(job),
      })),
    },
    monitoring: {
      metrics: { enabled: monitoring.metrics.enabled, interval: seconds(monitoring.metrics.intervalMs) },
      alerts:
        alerts.kind === 'thresholds'
          ? {
              enabled: alerts.enabled,
              thresholds: {
                error_rate: alerts.thresholds.errorRate,
                memory_usage: alerts.thresholds.memoryUsage,
                duration: seconds(alerts.thresholds.durationMs),
              },
            }
          : alerts.rules.map((r) => ({
              name: r.name,
              condition: r.condition,
              action: r.action,
              ...(r.recipients === undefined ? {} : { recipients: [...r.recipients] }),
            })),
    },
    redis: { url: maskUrl(redis.url), prefix: redis.prefix },
    dashboard: { host: dashboard.host, port: dashboard.port, username: dashboard.username, password: masked(dashboard.password) },
  };
}

/**
 * The effective configuration as YAML in the seed's format (defaults filled in, durations
 * as "1h", times normalised to UTC), with every secret replaced by "********"; an unset
 * password prints as "". Loading the output again gives the same configuration, apart
 * from the passwords.
 */
export function printableConfig(config: BackupConfig): string {
  const header = `# Effective configuration from ${config.file} (secrets masked)\n`;
  return header + stringify(toSnakeCase(config), { lineWidth: 0 });
}
