// Readers for single values: each returns the value in its typed form or throws an Issue
// with an empty path (the schema's walk knows where the value sits).

import { parseDuration } from './duration.js';
import { Issue, type PathSegment } from './environment.js';
import { LOG_FORMAT_ATTRIBUTES, LOG_LEVEL_NAMES, normalizeLogLevel, type LogLevel } from './logging.js';
import { formatTimeNs, INFLUX_MAX_TIME_NS, INFLUX_MIN_TIME_NS, parseTime } from './time.js';

export function invalid(reason: string, path: readonly PathSegment[] = []): Issue {
  return new Issue(path, reason);
}

/** A short, safe rendering of a (non-secret) value for messages. */
export function got(value: unknown): string {
  if (value === null || value === undefined) return 'got nothing';
  if (typeof value === 'string') {
    const shown = value.length > 48 ? `${value.slice(0, 48)}...` : value;
    return `got ${JSON.stringify(shown)}`;
  }
  if (Array.isArray(value)) return 'got a list';
  if (typeof value === 'object') return 'got a mapping';
  return `got ${String(value)}`;
}

const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Numbers arrive as text from `${VAR}` and environment overrides. */
function coerceNumber(text: string): unknown {
  const t = text.trim();
  return NUMBER_TEXT.test(t) ? Number(t) : text;
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

function coerceBoolean(text: string): unknown {
  const t = text.trim().toLowerCase();
  if (TRUE.has(t)) return true;
  if (FALSE.has(t)) return false;
  return text;
}

export function readBoolean(value: unknown): boolean {
  if (typeof value === 'string') value = coerceBoolean(value);
  if (typeof value !== 'boolean') throw invalid(`must be true or false, ${got(value)}`);
  return value;
}

export function readNumber(value: unknown, opts: { min?: number; max?: number; above?: number; integer?: boolean } = {}): number {
  if (typeof value === 'string') value = coerceNumber(value);
  const kind = opts.integer ? 'a whole number' : 'a number';
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`must be ${kind}, ${got(value)}`);
  if (opts.integer && !Number.isSafeInteger(value)) throw invalid(`must be ${kind}, ${got(value)}`);
  if (opts.min !== undefined && value < opts.min) {
    const what = opts.min === 0 ? 'must not be negative' : `must be at least ${opts.min}`;
    throw invalid(`${what}, ${got(value)}`);
  }
  if (opts.max !== undefined && value > opts.max) throw invalid(`must be at most ${opts.max}, ${got(value)}`);
  if (opts.above !== undefined && !(value > opts.above)) throw invalid(`must be greater than ${opts.above}, ${got(value)}`);
  return value;
}

export function readString(value: unknown, opts: { allowEmpty?: boolean } = {}): string {
  if (value === null || value === undefined) throw invalid('is required');
  if (typeof value !== 'string') throw invalid(`must be a string, ${got(value)}`);
  if (!opts.allowEmpty && value.trim() === '') throw invalid('must not be empty');
  return value;
}

export function readStringList(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalid(`must be a list of strings, ${got(value)}`);
  const seen = new Set<string>();
  return value.map((item, i) => {
    if (typeof item !== 'string' || item === '') throw invalid(`must be a non-empty string, ${got(item)}`, [i]);
    if (seen.has(item)) throw invalid(`${JSON.stringify(item)} is listed twice`, [i]);
    seen.add(item);
    return item;
  });
}

export function readLogLevel(value: unknown): LogLevel {
  const level = typeof value === 'string' ? normalizeLogLevel(value.trim()) : undefined;
  if (level === undefined) throw invalid(`must be one of ${LOG_LEVEL_NAMES}, ${got(value)}`);
  return level;
}

export function readDuration(value: unknown): number {
  if (typeof value !== 'string') throw invalid(`must be a duration string such as "30s", "5m", "1h", "1d", "1w", ${got(value)}`);
  try {
    return parseDuration(value.trim());
  } catch (err) {
    throw invalid((err as Error).message);
  }
}

/** An RFC 3339 time that InfluxDB can store, normalised to UTC (2023-01-01T00:00:00Z). */
export function readTime(value: unknown): string {
  if (value instanceof Date) throw invalid('must be an RFC 3339 string; quote it in YAML');
  if (typeof value !== 'string') throw invalid(`must be an RFC 3339 time such as "2023-01-01T00:00:00Z", ${got(value)}`);
  let ns: bigint;
  try {
    ns = parseTime(value.trim());
  } catch (err) {
    throw invalid((err as Error).message);
  }
  if (ns < INFLUX_MIN_TIME_NS || ns > INFLUX_MAX_TIME_NS) {
    const range = `${formatTimeNs(INFLUX_MIN_TIME_NS)} to ${formatTimeNs(INFLUX_MAX_TIME_NS)}`;
    throw invalid(`is outside the times InfluxDB can store (${range})`);
  }
  return formatTimeNs(ns);
}

/** `256`, `"256"`, `"256MB"`, `"1GB"` → megabytes. */
export function readMegabytes(value: unknown): number {
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(mb|m|mib|gb|g|gib)?\s*$/i.exec(value);
    if (m !== null) {
      const unit = (m[2] ?? 'mb').toLowerCase();
      value = Number(m[1]) * (unit.startsWith('g') ? 1024 : 1);
    }
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalid(`must be a whole number of megabytes (256, "256MB" or "1GB"), ${got(value)}`);
  }
  return value;
}

export function readLogFormat(value: unknown): string {
  const format = readString(value);
  const rest = format.replace(/%%/g, '').replace(/%\(([A-Za-z_]+)\)[-#0 +]*\d*(?:\.\d+)?[sdfr]/g, (whole, name: string) => {
    if (!LOG_FORMAT_ATTRIBUTES.includes(name)) {
      throw invalid(`unknown attribute %(${name}) (known: ${LOG_FORMAT_ATTRIBUTES.join(', ')})`);
    }
    return name === 'message' ? '\u0000' : '';
  });
  if (/%\(/.test(rest)) throw invalid('has a malformed %(name)s placeholder');
  if (!rest.includes('\u0000')) throw invalid('must contain %(message)s');
  return format;
}

export function readTimezone(value: unknown): string {
  const zone = readString(value);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw invalid(`is not an IANA time zone such as "UTC" or "Europe/Madrid", ${got(zone)}`);
  }
  return zone;
}

export function readHost(value: unknown): string {
  const host = readString(value);
  if (/\s/.test(host) || host.includes('/') || host.includes('://')) {
    throw invalid(`must be a host name or address without scheme or path (TLS is "ssl: true"), ${got(host)}`);
  }
  return host;
}

/** Never shows the value: a URL's password is a secret. */
export function readRedisUrl(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid('must be a redis:// or rediss:// URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('is not a valid URL (expected redis://host:port/db, with user:password@ before the host if needed)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw invalid('must start with redis:// or rediss://');
  if (url.hostname === '') throw invalid('has no host');
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) {
    throw invalid('must end in a database number, such as /0');
  }
  return value;
}

/** A password may be empty (no authentication); it is never shown in a message. */
export function readSecret(value: unknown): string {
  if (typeof value !== 'string') throw invalid('must be a string (quote it in YAML)');
  return value;
}

/** Keys of a mapping that are not allowed, with a guess at what was meant. */
export function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: readonly PathSegment[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new Issue([...path, key], unknownKeyReason(key, allowed));
  }
}

export function unknownKeyReason(key: string, allowed: readonly string[]): string {
  const guess = closest(key, allowed);
  return `unknown key${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}
