export { createLogger, expandFilename, type CreateLoggerOptions, type LogProcess, type LoggerSettings, type RootLogger } from './logger.js';
export { RotatingFileTransport, type RotatingFileOptions } from './rotating-file-transport.js';
