import assert from 'node:assert/strict';

/** InfluxDB's field types, as SHOW FIELD KEYS names them. */
export type FieldTypeName = 'float' | 'integer' | 'string' | 'boolean';

/**
 * The part of an InfluxDB client the comparisons read through (the product's
 * InfluxClient fits). Structural, so testkit needs none of the packages it tests.
 */
export interface FieldReader {
  fieldKeys(db: string, measurement: string): Promise<{ field: string; type: FieldTypeName }[]>;
  select(
    q: string,
    db: string,
    chunkSize: number,
  ): AsyncIterable<{ name: string; tags?: Record<string, string> | undefined; values: unknown[][] }>;
}

/** Wider than any time a test writes: "everything the server holds". */
export const ALL_TIME: readonly [bigint, bigint] = [-9_000_000_000_000_000_000n, 9_000_000_000_000_000_000n];

/** A value as text that tells every value of its type apart (-0 from 0, 2^53 + 1 from 2^53). */
export function repr(type: FieldTypeName | undefined, v: unknown): string {
  const odd = `unexpected ${typeof v} ${String(v)}`;
  switch (type) {
    case 'float':
      return typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : odd;
    case 'integer':
      // Safe integers may arrive as numbers, larger ones as decimal strings.
      if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
      return typeof v === 'string' && /^-?\d+$/.test(v) ? v : odd;
    case 'string':
      return typeof v === 'string' ? JSON.stringify(v) : odd;
    case 'boolean':
      return typeof v === 'boolean' ? String(v) : odd;
    default:
      return odd;
  }
}

export interface FieldSnapshot {
  type: FieldTypeName | undefined;
  /** `[measurement, sorted tags, time, repr(value)]` as JSON, sorted. */
  rows: string[];
}

// The test's own quoting, written from the InfluxQL reference, so the product's
// escaping is checked against an independent one.
const ident = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/**
 * Every value of one field in a time range, as canonical text, sorted. A field stored
 * with several types (in different shards) fails the snapshot, unless `expectType` is
 * one of them: then the values are read as that type, and any value of another type
 * shows as "unexpected ..." rather than as an equal text.
 */
export async function snapshot(
  client: FieldReader,
  db: string,
  measurement: string,
  field: string,
  [lo, hi]: readonly [bigint, bigint] = ALL_TIME,
  expectType?: FieldTypeName,
): Promise<FieldSnapshot> {
  const types = (await client.fieldKeys(db, measurement)).filter((k) => k.field === field).map((k) => k.type);
  const type = expectType !== undefined && types.includes(expectType) ? expectType : types[0];
  if (type !== expectType) assert.ok(types.length <= 1, `${measurement}.${field} has types ${types.join(', ')} in ${db}`);
  const rows: string[] = [];
  if (type !== undefined) {
    const q = `SELECT ${ident(field)}::field FROM ${ident(measurement)} WHERE time >= ${lo} AND time <= ${hi} GROUP BY *`;
    for await (const piece of client.select(q, db, 1000)) {
      const tags = Object.entries(piece.tags ?? {})
        .filter(([, v]) => v !== '')
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const row of piece.values) {
        if (row[1] === null || row[1] === undefined) continue;
        rows.push(JSON.stringify([piece.name, tags, String(row[0]), repr(type, row[1])]));
      }
    }
  }
  return { type, rows: rows.sort() };
}

/** One side of a comparison: a server and a database on it. */
export interface FieldSide {
  client: FieldReader;
  db: string;
}

/**
 * The backup holds exactly the source's values of the field in `range` (same series,
 * tags, nanosecond times, values and type), and nothing else of it in `backupRange`.
 * The backup may hold the field with another type too, in another shard (a type
 * conflict a test sets up); the values in `backupRange` must still be the source's.
 * Returns the source's snapshot.
 */
export async function assertSameField(
  source: FieldSide,
  backup: FieldSide,
  measurement: string,
  field: string,
  range: readonly [bigint, bigint],
  backupRange: readonly [bigint, bigint] = ALL_TIME,
): Promise<FieldSnapshot> {
  const want = await snapshot(source.client, source.db, measurement, field, range);
  const got = await snapshot(backup.client, backup.db, measurement, field, backupRange, want.type);
  const name = `${JSON.stringify(measurement)}.${JSON.stringify(field)}`;
  assert.ok(want.rows.length > 0, `the source has no values of ${name}: the test data is wrong`);
  assert.equal(got.type, want.type, `type of ${name}`);
  assert.deepEqual(got.rows, want.rows, `values of ${name}`);
  return want;
}
