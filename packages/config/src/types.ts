// The typed, camelCase view of the configuration that the rest of the code receives.
// Every object returned by loadConfig() is deeply frozen; the interfaces say so with readonly.

/** winston's level names; the seed's DEBUG/INFO/WARNING/ERROR/CRITICAL are normalised to these. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface ConsoleHandlerConfig {
  readonly enabled: boolean;
  /** The handler's own threshold; when the file does not set one, it is `logging.level`. */
  readonly level: LogLevel;
}

export interface FileHandlerConfig {
  readonly enabled: boolean;
  readonly level: LogLevel;
  /** Absolute path; `{timestamp}` in it is replaced when the logger opens the file. */
  readonly filename: string;
  readonly maxBytes: number;
  readonly backupCount: number;
}

export interface LoggingConfig {
  /** The logger's threshold: nothing below it reaches any handler. */
  readonly level: LogLevel;
  /** Python logging format string: %(asctime)s, %(name)s, %(levelname)s, %(message)s, ... */
  readonly format: string;
  readonly handlers: {
    readonly console: ConsoleHandlerConfig;
    readonly file: FileHandlerConfig;
  };
}

export interface InfluxConnectionConfig {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly database: string;
  readonly ssl: boolean;
  readonly verifySsl: boolean;
  /** Absolute path of a PEM CA bundle used to verify the server's certificate. */
  readonly caFile?: string;
  readonly timeoutMs: number;
  readonly retries: number;
}

export interface DatabasesConfig {
  readonly source: InfluxConnectionConfig;
  readonly backup: InfluxConnectionConfig;
}

export interface ProcessingConfig {
  readonly maxWorkers: number;
  readonly batchSize: number;
  readonly batchIntervalMs: number;
  readonly workerMemoryLimitMb: number;
  readonly operationTimeoutMs: number;
}

export interface MeasurementConfig {
  readonly name: string;
  /** Undefined means every field the measurement has. */
  readonly fields?: readonly string[];
  /** RFC 3339 in UTC, normalised (e.g. 2023-01-01T00:00:00Z); parseTime() gives nanoseconds. */
  readonly startTime: string;
  /** Inclusive; undefined means "now" when the job is planned. */
  readonly endTime?: string;
}

export interface TimeChunksConfig {
  readonly sizeMs: number;
  readonly overlapMs: number;
  /** Merge neighbouring grid chunks while the merged chunk holds at most this many values; 1: no merging. */
  readonly maxValues: number;
}

export interface RetryConfig {
  readonly maxAttempts: number;
  readonly backoffFactor: number;
  readonly maxBackoffMs: number;
}

export interface BackupSectionConfig {
  readonly measurements: readonly MeasurementConfig[];
  readonly timeChunks: TimeChunksConfig;
  readonly retry: RetryConfig;
}

/** One APScheduler-style cron field: a number or an expression such as "sun", "*\/5", "1-5". */
export type CronFieldValue = string | number;

export interface CronFields {
  readonly year?: CronFieldValue;
  readonly month?: CronFieldValue;
  readonly day?: CronFieldValue;
  readonly week?: CronFieldValue;
  readonly dayOfWeek?: CronFieldValue;
  readonly hour?: CronFieldValue;
  readonly minute?: CronFieldValue;
  readonly second?: CronFieldValue;
}

export interface SchedulerJobConfig extends CronFields {
  readonly id: string;
  readonly trigger: 'cron';
  readonly enabled: boolean;
  /**
   * A full pass (ignore the checkpoints, copy the whole configured range) instead of an
   * incremental one. Defaults to true when the job's id contains "full", false otherwise.
   */
  readonly full: boolean;
}

export interface SchedulerConfig {
  readonly enabled: boolean;
  /** IANA time zone the cron fields are read in. */
  readonly timezone: string;
  readonly jobs: readonly SchedulerJobConfig[];
}

export interface MetricsConfig {
  readonly enabled: boolean;
  readonly intervalMs: number;
}

export interface AlertThresholdsConfig {
  /** Fraction of failed jobs, 0..1. */
  readonly errorRate: number;
  /** Fraction of the worker memory limit, 0..1. */
  readonly memoryUsage: number;
  readonly durationMs: number;
}

/** The seed's `alerts: {enabled, thresholds}` form. */
export interface ThresholdAlertsConfig {
  readonly kind: 'thresholds';
  readonly enabled: boolean;
  readonly thresholds: AlertThresholdsConfig;
}

export type AlertOperator = '>' | '>=' | '<' | '<=' | '==' | '!=';

export interface AlertRuleConfig {
  readonly name: string;
  /** As written, e.g. "error_rate > 0.05". */
  readonly condition: string;
  /** The condition, parsed: metric, operator and value (duration in seconds, rates as 0..1). */
  readonly metric: string;
  readonly operator: AlertOperator;
  readonly value: number;
  readonly action: string;
  readonly recipients?: readonly string[];
}

/** The seed's list form: `alerts: [{name, condition, action, recipients}]`. */
export interface RuleAlertsConfig {
  readonly kind: 'rules';
  readonly rules: readonly AlertRuleConfig[];
}

export type AlertsConfig = ThresholdAlertsConfig | RuleAlertsConfig;

export interface MonitoringConfig {
  readonly metrics: MetricsConfig;
  readonly alerts: AlertsConfig;
}

export interface RedisConfig {
  /** redis:// or rediss:// (TLS); may hold a password, which is a secret. */
  readonly url: string;
  readonly prefix: string;
}

export interface DashboardConfig {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password?: string;
}

export interface BackupConfig {
  /** Absolute path of the file this configuration was read from. */
  readonly file: string;
  readonly version: string;
  readonly appName: string;
  readonly logging: LoggingConfig;
  readonly databases: DatabasesConfig;
  readonly processing: ProcessingConfig;
  readonly backup: BackupSectionConfig;
  readonly scheduler: SchedulerConfig;
  readonly monitoring: MonitoringConfig;
  readonly redis: RedisConfig;
  readonly dashboard: DashboardConfig;
}
