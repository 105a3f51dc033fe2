import type { FieldType, SeriesPiece } from '@influx-backup/influx';

/** What the engine needs of a source server. InfluxClient implements it. */
export interface SourceReader {
  readonly endpoint: string;
  select(q: string, db: string, chunkSize: number): AsyncIterable<SeriesPiece>;
  query(q: string, db?: string): Promise<SeriesPiece[][]>;
  fieldKeys(db: string, measurement: string, retentionPolicy?: string): Promise<{ field: string; type: FieldType }[]>;
}

/** What the engine needs of a backup server. InfluxClient implements it. */
export interface BackupWriter {
  readonly endpoint: string;
  write(db: string, body: string, retentionPolicy?: string): Promise<void>;
}

export type LogMeta = Readonly<Record<string, unknown>>;

/**
 * The one logger interface of the code base: the engine, the queue, the runtime and
 * the dashboard take it; `@influx-backup/logger` implements it with winston. It lives
 * here because the engine must not know winston.
 */
export interface Logger {
  debug(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
  /** A logger that adds `meta` to every line; component, measurement and field make up %(name)s. */
  child(meta: LogMeta): Logger;
}

/** A Logger that drops everything, for code and tests that need one. */
export const silentLogger: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
});
