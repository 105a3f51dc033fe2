import { escapeFieldKey, formatFieldValue, quoteIdent, seriesKey, type FieldType } from '@influx-backup/influx';
import { fromClause } from './counts.js';
import type { BackupWriter, SourceReader } from './ports.js';

/** One field of a chunk job: its name and the type the source stores it as. */
export interface CopyField {
  field: string;
  type: FieldType;
}

export interface CopyChunkInput {
  source: SourceReader;
  backup: BackupWriter;
  sourceDb: string;
  backupDb: string;
  measurement: string;
  /** The fields copied, all read with one query (processing.fields_per_job); at least one, no name twice. */
  fields: readonly CopyField[];
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
  /** Called after each acknowledged batch with the values written so far; `more`: false for the chunk's last batch. */
  onProgress?: (valuesWritten: number, more: boolean) => void;
  signal?: AbortSignal;
}

export interface CopyChunkResult {
  /** Values written, over all fields. */
  values: number;
  batches: number;
  /** Time of the newest value copied, over all fields, or null when the chunk held none. */
  lastTimeNs: bigint | null;
  /** Per field, in the order given: values written and the time of its newest one (null: none). */
  fields: { values: number; lastTimeNs: bigint | null }[];
}

/** The InfluxQL that reads one field over one chunk, every tag set kept. */
export function selectFieldQuery(measurement: string, field: string, startNs: bigint, endNs: bigint, retentionPolicy?: string): string {
  return selectFieldsQuery(measurement, [field], startNs, endNs, retentionPolicy);
}

/** The InfluxQL that reads several fields of one measurement over one chunk with one query, every tag set kept. */
export function selectFieldsQuery(
  measurement: string,
  fields: readonly string[],
  startNs: bigint,
  endNs: bigint,
  retentionPolicy?: string,
): string {
  return (
    `SELECT ${fields.map((f) => `${quoteIdent(f)}::field`).join(', ')} FROM ${fromClause(measurement, retentionPolicy)}` +
    ` WHERE time >= ${startNs} AND time <= ${endNs} GROUP BY *`
  );
}

/**
 * Copies some fields of one measurement over one chunk: reads the source in
 * pieces of `pieceRows` with one query for all of them, writes one line per row
 * holding that row's non-null fields (a null is never written as a value) in
 * batches of `batchSize` lines, and resolves only after the backup server
 * acknowledged every batch. One write is in flight while the next batch is
 * read, so source and backup work at the same time.
 *
 * Writing a point twice leaves the backup the same, so a chunk may always be
 * copied again after a failure.
 */
export async function copyChunk(input: CopyChunkInput): Promise<CopyChunkResult> {
  const { source, backup, backupDb, batchSize, batchIntervalMs, signal } = input;
  if (!(batchSize >= 1)) throw new RangeError(`batchSize must be >= 1, got ${batchSize}`);
  const n = input.fields.length;
  if (n === 0) throw new RangeError('copyChunk needs at least one field');
  if (new Set(input.fields.map((f) => f.field)).size !== n) throw new RangeError('copyChunk got a field twice');
  const keys = input.fields.map((f) => `${escapeFieldKey(f.field)}=`);
  const formats = input.fields.map((f) => valueFormatter(f.type));
  const q = selectFieldsQuery(
    input.measurement,
    input.fields.map((f) => f.field),
    input.startNs,
    input.endNs,
    input.retentionPolicy,
  );
  const perField = input.fields.map(() => ({ values: 0, lastTimeNs: null as bigint | null }));

  let lines: string[] = [];
  let values = 0;
  let written = 0;
  let batches = 0;
  let inflight: Promise<void> | undefined;
  let failure: Error | undefined;

  const flush = async (more = true): Promise<void> => {
    if (inflight) await inflight;
    if (failure) throw failure;
    if (lines.length === 0) return;
    const body = lines.join('');
    const count = linesValues;
    lines = [];
    linesValues = 0;
    inflight = backup.write(backupDb, body, input.retentionPolicy).then(
      async () => {
        written += count;
        batches++;
        input.onProgress?.(written, more);
        if (batchIntervalMs > 0) await new Promise((r) => setTimeout(r, batchIntervalMs));
      },
      (err: unknown) => {
        failure = err instanceof Error ? err : new Error(String(err));
      },
    );
  };
  let linesValues = 0;

  const last: (string | number | undefined)[] = new Array<undefined>(n);
  for await (const piece of source.select(q, input.sourceDb, input.pieceRows)) {
    signal?.throwIfAborted();
    const head = `${seriesKey(piece.name, piece.tags)} `;
    last.fill(undefined);
    for (const row of piece.values) {
      let line = head;
      let held = 0;
      for (let j = 0; j < n; j++) {
        const value = row[j + 1];
        if (value === null || value === undefined) continue;
        line += held === 0 ? keys[j]! + formats[j]!(value) : `,${keys[j]!}${formats[j]!(value)}`;
        held++;
        perField[j]!.values++;
        last[j] = row[0] as string | number;
      }
      if (held === 0) continue;
      lines.push(`${line} ${row[0] as string | number}\n`);
      values += held;
      linesValues += held;
      if (lines.length >= batchSize) await flush();
    }
    // Pieces come series by series, each in time order: a field's newest value
    // in the chunk is the largest last time over all series.
    for (let j = 0; j < n; j++) {
      if (last[j] === undefined) continue;
      const t = BigInt(last[j]!);
      const f = perField[j]!;
      if (f.lastTimeNs === null || t > f.lastTimeNs) f.lastTimeNs = t;
    }
  }
  await flush(false);
  if (inflight) await inflight;
  if (failure) throw failure;
  let lastTimeNs: bigint | null = null;
  for (const f of perField) if (f.lastTimeNs !== null && (lastTimeNs === null || f.lastTimeNs > lastTimeNs)) lastTimeNs = f.lastTimeNs;
  return { values, batches, lastTimeNs, fields: perField };
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
