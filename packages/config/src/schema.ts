// The one convict schema: every key of the seed's YAML format plus `redis` and `dashboard`.
// Values are kept as written (snake_case, durations as text); toBackupConfig() in
// load-config.ts turns them into the typed object.

import type convict from 'convict';
import { DEFAULT_THRESHOLDS } from './sections.js';

type Side = 'SOURCE' | 'BACKUP';

export interface RawConnection {
  host: string | null;
  port: number;
  username: string;
  password: string;
  database: string | null;
  ssl: boolean;
  verify_ssl: boolean;
  ca_file: string;
  timeout: number;
  retries: number;
}

export interface RawConfig {
  version: string;
  app_name: string;
  logging: {
    level: string;
    format: string;
    handlers: {
      console: { enabled: boolean; level: string | null };
      file: { enabled: boolean; level: string | null; filename: string; max_bytes: number; backup_count: number };
    };
  };
  databases: { source: RawConnection; backup: RawConnection };
  processing: {
    max_workers: number;
    batch_size: number;
    batch_interval: number;
    worker_memory_limit: number | string;
    operation_timeout: number;
  };
  backup: {
    measurements: unknown;
    time_chunks: { size: string; overlap: string; max_values: number };
    retry: { max_attempts: number; backoff_factor: number; max_backoff: number };
  };
  scheduler: { enabled: boolean; timezone: string; jobs: unknown };
  monitoring: { metrics: { enabled: boolean; interval: number }; alerts: unknown };
  redis: { url: string; prefix: string };
  dashboard: { host: string; port: number; username: string; password: string };
}

function connection(side: Side): convict.Schema<RawConnection> {
  const which = side === 'SOURCE' ? 'source (the server backed up)' : 'backup (the server written to)';
  return {
    host: {
      doc: `Host name or address of the ${which} InfluxDB 1.x server.`,
      format: 'ib-host',
      default: null,
      env: `INFLUX_${side}_HOST`,
    },
    port: { doc: 'HTTP port.', format: 'ib-port', default: 8086, env: `INFLUX_${side}_PORT` },
    username: {
      doc: 'User name; empty for a server without authentication.',
      format: 'ib-optional-text',
      default: '',
      env: `INFLUX_${side}_USER`,
    },
    password: {
      doc: 'Password; use "${VARIABLE}" rather than writing it in the file.',
      format: 'ib-secret',
      default: '',
      env: `INFLUX_${side}_PASS`,
      sensitive: true,
    },
    database:
      side === 'SOURCE'
        ? { doc: 'Database to back up.', format: 'ib-text', default: null, env: 'INFLUX_SOURCE_DB' }
        : {
            doc: 'Database to write to (created when missing); empty means the source database followed by "_backup".',
            format: 'ib-optional-text',
            default: '',
            env: 'INFLUX_BACKUP_DB',
          },
    ssl: { doc: 'Use HTTPS.', format: 'ib-boolean', default: false },
    verify_ssl: { doc: "Verify the server's TLS certificate.", format: 'ib-boolean', default: true },
    ca_file: {
      doc: 'PEM file of CA certificates to verify the server with (relative to the working directory); empty for the system CAs.',
      format: 'ib-optional-text',
      default: '',
    },
    timeout: { doc: 'Timeout of one HTTP request, in seconds.', format: 'ib-seconds', default: 30 },
    retries: { doc: 'Retries of a failed request that may succeed on another try.', format: 'ib-nat', default: 3 },
  };
}

export const DEFAULT_LOG_FORMAT = '%(asctime)s - %(name)s - %(levelname)s - %(message)s';

export function backupSchema(): convict.Schema<RawConfig> {
  return {
    version: { doc: 'Version of this file format.', format: 'ib-version', default: '1.0' },
    app_name: { doc: 'Name shown in logs and on the dashboard.', format: 'ib-text', default: 'influx-backup' },
    logging: {
      level: {
        doc: 'Lowest level logged: DEBUG, INFO, WARNING, ERROR, CRITICAL (or debug, info, warn, error).',
        format: 'ib-level',
        default: 'INFO',
        env: 'LOG_LEVEL',
      },
      format: {
        doc: 'Python logging format: %(asctime)s %(name)s %(levelname)s %(message)s (metadata follows as key=value).',
        format: 'ib-log-format',
        default: DEFAULT_LOG_FORMAT,
      },
      handlers: {
        console: {
          enabled: { doc: 'Log to standard error.', format: 'ib-boolean', default: true },
          level: { doc: 'Level of this handler; empty means logging.level.', format: 'ib-level', default: null, nullable: true },
        },
        file: {
          enabled: { doc: 'Log to a file that rotates by size.', format: 'ib-boolean', default: false },
          level: { doc: 'Level of this handler; empty means logging.level.', format: 'ib-level', default: null, nullable: true },
          filename: {
            doc: 'Log file, relative to the working directory; {timestamp} becomes the start time (20261126-134500).',
            format: 'ib-text',
            default: 'logs/backup_{timestamp}.log',
          },
          max_bytes: { doc: 'Rotate when the file would grow past this size; 0 never rotates.', format: 'ib-nat', default: 10_485_760 },
          backup_count: { doc: 'Rotated files kept (FILE.1 ... FILE.N); 0 never rotates.', format: 'ib-nat', default: 5 },
        },
      },
    },
    databases: { source: connection('SOURCE'), backup: connection('BACKUP') },
    processing: {
      max_workers: { doc: 'Jobs copied at once by one process.', format: 'ib-count', default: 4, env: 'MAX_WORKERS' },
      batch_size: { doc: 'Points per write to the backup server.', format: 'ib-count', default: 1000, env: 'BATCH_SIZE' },
      batch_interval: { doc: 'Pause between two batches, in seconds.', format: 'ib-seconds-or-zero', default: 0.1 },
      worker_memory_limit: {
        doc: 'Memory one job may buffer, in megabytes (256, "256MB", "1GB").',
        format: 'ib-megabytes',
        default: 256,
        env: 'MEMORY_LIMIT',
      },
      operation_timeout: {
        doc: 'Longest time one job may run, in seconds.',
        format: 'ib-seconds',
        default: 300,
        env: 'OPERATION_TIMEOUT',
      },
    },
    backup: {
      measurements: {
        doc: 'Measurements to back up: [{name, fields (omit for every field), start_time, end_time (omit for now)}].',
        format: 'ib-measurements',
        default: [],
      },
      time_chunks: {
        size: { doc: 'Length of the time range of one job: 30s, 5m, 1h, 6h, 1d, 1w.', format: 'ib-duration', default: '1h' },
        overlap: {
          doc: 'How far before a field\'s checkpoint an incremental run starts again; less than size.',
          format: 'ib-duration',
          default: '1m',
        },
        max_values: {
          doc: 'Planning merges neighbouring chunks of the size grid while the merged chunk holds at most this many values of the field; 1 turns merging off.',
          format: 'ib-count',
          default: 100_000,
        },
      },
      retry: {
        max_attempts: { doc: 'Attempts of a job before it fails for good.', format: 'ib-count', default: 3 },
        backoff_factor: { doc: 'Each retry waits this many times longer than the last.', format: 'ib-factor', default: 2 },
        max_backoff: { doc: 'Longest wait between two attempts, in seconds.', format: 'ib-seconds', default: 60 },
      },
    },
    scheduler: {
      enabled: { doc: 'Run the cron jobs below in the planner.', format: 'ib-boolean', default: false },
      timezone: { doc: 'IANA time zone of the cron fields.', format: 'ib-timezone', default: 'UTC' },
      jobs: {
        doc: 'APScheduler-style cron jobs: [{id, trigger: cron, enabled, full, year, month, day, week, day_of_week, hour, minute, second}].',
        format: 'ib-jobs',
        default: [],
      },
    },
    monitoring: {
      metrics: {
        enabled: { doc: 'Collect metrics (served at /metrics).', format: 'ib-boolean', default: true },
        interval: { doc: 'Seconds between two samples.', format: 'ib-seconds', default: 30 },
      },
      alerts: {
        doc: 'Either {enabled, thresholds: {error_rate, memory_usage, duration}} or a list of rules [{name, condition, action, recipients}].',
        format: 'ib-alerts',
        default: { enabled: false, thresholds: { ...DEFAULT_THRESHOLDS } },
      },
    },
    redis: {
      url: {
        doc: 'Redis holding the queues and checkpoints: redis://[user:password@]host:port/db, rediss:// for TLS.',
        format: 'ib-redis-url',
        default: 'redis://127.0.0.1:6379/0',
        env: 'REDIS_URL',
        // The URL may carry a password.
        sensitive: true,
      },
      prefix: { doc: 'Prefix of every Redis key.', format: 'ib-text', default: 'influx-backup' },
    },
    dashboard: {
      host: { doc: 'Address the dashboard listens on.', format: 'ib-host', default: '127.0.0.1' },
      port: { doc: 'Port the dashboard listens on.', format: 'ib-listen-port', default: 3000 },
      username: { doc: 'Basic-auth user of the dashboard.', format: 'ib-text', default: 'admin' },
      password: { doc: 'Basic-auth password of the dashboard.', format: 'ib-secret', default: '', sensitive: true },
    },
  };
}

interface SchemaNode {
  [key: string]: unknown;
}

/** A schema leaf is a node with a `default`; anything else is a section of leaves. */
export function isLeaf(node: unknown): node is { format: string; default: unknown; env?: string; sensitive?: boolean } {
  return typeof node === 'object' && node !== null && 'default' in node;
}

/** Writes each leaf's full key path into it, so the formats can report where they failed. */
export function withKeys<T extends object>(schema: T, prefix = ''): T {
  for (const [name, node] of Object.entries(schema as SchemaNode)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (isLeaf(node)) (node as { key?: string }).key = key;
    else if (typeof node === 'object' && node !== null) withKeys(node, key);
  }
  return schema;
}
