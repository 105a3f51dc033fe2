import type { LogLevel } from './types.js';

// The seed's Python level names and winston's own, both case-insensitive.
const LEVELS: Readonly<Record<string, LogLevel>> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  // winston has nothing above error; CRITICAL messages are errors.
  critical: 'error',
};

export const LOG_LEVEL_NAMES = 'DEBUG, INFO, WARNING, ERROR, CRITICAL (or debug, info, warn, error)';

/** winston's name for a level given in the seed's or winston's spelling; undefined if unknown. */
export function normalizeLogLevel(text: string): LogLevel | undefined {
  return Object.hasOwn(LEVELS, text.toLowerCase()) ? LEVELS[text.toLowerCase()] : undefined;
}
