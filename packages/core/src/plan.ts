import { InfluxError, quoteIdent, type FieldType } from '@influx-backup/influx';
import { chunkBounds, groupOffsetNs, type Chunk } from './chunks.js';
import { countBuckets, fromClause } from './counts.js';
import type { SourceReader } from './ports.js';

/** One field of one measurement in one retention policy, with the type the source stores it as. */
export interface FieldTarget {
  measurement: string;
  field: string;
  type: FieldType;
  /** Absent: the database's default policy. */
  retentionPolicy?: string | undefined;
}

export class FieldTypeConflictError extends Error {
  override readonly name = 'FieldTypeConflictError';
  readonly retriable = false;
}

/**
 * The fields to copy of one measurement: the configured ones, or every field it
 * has. A configured field the source does not hold (yet) is reported in
 * `missing` and has nothing to copy.
 */
export async function discoverFields(
  source: SourceReader,
  db: string,
  measurement: string,
  configured: readonly string[] | undefined,
  retentionPolicy?: string,
): Promise<{ targets: FieldTarget[]; missing: string[] }> {
  const keys = await source.fieldKeys(db, measurement, retentionPolicy);
  const types = new Map<string, FieldType[]>();
  for (const { field, type } of keys) {
    const list = types.get(field) ?? [];
    list.push(type);
    types.set(field, list);
  }
  const wanted = configured ?? [...types.keys()];
  const targets: FieldTarget[] = [];
  const missing: string[] = [];
  for (const field of wanted) {
    const found = types.get(field);
    if (!found) {
      missing.push(field);
      continue;
    }
    if (found.length > 1) {
      // Values carry no type of their own in InfluxQL answers: a field stored as
      // two types in different shards cannot be copied type-exactly.
      throw new FieldTypeConflictError(
        `${db}.${retentionPolicy === undefined ? '' : `${retentionPolicy}.`}${measurement}.${field} is stored with several types (${found.join(', ')}) in ${source.endpoint}; copy it shard by shard with influxd backup instead`,
      );
    }
    targets.push({ measurement, field, type: found[0] as FieldType, ...(retentionPolicy === undefined ? {} : { retentionPolicy }) });
  }
  return { targets, missing };
}

/**
 * The chunks of [startNs, endNs] that hold values of the field, asked of the
 * source with one COUNT per chunk-sized bucket. Empty chunks are never planned:
 * a field with one day of data in a range of years gives a day of chunks.
 */
export async function planFieldChunks(
  source: SourceReader,
  db: string,
  target: FieldTarget,
  startNs: bigint,
  endNs: bigint,
  sizeNs: bigint,
): Promise<Chunk[]> {
  if (endNs < startNs) return [];
  const q =
    `SELECT COUNT(${quoteIdent(target.field)}::field) FROM ${fromClause(target.measurement, target.retentionPolicy)}` +
    ` WHERE time >= ${startNs} AND time <= ${endNs}` +
    ` GROUP BY time(${sizeNs}ns, ${groupOffsetNs(startNs, sizeNs)}ns) fill(none)`;
  const [series = []] = await source.query(q, db);
  const chunks: Chunk[] = [];
  for (const piece of series) {
    for (const row of piece.values) {
      const bucket = BigInt(row[0] as string | number);
      const count = Number(row[1]);
      if (!(count > 0)) continue;
      const position = (bucket - startNs) / sizeNs;
      if (bucket < startNs || (bucket - startNs) % sizeNs !== 0n) {
        throw new InfluxError(source.endpoint, `COUNT bucket ${bucket} is off the chunk grid of ${target.measurement}.${target.field}`, {
          retriable: false,
        });
      }
      const bounds = chunkBounds(startNs, endNs, sizeNs, position);
      chunks.push({ index: chunks.length, ...bounds, expected: count });
    }
  }
  return chunks;
}

/** One field to plan: its own range (each field resumes from its own checkpoint). */
export interface FieldRange {
  target: FieldTarget;
  startNs: bigint;
  endNs: bigint;
}

/**
 * Chunks found in one piece of a measurement's range, per field (index into the
 * fields given; `chunk.index` counts that field's own chunks). Chunks with the
 * same `job` belong to fields of one group and have the same bounds: they are
 * copied by one job with one query.
 */
export interface PlannedPiece {
  chunks: { field: number; chunk: Chunk; job: number }[];
}

export interface MeasurementPlanOptions {
  sizeNs: bigint;
  /** Merge neighbouring buckets while the merged chunk holds at most this many values; 1: no merging. */
  maxValues: number;
  /**
   * Buckets asked for in one query (default: about 50,000 counts per answer,
   * fields x buckets); halved when the server refuses (max-select-buckets,
   * max-select-point).
   */
  bucketsPerQuery?: number;
  /** Chunks per yielded piece at most (default 1,000): what the caller holds at once. */
  piece?: number;
  /**
   * Fields planned together (processing.fields_per_job): each a list of indexes
   * into the fields given, every field in exactly one; default: each field alone.
   * A group's buckets merge while each of its fields' counts stays at most
   * `maxValues`, so its fields' chunks coincide wherever their ranges do.
   */
  groups?: readonly (readonly number[])[];
}

/**
 * Merges neighbouring non-empty buckets of one field's grid while the merged
 * chunk holds at most `maxValues` values; a bucket over the limit stays a chunk
 * of its own. The chunk spans the empty buckets between the ones it merges, so
 * the chunks of a field still cover every value of its range.
 */
export class ChunkMerger {
  private cur: { startNs: bigint; endNs: bigint; expected: number } | undefined;
  private index = 0;

  constructor(private readonly maxValues: number) {
    if (!(Number.isInteger(maxValues) && maxValues >= 1)) throw new RangeError(`maxValues must be an integer >= 1, got ${maxValues}`);
  }

  /** Adds the next bucket (time order); returns the chunk it closed, if any. */
  push(startNs: bigint, endNs: bigint, count: number): Chunk | undefined {
    const cur = this.cur;
    if (cur && cur.expected + count <= this.maxValues) {
      cur.endNs = endNs;
      cur.expected += count;
      return undefined;
    }
    this.cur = { startNs, endNs, expected: count };
    return cur ? { index: this.index++, ...cur } : undefined;
  }

  /** The last open chunk. */
  flush(): Chunk | undefined {
    const cur = this.cur;
    this.cur = undefined;
    return cur ? { index: this.index++, ...cur } : undefined;
  }

  get planned(): number {
    return this.index;
  }
}

interface MergedSpan {
  startNs: bigint;
  endNs: bigint;
  /** Values per field (index into the measurement's fields) in the span. */
  counts: Map<number, number>;
}

/**
 * ChunkMerger for a group of fields: merges while each field's own count stays
 * at most maxValues (the limit is per field, as for a field alone), keeping each
 * field's count. Not the group's sum: a group job reads whole rows, and what a
 * query costs the source is mostly the TSM blocks it decodes, whole blocks of up
 * to 1,000 values of one series and field. Bounding the sum cut a group's chunks
 * n times finer than its fields' alone, so each query decoded whole blocks to
 * use a fraction of them (4 fields in 100 series: 37 chunks cost the source 6.7 s
 * of CPU, 9 chunks 4.0 s, the same 3M values).
 */
class GroupMerger {
  private cur: MergedSpan | undefined;

  constructor(private readonly maxValues: number) {}

  push(startNs: bigint, endNs: bigint, counts: ReadonlyMap<number, number>): MergedSpan | undefined {
    const cur = this.cur;
    if (cur && this.fits(cur, counts)) {
      cur.endNs = endNs;
      for (const [k, c] of counts) cur.counts.set(k, (cur.counts.get(k) ?? 0) + c);
      return undefined;
    }
    this.cur = { startNs, endNs, counts: new Map(counts) };
    return cur;
  }

  flush(): MergedSpan | undefined {
    const cur = this.cur;
    this.cur = undefined;
    return cur;
  }

  private fits(cur: MergedSpan, counts: ReadonlyMap<number, number>): boolean {
    for (const [k, c] of counts) if ((cur.counts.get(k) ?? 0) + c > this.maxValues) return false;
    return true;
  }
}

/**
 * Plans the chunks of several fields of one measurement with one COUNT per
 * piece of the range for all of them (not one per field, see countBuckets),
 * streaming: yields the chunks found as they close, at most `piece` at a time, so
 * memory follows a piece, not the plan.
 *
 * The grid is aligned to the earliest field start; a field that starts later
 * gets its first chunk clipped at its own start (that bucket's count may then
 * include values before it: `expected` is an estimate there, never a bound).
 */
export async function* planMeasurementChunks(
  source: SourceReader,
  db: string,
  measurement: string,
  fields: readonly FieldRange[],
  opts: MeasurementPlanOptions,
): AsyncGenerator<PlannedPiece> {
  const { sizeNs } = opts;
  if (sizeNs <= 0n) throw new RangeError(`chunk size must be positive, got ${sizeNs} ns`);
  const live = fields.filter((f) => f.endNs >= f.startNs);
  if (live.length === 0) return;
  let gridStart = live[0]!.startNs;
  let end = live[0]!.endNs;
  for (const f of live) {
    if (f.startNs < gridStart) gridStart = f.startNs;
    if (f.endNs > end) end = f.endNs;
  }
  const groups = opts.groups ?? fields.map((_, k) => [k]);
  const groupOf = new Array<number>(fields.length).fill(-1);
  groups.forEach((g, n) => {
    for (const k of g) {
      if (!(k >= 0 && k < fields.length) || groupOf[k] !== -1) throw new RangeError(`field ${k} is in no group or in two`);
      groupOf[k] = n;
    }
  });
  if (groupOf.includes(-1)) throw new RangeError(`field ${groupOf.indexOf(-1)} is in no group`);
  if (!(Number.isInteger(opts.maxValues) && opts.maxValues >= 1))
    throw new RangeError(`maxValues must be an integer >= 1, got ${opts.maxValues}`);
  const mergers = groups.map(() => new GroupMerger(opts.maxValues));
  const next = fields.map(() => 0);
  let job = 0;
  /** A group's merged span becomes one chunk per field that has values in it, clipped to the field's range; equal bounds share a job. */
  const emit = (span: MergedSpan | undefined, out: PlannedPiece): void => {
    if (!span) return;
    const jobs = new Map<string, number>();
    const mine: PlannedPiece['chunks'] = [];
    for (const [k, expected] of span.counts) {
      const f = fields[k]!;
      const startNs = span.startNs < f.startNs ? f.startNs : span.startNs;
      const endNs = span.endNs > f.endNs ? f.endNs : span.endNs;
      const key = `${startNs} ${endNs}`;
      let j = jobs.get(key);
      if (j === undefined) jobs.set(key, (j = job++));
      mine.push({ field: k, job: j, chunk: { index: next[k]!++, startNs, endNs, expected } });
    }
    // Consecutive per job: the caller takes a job's fields as one run of entries.
    out.chunks.push(...mine.sort((a, b) => a.job - b.job || a.field - b.field));
  };
  const pieceMax = opts.piece ?? 1_000;
  const counted = countBuckets(
    source,
    db,
    measurement,
    fields.map((f) => f.target.field),
    live[0]!.target.retentionPolicy,
    {
      originNs: gridStart,
      startNs: gridStart,
      endNs: end,
      sizeNs,
      ...(opts.bucketsPerQuery ? { bucketsPerQuery: opts.bucketsPerQuery } : {}),
    },
  );
  let out: PlannedPiece = { chunks: [] };
  for await (const { bucket, counts: row } of counted) {
    const bucketEnd = bucket + sizeNs - 1n;
    // Per group with values in the bucket (made on demand: a plan may have a million buckets).
    const counts = new Map<number, Map<number, number>>();
    for (let k = 0; k < row.length; k++) {
      const count = row[k]!;
      if (!(count > 0)) continue;
      const f = fields[k]!;
      if (bucketEnd < f.startNs || bucket > f.endNs) continue;
      const g = groupOf[k]!;
      let mine = counts.get(g);
      if (!mine) counts.set(g, (mine = new Map<number, number>()));
      mine.set(k, count);
    }
    for (const g of [...counts.keys()].sort((a, b) => a - b)) emit(mergers[g]!.push(bucket, bucketEnd, counts.get(g)!), out);
    if (out.chunks.length >= pieceMax) {
      yield out;
      out = { chunks: [] };
    }
  }
  for (const m of mergers) emit(m.flush(), out);
  if (out.chunks.length > 0) yield out;
}
