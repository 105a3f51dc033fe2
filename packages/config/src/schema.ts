// The configuration, written once: every key of the seed's YAML format plus `redis` and `dashboard`, with its
// format, default, environment variable and doc. The typed result and its types (types.ts), the convict schema
// and the printed view all come from here. A YAML key is its property in snake_case, without a unit suffix the
// typed value carries (timeoutMs is `timeout`). Adding a key is one entry.

import { checkCronFields, CRON_FIELDS, type CronField, type CronFieldValue } from './cron.js';
import { formatDuration } from './duration.js';
import * as f from './formats.js';
import { didYouMean, fail, got, invalid, isMapping } from './issues.js';
import type { PathSegment } from './environment.js';
import { DEFAULT_FILE_HANDLER, DEFAULT_LOG_FORMAT, LOG_LEVEL_NAMES, type LogLevel } from './logging.js';
import {
  leaf,
  list,
  optional,
  optionalSection,
  readSection,
  section,
  showSection,
  type Fields,
  type Format,
  type Leaf,
  type TypeOf,
} from './nodes.js';
import { parseTime } from './time.js';

const port = f.number({ integer: true, min: 1, max: 65535 });
const fraction = f.number({ min: 0, max: 1 });
const positiveSeconds = f.seconds({ above: 0 });

/** The keys of a connection to an InfluxDB server; `side` names the variables that override them (the seed's two). */
function connection<E extends Fields>(side: 'SOURCE' | 'BACKUP' | undefined, extra: E) {
  const env = (key: string): { env?: string } => (side ? { env: `INFLUX_${side}_${key}` } : {});
  const what = side ? `the ${side.toLowerCase()}` : 'this source';
  return {
    host: leaf(f.host, { doc: `Host of ${what} InfluxDB 1.x server.`, ...env('HOST') }),
    port: leaf(port, { doc: 'HTTP port.', default: 8086, ...env('PORT') }),
    username: optional(f.anyText, { doc: 'Empty without authentication.', default: '', ...env('USER') }),
    password: optional(f.secret, { doc: 'Write "${VARIABLE}".', default: '', ...env('PASS'), sensitive: true }),
    ssl: leaf(f.boolean, { doc: 'Use HTTPS.', default: false }),
    verifySsl: leaf(f.boolean, { doc: "Verify the server's TLS certificate.", default: true }),
    caFile: optional(f.path(true), { doc: 'PEM file of the CAs to verify with; empty: the system CAs.', default: '' }),
    timeoutMs: leaf(positiveSeconds, { doc: 'Timeout of one HTTP request, in seconds.', default: 30 }),
    retries: leaf(f.natural, { doc: 'Retries of a request that may pass on another try.', default: 3 }),
    ...extra,
  };
}

const handlerLevel = optional(f.level, { doc: 'Level of this handler; empty means logging.level.' });

const logging = section(
  {
    level: leaf(f.level, { doc: `Lowest level logged: ${LOG_LEVEL_NAMES}.`, default: 'INFO', env: 'LOG_LEVEL' }),
    format: leaf(f.logFormat, { doc: 'Python logging format; metadata follows as key=value.', default: DEFAULT_LOG_FORMAT }),
    handlers: section({
      console: section({ enabled: leaf(f.boolean, { doc: 'Log to standard error.', default: true }), level: handlerLevel }),
      file: section({
        enabled: leaf(f.boolean, { doc: 'Log to a file that rotates by size.', default: DEFAULT_FILE_HANDLER.enabled }),
        level: handlerLevel,
        filename: leaf(f.path(), { doc: '{timestamp} becomes the start time.', default: DEFAULT_FILE_HANDLER.filename }),
        maxBytes: leaf(f.natural, { doc: 'Size that makes it rotate; 0: never.', default: DEFAULT_FILE_HANDLER.maxBytes }),
        backupCount: leaf(f.natural, { doc: 'Rotated files kept.', default: DEFAULT_FILE_HANDLER.backupCount }),
      }),
    }),
  },
  ({ handlers, ...logging }, ctx) => {
    // --log-level sets the logger's level and every handler's; a handler's own level defaults to the logger's.
    const level = ctx.logLevel ?? logging.level;
    const own = <H extends { readonly level?: LogLevel }>(h: H) => ({ ...h, level: ctx.logLevel ?? h.level ?? level });
    return { ...logging, level, handlers: { console: own(handlers.console), file: own(handlers.file) } };
  },
);

const retention: Format<'source' | 'infinite'> = {
  read: (v) => (v === 'source' || v === 'infinite' ? v : fail(`must be "source" or "infinite" (keep everything), ${got(v)}`)),
};
const fieldsPerJob: Format<number | 'all'> = { read: (v, ctx) => (v === 'all' ? v : f.count.read(v, ctx)) };

const retentionPolicies = optional(f.stringList, { doc: 'Retention policies to copy; none: every policy of the database.' });
const sourceDatabase = leaf(f.text, { doc: 'Database to back up.', env: 'INFLUX_SOURCE_DB' });
const measurement = section(
  {
    name: leaf(f.text),
    fields: optional(f.stringList),
    startTime: leaf(f.time),
    endTime: optional(f.time),
  },
  (m) => {
    if (m.fields?.length === 0) throw invalid('is empty; leave "fields" out to back up every field', ['fields']);
    if (m.endTime !== undefined && parseTime(m.endTime) < parseTime(m.startTime)) {
      throw invalid(`${m.endTime} is before start_time ${m.startTime}`, ['end_time']);
    }
    return m;
  },
);
const measurements = list(measurement, 'measurement', {
  unique: ['name', (name, i) => `measurement ${JSON.stringify(name)} is already listed at [${i}]; list its fields once`],
});
const listed = section({
  name: leaf(f.checked((name) => /[\s:]/.test(name) && fail(`must not hold spaces or ":", ${got(name)}`))),
  ...connection(undefined, { database: leaf(f.text), retentionPolicies }),
  backupDatabase: optional(f.text, { doc: 'Its database on the backup server; empty: database + "_backup".' }),
  measurements: optional(measurements, { doc: 'Its measurements; none: backup.measurements.' }),
  scheduleIds: optional(f.stringList, { doc: 'The scheduler.jobs that plan it; none: every one.' }),
});
const databases = section(
  {
    // The seed's single source; left out when neither its host nor its database is given (in the file or a variable).
    source: optionalSection(
      connection('SOURCE', { database: sourceDatabase, retentionPolicies }),
      (s) => s.host != null || s.database != null,
      (s) => s,
    ),
    sources: optional(
      list(listed, 'source', {
        empty: 'is empty',
        unique: ['name', (name, i) => `name ${JSON.stringify(name)} is already the name of databases.sources[${i}]`],
      }),
      { doc: 'Several sources: [{name, host, port, username, password, database, backup_database, measurements, schedule_ids, ...}].' },
    ),
    backup: section(
      connection('BACKUP', {
        database: optional(f.text, { doc: 'Created if missing; empty: source + "_backup".', default: '', env: 'INFLUX_BACKUP_DB' }),
        retention: leaf(retention, { doc: 'Durations of the policies created: "source" or "infinite".', default: 'source' }),
      }),
    ),
  },
  ({ source, sources, backup }) => {
    if (source && sources)
      throw invalid('and databases.source are both given (databases.source also by INFLUX_SOURCE_HOST or INFLUX_SOURCE_DB): use one', [
        'sources',
      ]);
    if (!source && !sources)
      throw invalid('is required (in the file or as INFLUX_SOURCE_HOST), or list databases.sources', ['source', 'host']);
    if (sources && backup.database)
      throw invalid('is for databases.source only (also by INFLUX_BACKUP_DB); give each of databases.sources its backup_database', [
        'backup',
        'database',
      ]);
    const database = source ? (backup.database ?? `${source.database}_backup`) : '';
    return { ...(source ? { source } : {}), ...(sources ? { sources } : {}), backup: { ...backup, database } };
  },
);

const processing = section({
  maxWorkers: leaf(f.count, { doc: 'Jobs copied at once by one process.', default: 4, env: 'MAX_WORKERS' }),
  batchSize: leaf(f.count, { doc: 'Points per write to the backup server.', default: 1000, env: 'BATCH_SIZE' }),
  batchIntervalMs: leaf(f.seconds({ min: 0 }), { doc: 'Pause between two batches, in seconds.', default: 0.1 }),
  workerMemoryLimitMb: leaf(f.megabytes, { doc: 'Memory a job may buffer: 256, "1GB".', default: 256, env: 'MEMORY_LIMIT' }),
  operationTimeoutMs: leaf(positiveSeconds, { doc: 'Longest run of a job (s).', default: 300, env: 'OPERATION_TIMEOUT' }),
  fieldsPerJob: leaf(fieldsPerJob, { doc: 'Fields of a measurement one job reads with one query: 1 up, or "all".', default: 1 }),
});

const backup = section({
  measurements: leaf(measurements, {
    doc: 'Measurements to back up: [{name, fields (none: all), start_time, end_time (none: now)}].',
    default: [],
  }),
  timeChunks: section(
    {
      sizeMs: leaf(f.duration, { doc: 'Length of the time range of one job: 30s, 5m, 1h, 6h, 1d, 1w.', default: '1h' }),
      overlapMs: leaf(f.duration, { doc: "How far before a field's checkpoint an incremental run starts.", default: '1m' }),
      maxValues: leaf(f.count, { doc: 'Neighbouring chunks merge up to this many values of a field; 1: never.', default: 100_000 }),
    },
    (chunks) => {
      if (chunks.sizeMs <= 0) throw invalid('must be longer than 0', ['size']);
      if (chunks.overlapMs >= chunks.sizeMs) {
        throw invalid(`must be shorter than time_chunks.size (${formatDuration(chunks.sizeMs)})`, ['overlap']);
      }
      return chunks;
    },
  ),
  retry: section({
    maxAttempts: leaf(f.count, { doc: 'Attempts of a job before it fails for good.', default: 3 }),
    backoffFactor: leaf(f.number({ min: 1 }), { doc: 'Each wait is this many times the last one.', default: 2 }),
    maxBackoffMs: leaf(positiveSeconds, { doc: 'Longest wait between two attempts, in seconds.', default: 60 }),
  }),
});

const CRON_VALUE = 'must be a number or a cron expression such as "*/5", "1-5" or "sun"';
const cronValue: Format<CronFieldValue> = {
  read: (v) => (typeof v === 'number' || typeof v === 'string' ? v : fail(`${CRON_VALUE}, ${got(v)}`)),
};
const cronFields = Object.fromEntries(CRON_FIELDS.map((field) => [field, optional(cronValue)]));

const job = section(
  {
    // The id names a BullMQ job scheduler, and BullMQ ids must not hold ':'.
    id: leaf(f.checked((id) => id.includes(':') && fail(`must not contain ":", ${got(id)}`))),
    trigger: leaf<'cron'>({ read: (v) => (v === 'cron' ? v : fail(`only "cron" triggers are supported, ${got(v)}`)) }, { default: 'cron' }),
    enabled: leaf(f.boolean, { default: true }),
    /** A full pass (ignore the checkpoints); by default when the id says so ("weekly_full_backup"). */
    full: optional(f.boolean),
    ...(cronFields as Record<CronField, Leaf<CronFieldValue, true>>),
  },
  ({ full, ...job }) => {
    checkCronFields(job);
    return { ...job, full: full ?? /full/i.test(job.id) };
  },
);

const scheduler = section({
  enabled: leaf(f.boolean, { doc: 'Run the cron jobs below in the planner.', default: false }),
  timezone: leaf(f.timezone, { doc: 'IANA time zone of the cron fields.', default: 'UTC' }),
  jobs: leaf(list(job, 'job', { unique: ['id', (id, i) => `id ${JSON.stringify(id)} is already used at [${i}]`] }), {
    doc: 'APScheduler cron jobs: [{id, trigger: cron, enabled, full, year, month, day, week, day_of_week, hour, ...}].',
    default: [],
  }),
});

/** The metrics a rule's condition may test: the seed's three (duration in seconds), then the metrics block's. */
export const ALERT_METRICS = [
  'error_rate',
  'memory_usage',
  'duration',
  'retry_count',
  'success_rate',
  'queue_size',
  'records_per_second',
] as const;
export const ALERT_ACTIONS = ['email', 'notification', 'reduce_workers', 'log'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];
export type AlertOperator = '>' | '>=' | '<' | '<=' | '==' | '!=';
const CONDITION = /^\s*([a-z_]+)\s*(>=|<=|==|!=|>|<)\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*$/;

const rule = section(
  {
    name: leaf(f.text),
    condition: leaf({
      read(value, ctx) {
        const condition = f.text.read(value, ctx);
        const [, metric = '', operator, number] = CONDITION.exec(condition) ?? [];
        if (operator === undefined) {
          throw invalid(`must read "<metric> <operator> <number>", e.g. "error_rate > 0.05", ${got(condition)}`);
        }
        if (!(ALERT_METRICS as readonly string[]).includes(metric)) {
          throw invalid(`unknown metric ${JSON.stringify(metric)} (known: ${ALERT_METRICS.join(', ')})`);
        }
        return { condition, metric, operator: operator as AlertOperator, value: Number(number) };
      },
    }),
    action: leaf<AlertAction>({
      read: (v) =>
        ALERT_ACTIONS.includes(v as AlertAction) ? (v as AlertAction) : fail(`must be one of ${ALERT_ACTIONS.join(', ')}, ${got(v)}`),
    }),
    recipients: optional(f.stringList),
  },
  // The rule keeps the condition as written under `condition`, which is what prints.
  ({ condition, ...rule }) => {
    if (rule.action === 'email' && !rule.recipients?.length) throw invalid('an "email" action needs recipients', ['recipients']);
    return { ...rule, ...condition };
  },
);
const rules = list(rule, 'alert rule', { unique: ['name', (name) => `rule ${JSON.stringify(name)} is defined twice`] });

const thresholds = section(
  {
    enabled: leaf(f.boolean, { default: false }),
    thresholds: section({
      errorRate: leaf(fraction, { doc: 'Fraction of failed jobs.', default: 0.05 }),
      memoryUsage: leaf(fraction, { doc: 'Fraction of the worker memory limit.', default: 0.8 }),
      durationMs: leaf(positiveSeconds, { doc: 'Seconds a run may take.', default: 3600 }),
    }),
  },
  (alerts) => ({ kind: 'thresholds' as const, ...alerts }),
);

type Alerts = TypeOf<typeof thresholds> | { readonly kind: 'rules'; readonly rules: readonly TypeOf<typeof rule>[] };

/** The seed's two forms: `{enabled, thresholds}` or a list of rules `[{name, condition, action, recipients}]`. */
const alerts: Format<Alerts> = {
  read(value, ctx) {
    if (Array.isArray(value)) return { kind: 'rules', rules: rules.read(value, ctx) };
    if (value === null || value === undefined || isMapping(value)) return readSection(thresholds, value, ctx);
    throw invalid(`must be a mapping {enabled, thresholds} or a list of rules {name, condition, action}, ${got(value)}`);
  },
  show: (a, secrets) => (a.kind === 'rules' ? rules.show?.(a.rules, secrets) : showSection(thresholds, a, secrets)),
};

export const configSchema = section(
  {
    version: leaf<string>(
      { read: (v, ctx) => (typeof v === 'number' ? String(v) : f.text.read(v, ctx)) },
      { doc: 'Version of this file format.', default: '1.0' },
    ),
    appName: leaf(f.text, { doc: 'Name shown in logs and on the dashboard.', default: 'influx-backup' }),
    logging,
    databases,
    processing,
    backup,
    scheduler,
    monitoring: section({
      metrics: section({
        enabled: leaf(f.boolean, { doc: 'Collect metrics (served at /metrics).', default: true }),
        intervalMs: leaf(positiveSeconds, { doc: 'Seconds between two samples (and alert checks).', default: 30 }),
      }),
      alerts: leaf(alerts, { doc: 'Either {enabled, thresholds: {error_rate, memory_usage, duration}} or a list of rules.' }),
      notify: section({
        webhookUrl: optional(f.webhookUrl, { doc: 'JSON POST of each alert; masked, as it often holds a token.', sensitive: true }),
        email: section({
          host: optional(f.host, { doc: 'SMTP server; empty: no e-mail.' }),
          port: leaf(port, { doc: 'SMTP port.', default: 587 }),
          secure: leaf(f.boolean, { doc: 'TLS from the start (port 465); false: STARTTLS when offered.', default: false }),
          username: optional(f.anyText, { doc: 'Empty without authentication.', default: '' }),
          password: optional(f.secret, { doc: 'Write "${VARIABLE}".', default: '', env: 'SMTP_PASSWORD', sensitive: true }),
          from: leaf(f.text, { doc: 'Sender address.', default: 'influx-backup@localhost' }),
          to: optional(f.stringList, { doc: 'Recipients of the thresholds form; rules name their own.' }),
        }),
      }),
    }),
    redis: section({
      // The URL may carry a password.
      url: leaf(f.redisUrl, {
        doc: 'Redis of the queues and checkpoints: redis://[user:password@]host:port/db, rediss:// for TLS.',
        default: 'redis://127.0.0.1:6379/0',
        env: 'REDIS_URL',
        sensitive: true,
      }),
      prefix: leaf(f.text, { doc: 'Prefix of every Redis key.', default: 'influx-backup' }),
    }),
    dashboard: section({
      host: leaf(f.host, { doc: 'Address the dashboard listens on.', default: '127.0.0.1' }),
      port: leaf(f.number({ integer: true, min: 0, max: 65535 }), { doc: 'Port the dashboard listens on.', default: 3000 }),
      username: leaf(f.text, { doc: 'Basic-auth user of the dashboard.', default: 'admin' }),
      password: optional(f.secret, { doc: 'Basic-auth password of the dashboard.', default: '', sensitive: true }),
    }),
  },
  (c) => ({ ...c, sources: resolveSources(c) }),
);

type Source = NonNullable<TypeOf<typeof databases>['source']>;
/** One source, whichever form gave it: its name, connection, database, backup database and measurements in full. */
export type SourceConfig = Omit<Source, 'database'> & {
  readonly name: string;
  readonly database: string;
  readonly backupDatabase: string;
  readonly measurements: readonly TypeOf<typeof measurement>[];
  readonly scheduleIds?: readonly string[];
  /** From databases.sources (its name is in job names and run ids), not the seed's single databases.source. */
  readonly listed: boolean;
};

/**
 * Every source with its defaults filled in. The single form is one source named after its database. Two sources
 * must not write into one backup database, nor read one database of one server (their checkpoints would be one).
 */
function resolveSources(c: {
  databases: TypeOf<typeof databases>;
  backup: TypeOf<typeof backup>;
  scheduler: TypeOf<typeof scheduler>;
}): SourceConfig[] {
  const { source, sources = [], backup: target } = c.databases;
  const all: SourceConfig[] = source
    ? [{ ...source, name: source.database, backupDatabase: target.database, measurements: c.backup.measurements, listed: false }]
    : sources.map(({ backupDatabase, measurements, ...s }) => ({
        ...s,
        backupDatabase: backupDatabase ?? `${s.database}_backup`,
        measurements: measurements ?? c.backup.measurements,
        listed: true,
      }));
  const at = (i: number, key: string): PathSegment[] =>
    source ? (key === 'measurements' ? ['backup', key] : ['databases', 'backup', 'database']) : ['databases', 'sources', i, key];
  const named = (s: SourceConfig, i: number): string => `databases.sources[${i}] (${JSON.stringify(s.name)})`;
  const ids = c.scheduler.jobs.map((j) => j.id);
  all.forEach((s, i) => {
    if (s.measurements.length === 0)
      throw invalid(
        source ? 'needs at least one measurement to back up' : 'none here nor in backup.measurements: list what to back up',
        at(i, 'measurements'),
      );
    if (target.host === s.host && target.port === s.port && s.backupDatabase === s.database) {
      throw invalid(
        `is the source database on the same server (${s.host}:${s.port}); the backup must go elsewhere`,
        at(i, 'backup_database'),
      );
    }
    const unknown = s.scheduleIds?.find((id) => !ids.includes(id));
    if (unknown !== undefined)
      throw invalid(`${JSON.stringify(unknown)} is no id of scheduler.jobs${didYouMean(unknown, ids)}`, at(i, 'schedule_ids'));
    all.slice(0, i).forEach((o, j) => {
      if (o.backupDatabase === s.backupDatabase) {
        throw invalid(
          `${JSON.stringify(s.backupDatabase)} is also the backup database of ${named(o, j)}: ${named(o, j)} and ${named(s, i)} need one each`,
          at(i, 'backup_database'),
        );
      }
      if (o.host === s.host && o.port === s.port && o.database === s.database) {
        throw invalid(
          `${named(o, j)} and ${named(s, i)} both read ${JSON.stringify(s.database)} on ${s.host}:${s.port}; list its measurements under one source`,
          at(i, 'database'),
        );
      }
    });
  });
  return all;
}
