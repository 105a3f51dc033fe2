import { resolve } from 'node:path';
import { configSecrets, loadConfig, type BackupConfig } from '@influx-backup/config';
import { createLogger, type RootLogger } from '@influx-backup/logger';

/** The flags every program takes. */
export interface GlobalOptions {
  config: string;
  logLevel?: string;
  verbose?: boolean;
}

export const DEFAULT_CONFIG_FILE = 'config/backup_config.yaml';

/** What a program runs with: the validated configuration and the process's logger. */
export interface ProcessContext {
  readonly config: BackupConfig;
  readonly logger: RootLogger;
}

export interface LoadContextOptions {
  /** %(name)s of the logger's lines: the role or command. */
  component: string;
  /** Open the configured log file; commands that only read or print do not. On by default. */
  logFile?: boolean;
}

/**
 * Loads the configuration named by --config (with --log-level or --verbose as the
 * level override) and makes the process's logger, which masks every secret of it.
 * Throws ConfigError for a bad file, naming it.
 */
export function loadContext(opts: GlobalOptions, { component, logFile = true }: LoadContextOptions): ProcessContext {
  const levelOverride = opts.verbose ? 'debug' : opts.logLevel;
  const config = loadConfig({
    file: resolve(opts.config),
    cwd: process.cwd(),
    ...(levelOverride ? { overrides: { logLevel: levelOverride } } : {}),
  });
  const logging = logFile
    ? config.logging
    : { ...config.logging, handlers: { ...config.logging.handlers, file: { ...config.logging.handlers.file, enabled: false } } };
  const secrets = configSecrets(config);
  const logger = createLogger(logging, {
    component,
    ...(levelOverride ? { levelOverride } : {}),
    secrets,
    // The file is this process's own: the planner, the workers and the dashboard start in the same second.
    process: { role: component, pid: process.pid },
  });
  processSecrets = secrets;
  return { config, logger };
}

/**
 * The secrets of the configuration this process loaded: an error that reaches the
 * top (reportError) is masked with them, as every log line is. One configuration a
 * process, so one list.
 */
let processSecrets: readonly string[] = [];

export function loadedSecrets(): readonly string[] {
  return processSecrets;
}
