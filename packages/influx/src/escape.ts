// Escaping for the two languages InfluxDB 1.x speaks. Names are data: every
// identifier goes into InfluxQL quoted, and into line protocol escaped, whatever
// it holds.

/** An InfluxQL identifier: always double-quoted, with `\` and `"` escaped. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** An InfluxQL string literal. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

const MEASUREMENT_SPECIAL = /[, ]/;
const MEASUREMENT_SPECIAL_ALL = /[, ]/g;
const KEY_SPECIAL = /[,= ]/;
const KEY_SPECIAL_ALL = /[,= ]/g;

/**
 * Line protocol has no escape for a newline inside a name (a raw one ends the
 * line), so such a name cannot be written; say so rather than write another name.
 */
function refuseNewline(kind: string, name: string): void {
  if (name.includes('\n')) {
    throw new LineProtocolError(`${kind} ${JSON.stringify(name)} holds a newline, which line protocol cannot carry`);
  }
}

export class LineProtocolError extends Error {
  override readonly name = 'LineProtocolError';
}

/** Line protocol measurement: commas and spaces are escaped. */
export function escapeMeasurement(name: string): string {
  refuseNewline('measurement', name);
  if (name.startsWith('#')) {
    // A line that starts with '#' is a comment: InfluxDB answers 204 and stores nothing.
    throw new LineProtocolError(`measurement ${JSON.stringify(name)} starts with '#', which line protocol reads as a comment`);
  }
  return MEASUREMENT_SPECIAL.test(name) ? name.replace(MEASUREMENT_SPECIAL_ALL, '\\$&') : name;
}

/** Line protocol tag key, tag value or field key: commas, equals signs and spaces. */
export function escapeKey(name: string): string {
  refuseNewline('name', name);
  return KEY_SPECIAL.test(name) ? name.replace(KEY_SPECIAL_ALL, '\\$&') : name;
}

/**
 * Line protocol field key. InfluxDB also unescapes `\"` in field keys (not in tags),
 * so a backslash that stands before a quote is doubled to survive.
 */
export function escapeFieldKey(name: string): string {
  const escaped = escapeKey(name);
  return escaped.includes('\\"') ? escaped.replace(/\\"/g, '\\\\"') : escaped;
}

const STRING_SPECIAL = /[\\"]/;
const STRING_SPECIAL_ALL = /[\\"]/g;

/** Line protocol string field value, quotes included. */
export function escapeStringValue(value: string): string {
  // Most values need no escaping: test first, so the copy's hot path skips the replace.
  return STRING_SPECIAL.test(value) ? `"${value.replace(STRING_SPECIAL_ALL, '\\$&')}"` : `"${value}"`;
}

export type FieldType = 'float' | 'integer' | 'string' | 'boolean';

export const FIELD_TYPES: readonly FieldType[] = ['float', 'integer', 'string', 'boolean'];

/**
 * Formats one value as InfluxDB handed it to us. Integers arrive as decimal
 * strings (or safe JS integers) and get the `i` suffix; floats are JS numbers,
 * whose shortest round-trip form is exactly the float64 InfluxDB stores.
 */
export function formatFieldValue(type: FieldType, value: unknown): string {
  switch (type) {
    case 'integer':
      return `${typeof value === 'bigint' || typeof value === 'number' || typeof value === 'string' ? String(value) : invalid(type, value)}i`;
    case 'float':
      if (typeof value !== 'number') return invalid(type, value);
      // String(-0) is "0"; keep the sign so the copy is bit-exact.
      return Object.is(value, -0) ? '-0' : String(value);
    case 'boolean':
      return value === true ? 'true' : value === false ? 'false' : invalid(type, value);
    case 'string':
      return typeof value === 'string' ? escapeStringValue(value) : invalid(type, value);
  }
}

function invalid(type: FieldType, value: unknown): never {
  throw new TypeError(`expected a ${type} value, got ${typeof value} ${String(value).slice(0, 40)}`);
}

/**
 * The `measurement,tag=value,...` head of a line for one series. Tags are sorted
 * by key (what InfluxDB does anyway, and cheaper for it); empty values are absent
 * tags in InfluxQL answers and are left out.
 */
export function seriesKey(measurement: string, tags: Readonly<Record<string, string>> | undefined): string {
  let key = escapeMeasurement(measurement);
  if (tags) {
    for (const k of Object.keys(tags).sort()) {
      const v = tags[k];
      if (v === undefined || v === '') continue;
      key += `,${escapeKey(k)}=${escapeKey(v)}`;
    }
  }
  return key;
}
