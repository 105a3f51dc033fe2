export { ConfigError, type ConfigErrorLocation } from './config-error.js';
export { loadConfig, type LoadConfigOptions } from './load-config.js';
export { parseDuration, formatDuration } from './duration.js';
export { parseTime, formatTimeNs, INFLUX_MIN_TIME_NS, INFLUX_MAX_TIME_NS } from './time.js';
export { normalizeLogLevel } from './log-level.js';
export { cronPattern } from './cron.js';
export { printableConfig } from './printable.js';
export { maskSecrets, maskText, configSecrets } from './secrets.js';
export type * from './types.js';
