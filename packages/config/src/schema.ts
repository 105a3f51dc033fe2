// The configuration, written once: every key of the seed's YAML format plus `redis` and
// `dashboard`, with its reader, default, environment variable and doc. The typed result
// and its TypeScript types (types.ts) are derived from it, and so are the convict schema
// and the printed view. Adding a key is one entry here.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  got,
  invalid,
  readBoolean,
  readDuration,
  readHost,
  readLogFormat,
  readLogLevel,
  readMegabytes,
  readNumber,
  readRedisUrl,
  readSecret,
  readString,
  readStringList,
  readTime,
  readTimezone,
} from './checks.js';
import { checkCronFields, CRON_FIELDS, type CronField, type CronFieldValue } from './cron.js';
import { formatDuration } from './duration.js';
import { DEFAULT_FILE_HANDLER, DEFAULT_LOG_FORMAT, LOG_LEVEL_NAMES, PYTHON_LEVEL_NAMES, type LogLevel } from './logging.js';
import { parseTime } from './time.js';
import { leaf, list, optional, readSection, section, showSection, type Format, type Leaf } from './nodes.js';

// Formats: how each kind of value is read, and printed when that is not the value itself.

const text: Format<string> = { read: (v) => readString(v) };
const anyText: Format<string> = { read: (v) => readString(v, { allowEmpty: true }) };
const secret: Format<string> = { read: readSecret };
const boolean: Format<boolean> = { read: readBoolean };
const count: Format<number> = { read: (v) => readNumber(v, { integer: true, min: 1 }) };
const natural: Format<number> = { read: (v) => readNumber(v, { integer: true, min: 0 }) };
const port: Format<number> = { read: (v) => readNumber(v, { integer: true, min: 1, max: 65535 }) };
const fraction: Format<number> = { read: (v) => readNumber(v, { min: 0, max: 1 }) };
const host: Format<string> = { read: readHost };
/** Seconds in the file, milliseconds in the typed value. */
const seconds = (min: { above: number } | { min: number }): Format<number> => ({
  read: (v) => Math.round(readNumber(v, { min: 0, ...min }) * 1000),
  show: (ms) => ms / 1000,
});
const duration: Format<number> = { read: readDuration, show: formatDuration };
const level: Format<LogLevel> = { read: readLogLevel, show: (l) => PYTHON_LEVEL_NAMES[l] };
/** A file name relative to the working directory, made absolute. */
const path: Format<string> = { read: (v, ctx) => resolve(ctx.cwd, readString(v)) };
const stringList: Format<readonly string[]> = { read: readStringList };

function connection<D extends Leaf<string>>(side: 'SOURCE' | 'BACKUP', database: D) {
  const which = side === 'SOURCE' ? 'source (the server backed up)' : 'backup (the server written to)';
  return section({
    host: leaf(host, { doc: `Host name or address of the ${which} InfluxDB 1.x server.`, env: `INFLUX_${side}_HOST` }),
    port: leaf(port, { doc: 'HTTP port.', default: 8086, env: `INFLUX_${side}_PORT` }),
    username: optional(anyText, {
      doc: 'User name; empty for a server without authentication.',
      default: '',
      env: `INFLUX_${side}_USER`,
    }),
    password: optional(secret, {
      doc: 'Password; use "${VARIABLE}" rather than writing it in the file.',
      default: '',
      env: `INFLUX_${side}_PASS`,
      sensitive: true,
    }),
    database,
    ssl: leaf(boolean, { doc: 'Use HTTPS.', default: false }),
    verifySsl: leaf(boolean, { doc: "Verify the server's TLS certificate.", default: true }),
    caFile: optional(
      {
        read(v, ctx) {
          const file = resolve(ctx.cwd, readString(v));
          if (!existsSync(file)) throw invalid(`file not found: ${file}`);
          return file;
        },
      },
      { doc: 'PEM file of CA certificates to verify the server with (relative to the working directory); empty for the system CAs.', default: '' },
    ),
    timeoutMs: leaf(seconds({ above: 0 }), { doc: 'Timeout of one HTTP request, in seconds.', default: 30 }),
    retries: leaf(natural, { doc: 'Retries of a failed request that may succeed on another try.', default: 3 }),
  });
}

const handlerLevel = optional(level, { doc: 'Level of this handler; empty means logging.level.' });

const logging = section(
  {
    level: leaf(level, {
      doc: `Lowest level logged: ${LOG_LEVEL_NAMES}.`,
      default: 'INFO',
      env: 'LOG_LEVEL',
    }),
    format: leaf(
      { read: readLogFormat },
      { doc: 'Python logging format: %(asctime)s %(name)s %(levelname)s %(message)s (metadata follows as key=value).', default: DEFAULT_LOG_FORMAT },
    ),
    handlers: section({
      console: section({ enabled: leaf(boolean, { doc: 'Log to standard error.', default: true }), level: handlerLevel }),
      file: section({
        enabled: leaf(boolean, { doc: 'Log to a file that rotates by size.', default: DEFAULT_FILE_HANDLER.enabled }),
        level: handlerLevel,
        filename: leaf(path, {
          doc: 'Log file, relative to the working directory; {timestamp} becomes the start time (20261126-134500).',
          default: DEFAULT_FILE_HANDLER.filename,
        }),
        maxBytes: leaf(natural, { doc: 'Rotate when the file would grow past this size; 0 never rotates.', default: DEFAULT_FILE_HANDLER.maxBytes }),
        backupCount: leaf(natural, { doc: 'Rotated files kept (FILE.1 ... FILE.N); 0 never rotates.', default: DEFAULT_FILE_HANDLER.backupCount }),
      }),
    }),
  },
  ({ handlers, ...rest }, ctx) => {
    // --log-level sets the logger's level and every handler's; a handler's own level defaults to the logger's.
    const level = ctx.logLevel ?? rest.level;
    const own = <H extends { readonly level?: LogLevel }>(h: H): H & { readonly level: LogLevel } => ({ ...h, level: ctx.logLevel ?? h.level ?? level });
    return { ...rest, level, handlers: { console: own(handlers.console), file: own(handlers.file) } };
  },
);

const databases = section(
  {
    source: connection('SOURCE', leaf(text, { doc: 'Database to back up.', env: 'INFLUX_SOURCE_DB' })),
    backup: connection(
      'BACKUP',
      optional(text, {
        doc: 'Database to write to (created when missing); empty means the source database followed by "_backup".',
        default: '',
        env: 'INFLUX_BACKUP_DB',
      }),
    ),
  },
  ({ source, backup }) => {
    const database = backup.database ?? `${source.database}_backup`;
    if (backup.host === source.host && backup.port === source.port && database === source.database) {
      const reason = `is the source database on the same server (${source.host}:${source.port}); the backup must go elsewhere`;
      throw invalid(reason, ['backup', 'database']);
    }
    return { source, backup: { ...backup, database } };
  },
);

const processing = section({
  maxWorkers: leaf(count, { doc: 'Jobs copied at once by one process.', default: 4, env: 'MAX_WORKERS' }),
  batchSize: leaf(count, { doc: 'Points per write to the backup server.', default: 1000, env: 'BATCH_SIZE' }),
  batchIntervalMs: leaf(seconds({ min: 0 }), { doc: 'Pause between two batches, in seconds.', default: 0.1 }),
  workerMemoryLimitMb: leaf(
    { read: readMegabytes },
    { doc: 'Memory one job may buffer, in megabytes (256, "256MB", "1GB").', default: 256, env: 'MEMORY_LIMIT' },
  ),
  operationTimeoutMs: leaf(seconds({ above: 0 }), { doc: 'Longest time one job may run, in seconds.', default: 300, env: 'OPERATION_TIMEOUT' }),
});

const measurement = section(
  {
    name: leaf(text),
    fields: optional({
      read(v) {
        const fields = readStringList(v);
        if (fields.length === 0) throw invalid('is empty; leave "fields" out to back up every field');
        return fields;
      },
    }),
    startTime: leaf({ read: readTime }),
    endTime: optional({ read: readTime }),
  },
  (m) => {
    if (m.endTime !== undefined && parseTime(m.endTime) < parseTime(m.startTime)) {
      throw invalid(`${m.endTime} is before start_time ${m.startTime}`, ['end_time']);
    }
    return m;
  },
);

const timeChunks = section(
  {
    sizeMs: leaf(duration, { doc: 'Length of the time range of one job: 30s, 5m, 1h, 6h, 1d, 1w.', default: '1h' }),
    overlapMs: leaf(duration, { doc: "How far before a field's checkpoint an incremental run starts again; less than size.", default: '1m' }),
  },
  (chunks) => {
    if (chunks.sizeMs <= 0) throw invalid('must be longer than 0', ['size']);
    if (chunks.overlapMs >= chunks.sizeMs) {
      throw invalid(`must be shorter than time_chunks.size (${formatDuration(chunks.sizeMs)})`, ['overlap']);
    }
    return chunks;
  },
);

const backup = section({
  measurements: leaf(
    list(measurement, 'measurement', {
      empty: 'needs at least one measurement to back up',
      unique: ['name', (name, first) => `measurement ${JSON.stringify(name)} is already listed at [${first}]; list its fields once`],
    }),
    {
      doc: 'Measurements to back up: [{name, fields (omit for every field), start_time, end_time (omit for now)}].',
      default: [],
    },
  ),
  timeChunks,
  retry: section({
    maxAttempts: leaf(count, { doc: 'Attempts of a job before it fails for good.', default: 3 }),
    backoffFactor: leaf({ read: (v) => readNumber(v, { min: 1 }) }, { doc: 'Each retry waits this many times longer than the last.', default: 2 }),
    maxBackoffMs: leaf(seconds({ above: 0 }), { doc: 'Longest wait between two attempts, in seconds.', default: 60 }),
  }),
});

const cronValue: Format<CronFieldValue> = {
  read(v) {
    if (typeof v === 'number' || typeof v === 'string') return v;
    throw invalid(`must be a number or a cron expression such as "*/5", "1-5" or "sun", ${got(v)}`);
  },
};
const cronFields = Object.fromEntries(CRON_FIELDS.map((field) => [field, optional(cronValue)])) as {
  readonly [F in CronField]: Leaf<CronFieldValue, true>;
};

const job = section(
  {
    id: leaf({
      read(v) {
        const id = readString(v);
        // The id names a BullMQ job scheduler, and BullMQ ids must not hold ':'.
        if (id.includes(':')) throw invalid(`must not contain ":", ${got(id)}`);
        return id;
      },
    }),
    trigger: leaf(
      {
        read(v): 'cron' {
          if (v !== 'cron') throw invalid(`only "cron" triggers are supported, ${got(v)}`);
          return v;
        },
      },
      { default: 'cron' },
    ),
    enabled: leaf(boolean, { default: true }),
    /** A full pass (ignore the checkpoints); by default when the id says so ("weekly_full_backup"). */
    full: optional(boolean),
    ...cronFields,
  },
  ({ full, ...rest }) => {
    checkCronFields(rest);
    return { ...rest, full: full ?? /full/i.test(rest.id) };
  },
);

const scheduler = section({
  enabled: leaf(boolean, { doc: 'Run the cron jobs below in the planner.', default: false }),
  timezone: leaf({ read: readTimezone }, { doc: 'IANA time zone of the cron fields.', default: 'UTC' }),
  jobs: leaf(list(job, 'job', { unique: ['id', (id, first) => `id ${JSON.stringify(id)} is already used at [${first}]`] }), {
    doc: 'APScheduler-style cron jobs: [{id, trigger: cron, enabled, full, year, month, day, week, day_of_week, hour, minute, second}].',
    default: [],
  }),
});

/** The metrics a rule's condition may test: the seed's three. duration is in seconds. */
export const ALERT_METRICS = ['error_rate', 'memory_usage', 'duration'] as const;
export type AlertOperator = '>' | '>=' | '<' | '<=' | '==' | '!=';

const condition = {
  read(v: unknown): { condition: string; metric: string; operator: AlertOperator; value: number } {
    const condition = readString(v);
    const m = /^\s*([a-z_]+)\s*(>=|<=|==|!=|>|<)\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*$/.exec(condition);
    if (m === null) throw invalid(`must read "<metric> <operator> <number>", e.g. "error_rate > 0.05", ${got(condition)}`);
    const [, metric = '', operator, number] = m;
    if (!(ALERT_METRICS as readonly string[]).includes(metric)) {
      throw invalid(`unknown metric ${JSON.stringify(metric)} (known: ${ALERT_METRICS.join(', ')})`);
    }
    return { condition, metric, operator: operator as AlertOperator, value: Number(number) };
  },
};

const rule = section(
  { name: leaf(text), condition: leaf(condition), action: leaf(text), recipients: optional(stringList) },
  // The rule keeps the condition as written under `condition`, which is what prints.
  ({ condition, ...rule }) => {
    if (rule.action === 'email' && (rule.recipients === undefined || rule.recipients.length === 0)) {
      throw invalid('an "email" action needs recipients', ['recipients']);
    }
    return { ...rule, ...condition };
  },
);
const rules = list(rule, 'alert rule', { unique: ['name', (name) => `rule ${JSON.stringify(name)} is defined twice`] });

const thresholds = section(
  {
    enabled: leaf(boolean, { default: false }),
    thresholds: section({
      errorRate: leaf(fraction, { doc: 'Fraction of failed jobs, 0..1.', default: 0.05 }),
      memoryUsage: leaf(fraction, { doc: 'Fraction of the worker memory limit, 0..1.', default: 0.8 }),
      durationMs: leaf(seconds({ above: 0 }), { doc: 'Seconds a run may take.', default: 3600 }),
    }),
  },
  (alerts) => ({ kind: 'thresholds' as const, ...alerts }),
);

type Alerts = ReturnType<typeof thresholds.finish> | { readonly kind: 'rules'; readonly rules: ReturnType<typeof rules.read> };

/** The seed's two forms: `{enabled, thresholds}` or a list of rules `[{name, condition, action, recipients}]`. */
const alerts: Format<Alerts> = {
  read(v, ctx) {
    if (Array.isArray(v)) return { kind: 'rules', rules: rules.read(v, ctx) };
    if (v !== null && v !== undefined && (typeof v !== 'object' || v instanceof Date)) {
      throw invalid(`must be a mapping {enabled, thresholds} or a list of rules {name, condition, action}, ${got(v)}`);
    }
    return readSection(thresholds, v, ctx);
  },
  show: (a, secrets) => (a.kind === 'rules' ? rules.show?.(a.rules, secrets) : showSection(thresholds, a, secrets)),
};

const monitoring = section({
  metrics: section({
    enabled: leaf(boolean, { doc: 'Collect metrics (served at /metrics).', default: true }),
    intervalMs: leaf(seconds({ above: 0 }), { doc: 'Seconds between two samples.', default: 30 }),
  }),
  alerts: leaf(alerts, {
    doc: 'Either {enabled, thresholds: {error_rate, memory_usage, duration}} or a list of rules [{name, condition, action, recipients}].',
  }),
});

const redis = section({
  url: leaf(
    { read: readRedisUrl },
    {
      doc: 'Redis holding the queues and checkpoints: redis://[user:password@]host:port/db, rediss:// for TLS.',
      default: 'redis://127.0.0.1:6379/0',
      env: 'REDIS_URL',
      // The URL may carry a password.
      sensitive: true,
    },
  ),
  prefix: leaf(text, { doc: 'Prefix of every Redis key.', default: 'influx-backup' }),
});

const dashboard = section({
  host: leaf(host, { doc: 'Address the dashboard listens on.', default: '127.0.0.1' }),
  port: leaf({ read: (v) => readNumber(v, { integer: true, min: 0, max: 65535 }) }, { doc: 'Port the dashboard listens on.', default: 3000 }),
  username: leaf(text, { doc: 'Basic-auth user of the dashboard.', default: 'admin' }),
  password: optional(secret, { doc: 'Basic-auth password of the dashboard.', default: '', sensitive: true }),
});

export const configSchema = section({
  version: leaf(
    { read: (v) => (typeof v === 'number' ? String(v) : readString(v)) },
    { doc: 'Version of this file format.', default: '1.0' },
  ),
  appName: leaf(text, { doc: 'Name shown in logs and on the dashboard.', default: 'influx-backup' }),
  logging,
  databases,
  processing,
  backup,
  scheduler,
  monitoring,
  redis,
  dashboard,
});
