export { ConfigError, type ConfigErrorLocation } from './config-error.js';
export { loadConfig, type LoadConfigOptions } from './load-config.js';
export { parseDuration, formatDuration } from './duration.js';
export { parseTime, formatTimeNs, INFLUX_MIN_TIME_NS, INFLUX_MAX_TIME_NS } from './time.js';
export {
  normalizeLogLevel,
  LOG_LEVEL_NAMES,
  PYTHON_LEVEL_NAMES,
  DEFAULT_LOG_FORMAT,
  LOG_FORMAT_ATTRIBUTES,
  DEFAULT_FILE_HANDLER,
} from './logging.js';
export { cronPattern } from './cron.js';
export { configSecrets, maskSecrets, printableConfig } from './printable.js';
export { MASK, maskText } from './secrets.js';
export { didYouMean } from './issues.js';
export type * from './types.js';
