// The one home of the log level names and the Python logging format, for the configuration
// and for the logger.

/** winston's level names; the seed's DEBUG/INFO/WARNING/ERROR/CRITICAL are normalised to these. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export const LOG_LEVEL_NAMES = 'DEBUG, INFO, WARNING, ERROR, CRITICAL (or debug, info, warn, error)';

/** The Python name of each level, as the effective configuration and %(levelname)s write it. */
export const PYTHON_LEVEL_NAMES = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' } as const;

/** winston's name for a level given in the seed's or winston's spelling (any case); undefined if unknown. */
export function normalizeLogLevel(text: string): LogLevel | undefined {
  const name = text.toLowerCase();
  // winston has nothing above error; CRITICAL messages are errors.
  if (name === 'warning' || name === 'critical') return name === 'warning' ? 'warn' : 'error';
  return Object.hasOwn(PYTHON_LEVEL_NAMES, name) ? (name as LogLevel) : undefined;
}

/** The seed's format: Python logging's %(attribute)s placeholders. */
export const DEFAULT_LOG_FORMAT = '%(asctime)s - %(name)s - %(levelname)s - %(message)s';

/** The attributes of Python's logging format that the logger renders. */
export const LOG_FORMAT_ATTRIBUTES = ['asctime', 'created', 'levelname', 'levelno', 'message', 'msecs', 'name', 'process'];

/** Python's RotatingFileHandler as the seed configures it; {timestamp} becomes the start time. */
export const DEFAULT_FILE_HANDLER = {
  enabled: false,
  filename: 'logs/backup_{timestamp}.log',
  maxBytes: 10_485_760,
  backupCount: 5,
} as const;
