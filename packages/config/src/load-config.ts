import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import convict from 'convict';
import {
  got,
  invalid,
  isMapping,
  readBoolean,
  readDuration,
  readLogLevel,
  readMegabytes,
  readNumber,
  readString,
  unknownKeyReason,
} from './checks.js';
import { ConfigError } from './config-error.js';
import { at, formatPath, Issue, readEnvironment, substituteTree, type PathSegment } from './environment.js';
import { readHost, readLogFormat, readRedisUrl, readSecret, readTimezone, readVersion, recordIssues, registerFormats, STRUCTURED_FORMATS } from './formats.js';
import { LOG_LEVEL_NAMES } from './log-level.js';
import { backupSchema, isLeaf, withKeys, type RawConfig, type RawConnection } from './schema.js';
import { readAlerts, readJobs, readMeasurements } from './sections.js';
import { collectSecrets, maskText } from './secrets.js';
import type { BackupConfig, InfluxConnectionConfig, LogLevel } from './types.js';
import { YamlSource } from './yaml-source.js';

export interface LoadConfigOptions {
  /** The YAML file, relative to `cwd`. */
  file: string;
  /** Variables for `${VAR}` and the overrides; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where relative paths and the `.env` file are found; default process.cwd(). */
  cwd?: string;
  overrides?: {
    /** From `--log-level`/`--verbose`: the logger's level and every handler's. */
    logLevel?: string;
  };
}

type SchemaTree = Record<string, unknown>;

/**
 * Reads, checks and returns the configuration, deeply frozen. Every problem is a
 * ConfigError naming the file, the key path and, when it can, the line.
 */
export function loadConfig(options: LoadConfigOptions): BackupConfig {
  registerFormats();
  const cwd = resolve(options.cwd ?? process.cwd());
  const file = resolve(cwd, options.file);
  const source = YamlSource.parse(file, readConfigFile(file));
  const env = readEnvironment(options.env ?? process.env, cwd);
  const parsed = source.toJS();
  const secrets = collectSecrets(parsed, env);
  try {
    return deepFreeze(build(parsed, env, file, cwd, options.overrides ?? {}));
  } catch (err) {
    if (!(err instanceof Issue)) throw err;
    const line = err.variable === undefined ? source.lineOf(err.path) : undefined;
    const reason = err.variable === undefined ? err.message : `${err.message} (set by environment variable ${err.variable})`;
    throw new ConfigError(maskText(reason, secrets), {
      file,
      ...(err.path.length > 0 ? { key: formatPath(err.path) } : {}),
      ...(line === undefined ? {} : { line }),
    });
  }
}

function readConfigFile(file: string): string {
  try {
    if (statSync(file).isDirectory()) throw new ConfigError('is a directory, not a configuration file', { file });
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? String(err)})`;
    throw new ConfigError(`${reason}; pass an existing YAML file with --config`, { file });
  }
}

function build(
  parsed: unknown,
  env: Record<string, string>,
  file: string,
  cwd: string,
  overrides: NonNullable<LoadConfigOptions['overrides']>,
): BackupConfig {
  const raw = substituteTree(parsed ?? {}, env);
  if (!isMapping(raw)) throw invalid(`the file must be a YAML mapping of sections (logging, databases, ...), ${got(raw)}`);
  const schema = withKeys(backupSchema()) as SchemaTree;
  const structured = checkShape(raw, schema, []);
  const convictEnv = overrideVariables(schema, env);
  const conf = convict<RawConfig>(schema as convict.Schema<RawConfig>, { env: convictEnv, args: [] });
  conf.load(raw);
  for (const [key, value] of structured) conf.set(key, value);

  const issues: Issue[] = [];
  let failure: unknown;
  recordIssues({ issues, env: convictEnv }, () => {
    try {
      conf.validate({ allowed: 'strict' });
    } catch (err) {
      failure = err;
    }
  });
  // convict checks keys breadth-first; report the first problem in the file's order instead.
  const order = leafOrder(schema);
  const rank = (issue: Issue): number => {
    for (let n = issue.path.length; n > 0; n--) {
      const index = order.get(issue.path.slice(0, n).join('.'));
      if (index !== undefined) return index;
    }
    return order.size;
  };
  const first = [...issues].sort((a, b) => rank(a) - rank(b))[0];
  if (first !== undefined) throw first;
  if (failure !== undefined) throw convictFailure(failure);
  return toBackupConfig(conf.getProperties(), file, cwd, overrides);
}

/**
 * Checks the file's keys and shapes against the schema before convict merges them (convict
 * would silently mis-merge a mapping given for a value). Empty values (YAML null) are
 * removed, so they mean "the default". Returns the list-valued keys, which are set whole.
 */
function checkShape(raw: Record<string, unknown>, schema: SchemaTree, path: PathSegment[]): [string, unknown][] {
  const structured: [string, unknown][] = [];
  for (const [key, value] of Object.entries(raw)) {
    const node = schema[key];
    const here = [...path, key];
    if (!Object.hasOwn(schema, key) || node === undefined) throw new Issue(here, unknownKeyReason(key, Object.keys(schema)));
    if (value === null) {
      delete raw[key];
    } else if (isLeaf(node)) {
      if (STRUCTURED_FORMATS.has(node.format)) {
        structured.push([here.join('.'), value]);
        delete raw[key];
      } else if (Array.isArray(value) || isMapping(value)) {
        throw invalid(`must be a single value, ${got(value)}`, here);
      }
    } else if (!isMapping(value)) {
      throw invalid(`must be a mapping of ${Object.keys(node as SchemaTree).join(', ')}, ${got(value)}`, here);
    } else {
      structured.push(...checkShape(value, node as SchemaTree, here));
    }
  }
  return structured;
}

/** Each leaf's key path and its position in the schema, depth first. */
function leafOrder(schema: SchemaTree, prefix = '', out = new Map<string, number>()): Map<string, number> {
  for (const [name, node] of Object.entries(schema)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (isLeaf(node)) out.set(key, out.size);
    else if (isMapping(node)) leafOrder(node, key, out);
  }
  return out;
}

/**
 * The variables convict reads overrides from. An empty variable (`MAX_WORKERS=` in a
 * compose file) means "not set", except for passwords, where empty is a value.
 */
function overrideVariables(schema: SchemaTree, env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  const visit = (node: SchemaTree): void => {
    for (const child of Object.values(node)) {
      if (isLeaf(child)) {
        if (child.env !== undefined && out[child.env] === '' && child.sensitive !== true) delete out[child.env];
      } else if (isMapping(child)) {
        visit(child);
      }
    }
  };
  visit(schema);
  return out;
}

/** convict's own errors (all formats here record Issues first), turned into an Issue. */
function convictFailure(err: unknown): Issue {
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  const param = /configuration param '([^']+)'/.exec(first);
  if (param?.[1] !== undefined) {
    const path = param[1].split('.');
    return new Issue(path, first.includes('not declared') ? 'unknown key' : 'must be a mapping');
  }
  // Never the rest of the line: it may quote the value.
  const key = first.split(': ')[0] ?? '';
  return new Issue(key === '' ? [] : key.split('.'), 'invalid value');
}

function connectionConfig(
  raw: RawConnection,
  side: 'source' | 'backup',
  cwd: string,
  defaultDatabase: string | undefined,
): InfluxConnectionConfig {
  const path = ['databases', side];
  const username = readString(raw.username, { allowEmpty: true });
  const password = readSecret(raw.password);
  const database = readString(raw.database ?? '', { allowEmpty: true }) || defaultDatabase;
  if (database === undefined || database === '') throw invalid('is required', [...path, 'database']);
  let caFile: string | undefined;
  if (raw.ca_file !== '') {
    caFile = resolve(cwd, raw.ca_file);
    if (!existsSync(caFile)) throw invalid(`file not found: ${caFile}`, [...path, 'ca_file']);
  }
  return {
    host: at([...path, 'host'], () => readHost(raw.host)),
    port: readNumber(raw.port, { integer: true }),
    ...(username === '' ? {} : { username }),
    ...(password === '' ? {} : { password }),
    database,
    ssl: readBoolean(raw.ssl),
    verifySsl: readBoolean(raw.verify_ssl),
    ...(caFile === undefined ? {} : { caFile }),
    timeoutMs: Math.round(readNumber(raw.timeout) * 1000),
    retries: readNumber(raw.retries, { integer: true }),
  };
}

function toBackupConfig(
  raw: RawConfig,
  file: string,
  cwd: string,
  overrides: NonNullable<LoadConfigOptions['overrides']>,
): BackupConfig {
  let level = readLogLevel(raw.logging.level);
  let overrideLevel: LogLevel | undefined;
  if (overrides.logLevel !== undefined) {
    try {
      overrideLevel = readLogLevel(overrides.logLevel);
    } catch {
      throw invalid(`--log-level must be one of ${LOG_LEVEL_NAMES}, ${got(overrides.logLevel)}`, ['logging', 'level']);
    }
    level = overrideLevel;
  }
  const handlerLevel = (value: string | null): LogLevel => overrideLevel ?? (value === null ? level : readLogLevel(value));
  const { console: consoleHandler, file: fileHandler } = raw.logging.handlers;

  const source = connectionConfig(raw.databases.source, 'source', cwd, undefined);
  const backup = connectionConfig(raw.databases.backup, 'backup', cwd, `${source.database}_backup`);
  if (backup.host === source.host && backup.port === source.port && backup.database === source.database) {
    throw invalid(
      `is the source database on the same server (${source.host}:${source.port}); the backup must go elsewhere`,
      ['databases', 'backup', 'database'],
    );
  }

  const sizeMs = readDuration(raw.backup.time_chunks.size);
  const overlapMs = readDuration(raw.backup.time_chunks.overlap);
  if (sizeMs <= 0) throw invalid('must be longer than 0', ['backup', 'time_chunks', 'size']);
  if (overlapMs >= sizeMs) {
    throw invalid(`must be shorter than time_chunks.size (${raw.backup.time_chunks.size})`, ['backup', 'time_chunks', 'overlap']);
  }

  const dashboardPassword = readSecret(raw.dashboard.password);
  return {
    file,
    version: readVersion(raw.version),
    appName: readString(raw.app_name),
    logging: {
      level,
      format: readLogFormat(raw.logging.format),
      handlers: {
        console: { enabled: readBoolean(consoleHandler.enabled), level: handlerLevel(consoleHandler.level) },
        file: {
          enabled: readBoolean(fileHandler.enabled),
          level: handlerLevel(fileHandler.level),
          filename: resolve(cwd, fileHandler.filename),
          maxBytes: readNumber(fileHandler.max_bytes, { integer: true }),
          backupCount: readNumber(fileHandler.backup_count, { integer: true }),
        },
      },
    },
    databases: { source, backup },
    processing: {
      maxWorkers: readNumber(raw.processing.max_workers, { integer: true }),
      batchSize: readNumber(raw.processing.batch_size, { integer: true }),
      batchIntervalMs: Math.round(readNumber(raw.processing.batch_interval) * 1000),
      workerMemoryLimitMb: readMegabytes(raw.processing.worker_memory_limit),
      operationTimeoutMs: Math.round(readNumber(raw.processing.operation_timeout) * 1000),
    },
    backup: {
      measurements: at(['backup', 'measurements'], () => readMeasurements(raw.backup.measurements)),
      timeChunks: { sizeMs, overlapMs, maxValues: readNumber(raw.backup.time_chunks.max_values, { integer: true }) },
      retry: {
        maxAttempts: readNumber(raw.backup.retry.max_attempts, { integer: true }),
        backoffFactor: readNumber(raw.backup.retry.backoff_factor),
        maxBackoffMs: Math.round(readNumber(raw.backup.retry.max_backoff) * 1000),
      },
    },
    scheduler: {
      enabled: readBoolean(raw.scheduler.enabled),
      timezone: readTimezone(raw.scheduler.timezone),
      jobs: at(['scheduler', 'jobs'], () => readJobs(raw.scheduler.jobs)),
    },
    monitoring: {
      metrics: {
        enabled: readBoolean(raw.monitoring.metrics.enabled),
        intervalMs: Math.round(readNumber(raw.monitoring.metrics.interval) * 1000),
      },
      alerts: at(['monitoring', 'alerts'], () => readAlerts(raw.monitoring.alerts)),
    },
    redis: { url: readRedisUrl(raw.redis.url), prefix: readString(raw.redis.prefix) },
    dashboard: {
      host: readHost(raw.dashboard.host),
      port: readNumber(raw.dashboard.port, { integer: true }),
      username: readString(raw.dashboard.username),
      ...(dashboardPassword === '' ? {} : { password: dashboardPassword }),
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
