import { escapeFieldKey, formatFieldValue, quoteIdent, seriesKey, type FieldType } from '@influx-backup/influx';
import { fromClause } from './plan.js';
import type { BackupWriter, SourceReader } from './ports.js';

export interface CopyChunkInput {
  source: SourceReader;
  backup: BackupWriter;
  sourceDb: string;
  backupDb: string;
  measurement: string;
  field: string;
  type: FieldType;
  /** Read from and written into the policy of this name on each server; absent: each one's default. */
  retentionPolicy?: string | undefined;
  startNs: bigint;
  endNs: bigint;
  /** Lines per write request. */
  batchSize: number;
  /** Pause after each write, as the seed's `batch_interval`. */
  batchIntervalMs: number;
  /** Rows per piece of the source's streamed answer: what bounds memory. */
  pieceRows: number;
  /** Called after each acknowledged batch with the values written so far. */
  onProgress?: (valuesWritten: number) => void;
  signal?: AbortSignal;
}

export interface CopyChunkResult {
  values: number;
  batches: number;
  /** Time of the newest value copied, or null when the chunk held none. */
  lastTimeNs: bigint | null;
}

/** The InfluxQL that reads one field over one chunk, every tag set kept. */
export function selectFieldQuery(measurement: string, field: string, startNs: bigint, endNs: bigint, retentionPolicy?: string): string {
  return (
    `SELECT ${quoteIdent(field)}::field FROM ${fromClause(measurement, retentionPolicy)}` +
    ` WHERE time >= ${startNs} AND time <= ${endNs} GROUP BY *`
  );
}

/**
 * Copies one field of one measurement over one chunk: reads the source in pieces
 * of `pieceRows`, writes batches of `batchSize` lines, and resolves only after the
 * backup server acknowledged every batch. One write is in flight while the next
 * batch is read, so source and backup work at the same time.
 *
 * Writing a point twice leaves the backup the same, so a chunk may always be
 * copied again after a failure.
 */
export async function copyChunk(input: CopyChunkInput): Promise<CopyChunkResult> {
  const { source, backup, backupDb, batchSize, batchIntervalMs, signal } = input;
  if (!(batchSize >= 1)) throw new RangeError(`batchSize must be >= 1, got ${batchSize}`);
  const fieldPart = ` ${escapeFieldKey(input.field)}=`;
  const format = valueFormatter(input.type);
  const q = selectFieldQuery(input.measurement, input.field, input.startNs, input.endNs, input.retentionPolicy);

  let lines: string[] = [];
  let values = 0;
  let written = 0;
  let batches = 0;
  let lastTimeNs: bigint | null = null;
  let inflight: Promise<void> | undefined;
  let failure: unknown;

  const flush = async (): Promise<void> => {
    if (inflight) await inflight;
    if (failure) throw failure;
    if (lines.length === 0) return;
    const body = lines.join('');
    const n = lines.length;
    lines = [];
    inflight = backup.write(backupDb, body, input.retentionPolicy).then(
      async () => {
        written += n;
        batches++;
        input.onProgress?.(written);
        if (batchIntervalMs > 0) await new Promise((r) => setTimeout(r, batchIntervalMs));
      },
      (err: unknown) => {
        failure = err;
      },
    );
  };

  for await (const piece of source.select(q, input.sourceDb, input.pieceRows)) {
    signal?.throwIfAborted();
    const head = seriesKey(piece.name, piece.tags) + fieldPart;
    let last: string | number | undefined;
    for (const row of piece.values) {
      const value = row[1];
      if (value === null || value === undefined) continue;
      last = row[0] as string | number;
      lines.push(`${head}${format(value)} ${last}\n`);
      values++;
      if (lines.length >= batchSize) await flush();
    }
    if (last !== undefined) {
      // Pieces come series by series, each in time order: the newest value of the
      // chunk is the largest last time over all series.
      const t = BigInt(last);
      if (lastTimeNs === null || t > lastTimeNs) lastTimeNs = t;
    }
  }
  await flush();
  if (inflight) await inflight;
  if (failure) throw failure;
  return { values, batches, lastTimeNs };
}

function valueFormatter(type: FieldType): (value: unknown) => string {
  switch (type) {
    case 'float':
      return (v) => (typeof v === 'number' && !Object.is(v, -0) ? String(v) : formatFieldValue('float', v));
    case 'integer':
      return (v) => `${v as string | number}i`;
    default:
      return (v) => formatFieldValue(type, v);
  }
}
