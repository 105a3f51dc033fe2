export {
  createLogger,
  expandFilename,
  silentLogger,
  type CreateLoggerOptions,
  type Logger,
  type LoggerSettings,
  type LogMeta,
  type RootLogger,
} from './logger.js';
export { maskLine } from './mask.js';
export { RotatingFileTransport, type RotatingFileOptions } from './rotating-file-transport.js';
