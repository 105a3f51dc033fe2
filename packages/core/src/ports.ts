import type { FieldType, SeriesPiece } from '@influx-backup/influx';

/** What the engine needs of a source server. InfluxClient implements it. */
export interface SourceReader {
  readonly endpoint: string;
  select(q: string, db: string, chunkSize: number): AsyncIterable<SeriesPiece>;
  query(q: string, db?: string): Promise<SeriesPiece[][]>;
  fieldKeys(db: string, measurement: string): Promise<{ field: string; type: FieldType }[]>;
}

/** What the engine needs of a backup server. InfluxClient implements it. */
export interface BackupWriter {
  readonly endpoint: string;
  write(db: string, body: string): Promise<void>;
}

/** A logger shape the engine can use without knowing winston. */
export interface EngineLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export const silentLogger: EngineLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
