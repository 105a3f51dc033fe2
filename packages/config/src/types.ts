// The typed, camelCase configuration the rest of the code receives, named by parts of what the
// schema reads. Every object returned by loadConfig() is deeply frozen, hence readonly.

import type { TypeOf } from './nodes.js';
import type { configSchema } from './schema.js';

export type { LogLevel } from './logging.js';
export type { CronFields, CronFieldValue } from './cron.js';
export type { SourceConfig } from './schema.js';
export type { AlertOperator } from './alerts.js';

export type BackupConfig = TypeOf<typeof configSchema> & {
  /** Absolute path of the file this configuration was read from. */
  readonly file: string;
};

export type LoggingConfig = BackupConfig['logging'];
export type ConsoleHandlerConfig = LoggingConfig['handlers']['console'];
export type FileHandlerConfig = LoggingConfig['handlers']['file'];
export type DatabasesConfig = BackupConfig['databases'];
export type InfluxConnectionConfig = DatabasesConfig['backup'];
export type ProcessingConfig = BackupConfig['processing'];
export type BackupSectionConfig = BackupConfig['backup'];
/** `fields` undefined means every field; times are RFC 3339 in UTC, normalised; no `endTime` means now. */
export type MeasurementConfig = BackupSectionConfig['measurements'][number];
export type TimeChunksConfig = BackupSectionConfig['timeChunks'];
export type RetryConfig = BackupSectionConfig['retry'];
export type SchedulerConfig = BackupConfig['scheduler'];
export type SchedulerJobConfig = SchedulerConfig['jobs'][number];
export type MonitoringConfig = BackupConfig['monitoring'];
export type MetricsConfig = MonitoringConfig['metrics'];
export type AlertsConfig = MonitoringConfig['alerts'];
export type NotifyConfig = MonitoringConfig['notify'];
export type ThresholdAlertsConfig = Extract<AlertsConfig, { kind: 'thresholds' }>;
export type AlertThresholdsConfig = ThresholdAlertsConfig['thresholds'];
export type RuleAlertsConfig = Extract<AlertsConfig, { kind: 'rules' }>;
export type AlertRuleConfig = RuleAlertsConfig['rules'][number];
export type RedisConfig = BackupConfig['redis'];
export type DashboardConfig = BackupConfig['dashboard'];
