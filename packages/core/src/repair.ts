import { quoteIdent } from '@influx-backup/influx';
import { countBuckets, fromClause, type BucketCounts } from './counts.js';
import type { FieldTarget } from './plan.js';
import type { SourceReader } from './ports.js';
import { compareChunkValues, type ChunkDifferences, type ValueDifference } from './verify.js';

/** Both servers, as a comparison reads them: the source and the backup, each with its database. */
export interface ServerPair {
  source: SourceReader;
  backup: SourceReader;
  sourceDb: string;
  backupDb: string;
}

/** One bucket of the grid that holds a value of some field on either server, clipped to the range compared. */
export interface GridBucket {
  startNs: bigint;
  endNs: bigint;
  /** Per field, in the order given: its count on the source and on the backup. */
  source: number[];
  backup: number[];
}

export interface GridOptions {
  /** A time on the grid (the measurement's configured start): buckets start at originNs + n * sizeNs. */
  originNs: bigint;
  startNs: bigint;
  endNs: bigint;
  sizeNs: bigint;
  bucketsPerQuery?: number;
}

/**
 * Both servers' counts of several fields of one measurement (one policy) on the
 * `time_chunks.size` grid, bucket by bucket in time order: each server answers the
 * COUNTs of every field with one query per piece of the range (countBuckets), and the
 * two answers are merged as they stream. Buckets empty on both servers are skipped.
 */
export async function* compareCounts(
  servers: ServerPair,
  measurement: string,
  fields: readonly string[],
  retentionPolicy: string | undefined,
  opts: GridOptions,
): AsyncGenerator<GridBucket> {
  const { startNs, endNs, sizeNs } = opts;
  const a = countBuckets(servers.source, servers.sourceDb, measurement, fields, retentionPolicy, opts);
  const z = countBuckets(servers.backup, servers.backupDb, measurement, fields, retentionPolicy, opts);
  const zeros = (): number[] => new Array<number>(fields.length).fill(0);
  // Both asked at once: the two servers count in parallel.
  let [x, y] = await Promise.all([next(a), next(z)]);
  while (x !== undefined || y !== undefined) {
    let bucket: bigint;
    let source: number[];
    let backup: number[];
    if (x !== undefined && (y === undefined || x.bucket < y.bucket)) {
      [bucket, source, backup] = [x.bucket, x.counts, zeros()];
      x = await next(a);
    } else if (y !== undefined && (x === undefined || y.bucket < x.bucket)) {
      [bucket, source, backup] = [y.bucket, zeros(), y.counts];
      y = await next(z);
    } else {
      [bucket, source, backup] = [x!.bucket, x!.counts, y!.counts];
      [x, y] = await Promise.all([next(a), next(z)]);
    }
    const end = bucket + sizeNs - 1n;
    yield { startNs: bucket < startNs ? startNs : bucket, endNs: end > endNs ? endNs : end, source, backup };
  }
}

async function next(it: AsyncGenerator<BucketCounts>): Promise<BucketCounts | undefined> {
  const r = await it.next();
  return r.done ? undefined : r.value;
}

/** What one field's chunk holds on each side, once judged. */
export interface ChunkVerdict extends ChunkDifferences {
  /** The source holds a value the backup lacks or holds differently: the chunk is to be copied again. */
  repair: boolean;
  /** Read value by value (--deep, or a backup holding more than the source): the counts are exact, not a bound. */
  exact: boolean;
}

/**
 * Judges one field's chunk from its counts, reading values only where counts cannot
 * tell. More values in the source: some are missing (at least the difference), a
 * repair. As many: alike (with `deep`, read to find a value rewritten at the same
 * time). Fewer: the backup holds values the source lost, and perhaps lacks others as
 * well; only reading both tells, and a chunk with extra values alone is no repair (a
 * backup keeps what the source lost), so it is not copied again at every check.
 */
export async function judgeChunk(
  servers: ServerPair,
  target: FieldTarget,
  chunk: { startNs: bigint; endNs: bigint; source: number; backup: number },
  opts: { deep: boolean; pieceRows: number; onDifference?: (d: ValueDifference) => void },
): Promise<ChunkVerdict> {
  const { source, backup } = chunk;
  if (!opts.deep && source > backup) return { missing: source - backup, extra: 0, changed: 0, repair: true, exact: false };
  if (!opts.deep && source === backup) return { missing: 0, extra: 0, changed: 0, repair: false, exact: false };
  const d = await compareChunkValues({
    ...servers,
    target,
    startNs: chunk.startNs,
    endNs: chunk.endNs,
    pieceRows: opts.pieceRows,
    ...(opts.onDifference ? { onDifference: opts.onDifference } : {}),
  });
  return { ...d, repair: d.missing + d.changed > 0, exact: true };
}

/** The time of the field's newest value in [startNs, endNs] on this server, or null when it holds none there. */
export async function lastValueTime(
  reader: SourceReader,
  db: string,
  target: FieldTarget,
  startNs: bigint,
  endNs: bigint,
): Promise<bigint | null> {
  const q =
    `SELECT LAST(${quoteIdent(target.field)}::field) FROM ${fromClause(target.measurement, target.retentionPolicy)}` +
    ` WHERE time >= ${startNs} AND time <= ${endNs}`;
  const [series = []] = await reader.query(q, db);
  let newest: bigint | null = null;
  for (const s of series)
    for (const row of s.values) {
      const t = BigInt(row[0] as string | number);
      if (newest === null || t > newest) newest = t;
    }
  return newest;
}
