import winston from 'winston';
import { DEFAULT_LOG_FORMAT, LOG_LEVEL_NAMES, maskText, normalizeLogLevel, type LogLevel } from '@influx-backup/config';
import type { Logger, LogMeta } from '@influx-backup/core';
import { renderMeta, renderPython } from './python-format.js';
import { RotatingFileTransport } from './rotating-file-transport.js';

/** The process's logger: a Logger that can be flushed and closed before exit. */
export interface RootLogger extends Logger {
  /** Flushes and closes the handlers. */
  close(): Promise<void>;
  /** Absolute path of the file being written, when the file handler is on. */
  readonly filename?: string;
  /**
   * This logger with its debug and info lines going to the log file only: for a command
   * that prints the same result on stdout, so a terminal shows it once.
   */
  quietConsole(): Logger;
}

/**
 * The `logging` section of the configuration (config's LoggingConfig fits). Its
 * defaults (level, format, file name, rotation) are the configuration's; here an
 * absent format is config's DEFAULT_LOG_FORMAT and absent rotation never rotates.
 */
export interface LoggerSettings {
  readonly level?: string;
  readonly format?: string;
  readonly handlers?: {
    readonly console?: { readonly enabled?: boolean; readonly level?: string };
    readonly file?: {
      readonly enabled?: boolean;
      readonly level?: string;
      /**
       * Needed when the handler is on; `{timestamp}` is replaced by the time the logger is created, e.g. 20261126-134500,
       * and `{role}` and `{pid}` by the process's (see CreateLoggerOptions.process).
       */
      readonly filename?: string;
      /** 0 or absent: never rotate. */
      readonly maxBytes?: number;
      readonly backupCount?: number;
    };
  };
}

export interface CreateLoggerOptions {
  /** %(name)s of the root logger's lines. */
  readonly component?: string;
  /** From --log-level/--verbose: replaces the logger's level and every handler's. */
  readonly levelOverride?: string;
  /** Where console lines go; standard error by default (standard output is for results). */
  readonly console?: NodeJS.WritableStream;
  /** Values replaced by ******** in every line, whatever the level (configSecrets of the configuration). */
  readonly secrets?: readonly string[];
  /**
   * The process the file is this one's own: a pattern without `{pid}` gets `.ROLE-PID` before its extension
   * (see expandFilename), so two processes started in the same second never write, nor rotate, one file.
   */
  readonly process?: LogProcess;
}

/** Who writes a log file: the role or command (worker, dashboard, plan, ...) and the process id. */
export interface LogProcess {
  readonly role: string;
  readonly pid: number;
}

// winston's own priorities (error 0 ... debug 5); the levels used are config's LogLevel.
const PRIORITY: Readonly<Record<string, number>> = winston.config.npm.levels;

const MESSAGE = Symbol.for('message');
const META = Symbol('influx-backup.meta');
const FILE_ONLY = Symbol('influx-backup.file-only');
const NAME_KEYS = ['component', 'measurement', 'field'];
const ROOT_NAME = 'influx-backup';

function level(text: string | undefined, fallback: LogLevel): LogLevel {
  if (text === undefined || text === '') return fallback;
  const found = normalizeLogLevel(text);
  if (found === undefined) throw new Error(`unknown log level ${JSON.stringify(text)} (use ${LOG_LEVEL_NAMES})`);
  return found;
}

/**
 * `backup_{timestamp}.log` → `backup_20261126-134500.log` (local time, as Python's strftime). With `proc`, the file is
 * the process's own: `{role}` and `{pid}` are replaced, and a pattern without `{pid}` gets `.ROLE-PID` before its
 * extension (`backup_20261126-134500.worker-4242.log`), since several processes of one installation start in the same
 * second, and each rotates only its own file (FILE.1 ... FILE.N of its own name).
 */
export function expandFilename(filename: string, now: Date = new Date(), proc?: LogProcess): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  let name = filename.split('{timestamp}').join(stamp);
  if (!proc) return name;
  const role = proc.role.replace(/[^A-Za-z0-9_-]/g, '_') || 'process';
  if (!name.includes('{pid}')) {
    const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
    const dot = name.lastIndexOf('.');
    const at = dot > slash + 1 ? dot : name.length;
    name = `${name.slice(0, at)}.${name.includes('{role}') ? '' : '{role}-'}{pid}${name.slice(at)}`;
  }
  return name.split('{role}').join(role).split('{pid}').join(String(proc.pid));
}

function recordName(meta: LogMeta): string {
  const parts = NAME_KEYS.map((k) => meta[k]).filter((v) => v !== undefined && v !== null && v !== '');
  if (meta.component === undefined || meta.component === '') parts.unshift(ROOT_NAME);
  return parts.map(String).join('.');
}

class WinstonLogger implements Logger {
  constructor(
    protected readonly winstonLogger: winston.Logger,
    protected readonly bindings: LogMeta,
    protected readonly quiet = false,
  ) {}

  private write(lvl: LogLevel, message: string, meta?: LogMeta): void {
    // A line no handler takes (a worker's per-chunk debug line at INFO) costs no formatting or stream work.
    if (!this.winstonLogger.isLevelEnabled(lvl)) return;
    const fileOnly = this.quiet && (lvl === 'info' || lvl === 'debug');
    const all = meta === undefined ? this.bindings : { ...this.bindings, ...meta };
    this.winstonLogger.log({ level: lvl, message, [META]: all, ...(fileOnly ? { [FILE_ONLY]: true } : {}) });
  }

  debug(message: string, meta?: LogMeta): void {
    this.write('debug', message, meta);
  }

  info(message: string, meta?: LogMeta): void {
    this.write('info', message, meta);
  }

  warn(message: string, meta?: LogMeta): void {
    this.write('warn', message, meta);
  }

  error(message: string, meta?: LogMeta): void {
    this.write('error', message, meta);
  }

  child(meta: LogMeta): Logger {
    return new WinstonLogger(this.winstonLogger, { ...this.bindings, ...meta }, this.quiet);
  }
}

class WinstonRootLogger extends WinstonLogger implements RootLogger {
  constructor(
    winstonLogger: winston.Logger,
    bindings: LogMeta,
    readonly filename: string | undefined,
  ) {
    super(winstonLogger, bindings);
  }

  quietConsole(): Logger {
    return new WinstonLogger(this.winstonLogger, this.bindings, true);
  }

  async close(): Promise<void> {
    const w = this.winstonLogger;
    await new Promise<void>((resolve) => {
      w.once('finish', () => resolve());
      w.end();
    });
    for (const t of w.transports) t.close?.();
  }
}

/**
 * One winston logger for the process, with the seed's console and size-rotated file
 * handlers, each with its own level, writing lines in the seed's Python format plus the
 * metadata as key=value. Every line is masked: no value in `secrets` is ever written.
 */
export function createLogger(settings: LoggerSettings = {}, options: CreateLoggerOptions = {}): RootLogger {
  const override = options.levelOverride === undefined ? undefined : level(options.levelOverride, 'info');
  const rootLevel = override ?? level(settings.level, 'info');
  const format = settings.format ?? DEFAULT_LOG_FORMAT;
  const secrets = [...(options.secrets ?? [])].filter((s) => s !== '').sort((a, b) => b.length - a.length);

  const render = winston.format((info) => {
    const meta = (info[META as unknown as string] ?? {}) as LogMeta;
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(meta)) if (!NAME_KEYS.includes(k)) rest[k] = v;
    const line = renderPython(format, {
      time: new Date(),
      level: info.level as LogLevel,
      name: recordName(meta),
      message: String(info.message),
    });
    (info as Record<symbol, unknown>)[MESSAGE] = maskText(line + renderMeta(rest), secrets);
    return info;
  });

  // winston lets a transport's own level replace the logger's; Python's handlers (and the
  // seed's users) expect the logger's level to filter first.
  const handlerLevel = (text: string | undefined): LogLevel => {
    if (override !== undefined) return override;
    const own = level(text, rootLevel);
    return (PRIORITY[own] ?? 0) < (PRIORITY[rootLevel] ?? 0) ? own : rootLevel;
  };

  const transports: winston.transport[] = [];
  const consoleSettings = settings.handlers?.console ?? {};
  if (consoleSettings.enabled ?? true) {
    transports.push(
      new winston.transports.Stream({
        stream: options.console ?? process.stderr,
        level: handlerLevel(consoleSettings.level),
        format: winston.format((info) => ((info as Record<symbol, unknown>)[FILE_ONLY] ? false : info))(),
        eol: '\n',
      }),
    );
  }
  let filename: string | undefined;
  const fileSettings = settings.handlers?.file ?? {};
  if (fileSettings.enabled ?? false) {
    if (!fileSettings.filename) throw new Error('logging.handlers.file.filename must be set when the file handler is enabled');
    filename = expandFilename(fileSettings.filename, new Date(), options.process);
    transports.push(
      new RotatingFileTransport({
        filename,
        level: handlerLevel(fileSettings.level),
        maxBytes: fileSettings.maxBytes ?? 0,
        backupCount: fileSettings.backupCount ?? 0,
      }),
    );
  }

  const winstonLogger = winston.createLogger({
    levels: PRIORITY,
    level: rootLevel,
    format: render(),
    transports,
    // With no handler winston would complain on stderr about every line.
    silent: transports.length === 0,
    exitOnError: false,
  });
  const bindings: LogMeta = options.component === undefined ? {} : { component: options.component };
  return new WinstonRootLogger(winstonLogger, bindings, filename);
}
