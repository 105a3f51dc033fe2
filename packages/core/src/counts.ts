import { InfluxError, quoteIdent, type SeriesPiece } from '@influx-backup/influx';
import { groupOffsetNs } from './chunks.js';
import type { SourceReader } from './ports.js';

/** `"policy"."measurement"`, or the measurement alone in the default policy: names are always data. */
export function fromClause(measurement: string, retentionPolicy?: string): string {
  return retentionPolicy === undefined ? quoteIdent(measurement) : `${quoteIdent(retentionPolicy)}.${quoteIdent(measurement)}`;
}

/** One bucket of a grid: its start (on the grid, maybe before the range asked for) and each field's count in it. */
export interface BucketCounts {
  bucket: bigint;
  /** Per field, in the order given; 0 where the field has no value in the bucket. */
  counts: number[];
}

export interface CountOptions {
  /** Any time on the grid: buckets start at originNs + n * sizeNs. */
  originNs: bigint;
  startNs: bigint;
  endNs: bigint;
  sizeNs: bigint;
  /**
   * Buckets asked for in one query (default: about 50,000 counts per answer,
   * fields x buckets); halved when the server refuses (max-select-buckets,
   * max-select-point).
   */
  bucketsPerQuery?: number;
}

const SERVER_LIMIT = /max-select-(buckets|point|series)/i;

/**
 * The values of several fields of one measurement per bucket of a grid over
 * [startNs, endNs], in time order, with one COUNT query per piece of the range for
 * all of them (not one per field): what planning and repair both read. Buckets where
 * none of the fields has a value are not returned.
 *
 * Each COUNT gets an alias (c0, c1, ...): InfluxDB names COUNT(*) columns
 * count_<field>, and aliases keep hostile or clashing field names out of the
 * mapping, and count only the fields wanted. InfluxDB 1.x decodes every value it
 * counts, so a COUNT costs the source about a fifth of reading the values out.
 */
export async function* countBuckets(
  reader: SourceReader,
  db: string,
  measurement: string,
  fields: readonly string[],
  retentionPolicy: string | undefined,
  opts: CountOptions,
): AsyncGenerator<BucketCounts> {
  const { sizeNs, originNs, endNs } = opts;
  if (sizeNs <= 0n) throw new RangeError(`chunk size must be positive, got ${sizeNs} ns`);
  if (fields.length === 0 || endNs < opts.startNs) return;
  const offset = groupOffsetNs(originNs, sizeNs);
  const select = fields.map((f, k) => `COUNT(${quoteIdent(f)}::field) AS "c${k}"`).join(', ');
  let perQuery = BigInt(opts.bucketsPerQuery ?? Math.max(1, Math.floor(50_000 / fields.length)));
  let pieceStart = opts.startNs;
  while (pieceStart <= endNs) {
    // Pieces end on bucket edges, so no bucket is counted in two pieces (halves of it).
    const last = pieceStart - groupOffsetNs(pieceStart - originNs, sizeNs) + perQuery * sizeNs - 1n;
    const pieceEnd = last > endNs ? endNs : last;
    const q =
      `SELECT ${select} FROM ${fromClause(measurement, retentionPolicy)}` +
      ` WHERE time >= ${pieceStart} AND time <= ${pieceEnd}` +
      ` GROUP BY time(${sizeNs}ns, ${offset}ns) fill(none)`;
    let series: SeriesPiece[];
    try {
      [series = []] = await reader.query(q, db);
    } catch (err) {
      if (SERVER_LIMIT.test((err as Error).message) && perQuery > 1n) {
        perQuery = perQuery / 2n;
        continue;
      }
      throw err;
    }
    for (const piece of series) {
      const cols = piece.columns.map((c) => (/^c\d+$/.test(c) ? Number(c.slice(1)) : -1));
      for (const row of piece.values) {
        const bucket = BigInt(row[0] as string | number);
        if ((bucket - originNs) % sizeNs !== 0n) {
          throw new InfluxError(reader.endpoint, `COUNT bucket ${bucket} is off the chunk grid of ${measurement}`, { retriable: false });
        }
        const counts = new Array<number>(fields.length).fill(0);
        let any = false;
        for (let c = 1; c < row.length; c++) {
          const k = cols[c]!;
          const n = Number(row[c]);
          if (k < 0 || !(n > 0)) continue;
          counts[k] = n;
          any = true;
        }
        if (any) yield { bucket, counts };
      }
    }
    pieceStart = pieceEnd + 1n;
  }
}
