import { InfluxError, quoteIdent, type FieldType } from '@influx-backup/influx';
import { chunkBounds, groupOffsetNs, type Chunk } from './chunks.js';
import type { SourceReader } from './ports.js';

/** One field of one measurement, with the type the source stores it as. */
export interface FieldTarget {
  measurement: string;
  field: string;
  type: FieldType;
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
): Promise<{ targets: FieldTarget[]; missing: string[] }> {
  const keys = await source.fieldKeys(db, measurement);
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
        `${db}.${measurement}.${field} is stored with several types (${found.join(', ')}) in ${source.endpoint}; copy it shard by shard with influxd backup instead`,
      );
    }
    targets.push({ measurement, field, type: found[0] as FieldType });
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
    `SELECT COUNT(${quoteIdent(target.field)}::field) FROM ${quoteIdent(target.measurement)}` +
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
