import { quoteIdent, seriesKey, type FieldType } from '@influx-backup/influx';
import { selectFieldQuery } from './copy.js';
import { fromClause } from './counts.js';
import { planFieldChunks, type FieldTarget } from './plan.js';
import type { SourceReader } from './ports.js';

/** One value that differs: in the source only (missing), in the backup only (extra), or on both with another value. */
export interface ValueDifference {
  /** The series as line protocol heads it: `weather,region=eu`. */
  series: string;
  timeNs: bigint;
  kind: 'missing' | 'extra' | 'changed';
  source?: string;
  backup?: string;
}

/** Neighbouring differences: those of neighbouring chunks, with no chunk of equal values between them. */
export interface DifferenceRange {
  /** The first and the last difference's time: a backfill over [startNs, endNs] repairs what is missing or changed. */
  startNs: bigint;
  endNs: bigint;
  missing: number;
  extra: number;
  changed: number;
  /** The first few. */
  examples: ValueDifference[];
}

export interface VerifyResult {
  measurement: string;
  field: string;
  type: FieldType;
  source: number;
  backup: number;
  /** The field's types in the backup when they are not just the source's (a type conflict); empty otherwise. */
  backupTypes: FieldType[];
  /** Deep: values that differ or are missing on one side; otherwise |source - backup|. One more for a type conflict. */
  differences: number;
  /** Deep only: the differences grouped into ranges of time. */
  ranges: DifferenceRange[];
}

async function countField(reader: SourceReader, db: string, t: FieldTarget, startNs: bigint, endNs: bigint): Promise<number> {
  const q = `SELECT COUNT(${quoteIdent(t.field)}::field) FROM ${fromClause(t.measurement, t.retentionPolicy)} WHERE time >= ${startNs} AND time <= ${endNs}`;
  const [series = []] = await reader.query(q, db);
  let n = 0;
  for (const s of series) for (const row of s.values) n += Number(row[1] ?? 0);
  return n;
}

/** The backup's types of the field, when they are not the source's alone (a type conflict); empty otherwise. */
export async function backupTypeConflict(backup: SourceReader, db: string, t: FieldTarget): Promise<FieldType[]> {
  const types = (await backup.fieldKeys(db, t.measurement, t.retentionPolicy)).filter((k) => k.field === t.field).map((k) => k.type);
  return types.length > 1 || (types.length === 1 && types[0] !== t.type) ? types : [];
}

/** What one chunk's values differ by: values in the source only, in the backup only, and on both with another value. */
export interface ChunkDifferences {
  missing: number;
  extra: number;
  changed: number;
}

/**
 * Compares one field's values over one chunk on both servers, value by value: both
 * answers come ordered by series and time, so they are walked side by side without
 * holding the chunk in memory. `onDifference` sees each difference in that order.
 */
export async function compareChunkValues(opts: {
  source: SourceReader;
  backup: SourceReader;
  sourceDb: string;
  backupDb: string;
  target: FieldTarget;
  startNs: bigint;
  endNs: bigint;
  pieceRows: number;
  onDifference?: (d: ValueDifference) => void;
}): Promise<ChunkDifferences> {
  const { target: t } = opts;
  const out: ChunkDifferences = { missing: 0, extra: 0, changed: 0 };
  const note = (d: ValueDifference): void => {
    out[d.kind]++;
    opts.onDifference?.(d);
  };
  const q = selectFieldQuery(t.measurement, t.field, opts.startNs, opts.endNs, t.retentionPolicy);
  const a = rows(opts.source.select(q, opts.sourceDb, opts.pieceRows));
  const z = rows(opts.backup.select(q, opts.backupDb, opts.pieceRows));
  let x = await nextRow(a);
  let y = await nextRow(z);
  while (x !== undefined || y !== undefined) {
    if (x !== undefined && y !== undefined && compareRows(x, y) === 0) {
      if (x.value !== y.value) note({ series: x.series, timeNs: x.time, kind: 'changed', source: x.value, backup: y.value });
      x = await nextRow(a);
      y = await nextRow(z);
    } else if (x !== undefined && (y === undefined || compareRows(x, y) < 0)) {
      note({ series: x.series, timeNs: x.time, kind: 'missing', source: x.value });
      x = await nextRow(a);
    } else if (y !== undefined) {
      note({ series: y.series, timeNs: y.time, kind: 'extra', backup: y.value });
      y = await nextRow(z);
    }
  }
  return out;
}

/**
 * Compares one field on both servers over [startNs, endNs]: its type, and counts; with
 * `deep`, every value chunk by chunk (compareChunkValues).
 */
export async function verifyField(opts: {
  source: SourceReader;
  backup: SourceReader;
  sourceDb: string;
  backupDb: string;
  target: FieldTarget;
  startNs: bigint;
  endNs: bigint;
  deep: boolean;
  chunkSizeNs: bigint;
  pieceRows: number;
  maxExamples?: number;
}): Promise<VerifyResult> {
  const { source, backup, target: t } = opts;
  // Counts alike are no proof: after a chunk failed on a type conflict, the backup may hold as many values of
  // another type. The types are compared in both modes.
  const backupTypes = await backupTypeConflict(backup, opts.backupDb, t);
  const base = { measurement: t.measurement, field: t.field, type: t.type, backupTypes, ranges: [] };
  if (!opts.deep) {
    const [s, b] = await Promise.all([
      countField(source, opts.sourceDb, t, opts.startNs, opts.endNs),
      countField(backup, opts.backupDb, t, opts.startNs, opts.endNs),
    ]);
    return { ...base, source: s, backup: b, differences: Math.abs(s - b) + (backupTypes.length > 0 ? 1 : 0) };
  }
  // The per-chunk counts give the totals too, and say which chunks to read.
  const [inSource, inBackup] = await Promise.all([
    planFieldChunks(source, opts.sourceDb, t, opts.startNs, opts.endNs, opts.chunkSizeNs),
    planFieldChunks(backup, opts.backupDb, t, opts.startNs, opts.endNs, opts.chunkSizeNs),
  ]);
  const total = (chunks: { expected: number }[]): number => chunks.reduce((n, c) => n + c.expected, 0);
  const result: VerifyResult = { ...base, source: total(inSource), backup: total(inBackup), differences: backupTypes.length > 0 ? 1 : 0 };
  const maxExamples = opts.maxExamples ?? 3;
  // Only chunks that hold values on either side are read.
  const chunks = new Map<bigint, bigint>();
  for (const c of [...inSource, ...inBackup]) chunks.set(c.startNs, c.endNs);
  let open: DifferenceRange | undefined;
  for (const [lo, hi] of [...chunks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let found = false;
    const note = (d: ValueDifference): void => {
      result.differences++;
      found = true;
      if (open === undefined) {
        open = { startNs: d.timeNs, endNs: d.timeNs, missing: 0, extra: 0, changed: 0, examples: [] };
        result.ranges.push(open);
      }
      open[d.kind]++;
      if (d.timeNs < open.startNs) open.startNs = d.timeNs;
      if (d.timeNs > open.endNs) open.endNs = d.timeNs;
      if (open.examples.length < maxExamples) open.examples.push(d);
    };
    await compareChunkValues({ ...opts, startNs: lo, endNs: hi, onDifference: note });
    // A chunk of equal values ends the range; the next difference opens another.
    if (!found) open = undefined;
  }
  return result;
}

interface Row {
  /** Every tag key of the answer, absent tags as "" (as InfluxDB answers GROUP BY *). */
  tags: Readonly<Record<string, string>>;
  series: string;
  time: bigint;
  value: string;
}

async function nextRow(it: AsyncGenerator<Row, void>): Promise<Row | undefined> {
  const r = await it.next();
  return r.done ? undefined : r.value;
}

async function* rows(
  pieces: AsyncIterable<{ name: string; tags: Record<string, string> | undefined; values: unknown[][] }>,
): AsyncGenerator<Row, void> {
  for await (const p of pieces) {
    const tags = p.tags ?? {};
    const series = seriesKey(p.name, tags);
    for (const r of p.values) {
      if (r[1] === null || r[1] === undefined) continue;
      yield {
        tags,
        series,
        time: BigInt(r[0] as string | number),
        value: typeof r[1] === 'number' && Object.is(r[1], -0) ? '-0' : JSON.stringify(r[1]),
      };
    }
  }
}

/**
 * The order of InfluxDB's answers: by the values of the tag keys in key order, an absent tag as "", then time.
 * The two servers may know different tag keys; a key one side lacks is "" in all its series, which leaves its
 * order unchanged, so comparing over the keys of both rows follows both answers.
 */
function compareRows(a: Row, b: Row): number {
  if (a.tags !== b.tags) {
    for (const k of [...new Set([...Object.keys(a.tags), ...Object.keys(b.tags)])].sort()) {
      const x = a.tags[k] ?? '';
      const y = b.tags[k] ?? '';
      if (x !== y) return x < y ? -1 : 1;
    }
  }
  return a.time === b.time ? 0 : a.time < b.time ? -1 : 1;
}
