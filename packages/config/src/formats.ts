// The kinds of values in the file. Each format reads a value once into its typed form, or
// throws an Issue with an empty path (the schema's walk knows where the value sits).

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatDuration, parseDuration } from './duration.js';
import { fail, got, invalid } from './issues.js';
import { LOG_FORMAT_ATTRIBUTES, LOG_LEVEL_NAMES, normalizeLogLevel, PYTHON_LEVEL_NAMES } from './logging.js';
import type { LogLevel } from './logging.js';
import type { Format } from './nodes.js';
import { formatTimeNs, INFLUX_MAX_TIME_NS, INFLUX_MIN_TIME_NS, parseTime } from './time.js';

/** `parse`'s result; what it throws becomes an Issue with `reason`, or its own message (a ConfigError without key). */
function attempt<T>(parse: () => T, reason?: string): T {
  try {
    return parse();
  } catch (err) {
    throw invalid(reason ?? (err as Error).message);
  }
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Numbers and booleans arrive as text from `${VAR}` and environment overrides. */
function readNumber(value: unknown, opts: { min?: number; max?: number; above?: number; integer?: boolean }): number {
  if (typeof value === 'string' && NUMBER.test(value.trim())) value = Number(value);
  const kind = opts.integer ? 'a whole number' : 'a number';
  if (typeof value !== 'number' || !Number.isFinite(value) || (opts.integer && !Number.isSafeInteger(value))) {
    throw invalid(`must be ${kind}, ${got(value)}`);
  }
  if (opts.min !== undefined && value < opts.min) {
    throw invalid(`${opts.min === 0 ? 'must not be negative' : `must be at least ${opts.min}`}, ${got(value)}`);
  }
  if (opts.max !== undefined && value > opts.max) throw invalid(`must be at most ${opts.max}, ${got(value)}`);
  if (opts.above !== undefined && !(value > opts.above)) throw invalid(`must be greater than ${opts.above}, ${got(value)}`);
  return value;
}

export const number = (opts: Parameters<typeof readNumber>[1]): Format<number> => ({ read: (v) => readNumber(v, opts) });
export const count = number({ integer: true, min: 1 });
export const natural = number({ integer: true, min: 0 });

/** Seconds in the file, milliseconds in the typed value. */
export const seconds = (min: { above: number } | { min: number }): Format<number> => ({
  read: (v) => Math.round(readNumber(v, { min: 0, ...min }) * 1000),
  show: (ms) => ms / 1000,
});

export const boolean: Format<boolean> = {
  read(value) {
    const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
    if (value === true || ['true', 'yes', 'on', '1'].includes(text)) return true;
    if (value === false || ['false', 'no', 'off', '0'].includes(text)) return false;
    throw invalid(`must be true or false, ${got(value)}`);
  },
};

function readString(value: unknown, allowEmpty = false): string {
  if (value === null || value === undefined) throw invalid('is required');
  if (typeof value !== 'string') throw invalid(`must be a string, ${got(value)}`);
  if (!allowEmpty && value.trim() === '') throw invalid('must not be empty');
  return value;
}

export const text: Format<string> = { read: (v) => readString(v) };
export const anyText: Format<string> = { read: (v) => readString(v, true) };
/** Text that must pass `check` (which throws an Issue). */
export const checked = (check: (text: string) => unknown): Format<string> => ({
  read(value) {
    const text = readString(value);
    check(text);
    return text;
  },
});

/** A password may be empty (no authentication); it is never shown in a message. */
export const secret: Format<string> = {
  read: (v) => (typeof v === 'string' ? v : fail('must be a string (quote it in YAML)')),
};

export const stringList: Format<readonly string[]> = {
  read(value) {
    if (!Array.isArray(value)) throw invalid(`must be a list of strings, ${got(value)}`);
    return value.map((item, i) => {
      if (typeof item !== 'string' || item === '') throw invalid(`must be a non-empty string, ${got(item)}`, [i]);
      if (value.indexOf(item) < i) throw invalid(`${JSON.stringify(item)} is listed twice`, [i]);
      return item;
    });
  },
};

export const level: Format<LogLevel> = {
  read: (v) => (typeof v === 'string' ? normalizeLogLevel(v.trim()) : undefined) ?? fail(`must be one of ${LOG_LEVEL_NAMES}, ${got(v)}`),
  show: (l) => PYTHON_LEVEL_NAMES[l],
};

export const logFormat = checked((format) => {
  const rest = format.replace(/%%/g, '').replace(/%\(([A-Za-z_]+)\)[-#0 +]*\d*(?:\.\d+)?[sdfr]/g, (whole, name: string) => {
    if (!LOG_FORMAT_ATTRIBUTES.includes(name)) {
      throw invalid(`unknown attribute %(${name}) (known: ${LOG_FORMAT_ATTRIBUTES.join(', ')})`);
    }
    return name === 'message' ? '\u0000' : '';
  });
  if (/%\(/.test(rest)) throw invalid('has a malformed %(name)s placeholder');
  if (!rest.includes('\u0000')) throw invalid('must contain %(message)s');
});

export const duration: Format<number> = {
  read(value) {
    if (typeof value === 'string') return attempt(() => parseDuration(value.trim()));
    throw invalid(`must be a duration string such as "30s", "5m", "1h", "1d", "1w", ${got(value)}`);
  },
  show: formatDuration,
};

/** An RFC 3339 time that InfluxDB can store, normalised to UTC (2023-01-01T00:00:00Z). */
export const time: Format<string> = {
  read(value) {
    if (value instanceof Date) throw invalid('must be an RFC 3339 string; quote it in YAML');
    if (typeof value !== 'string') throw invalid(`must be an RFC 3339 time such as "2023-01-01T00:00:00Z", ${got(value)}`);
    const ns = attempt(() => parseTime(value.trim()));
    if (ns < INFLUX_MIN_TIME_NS || ns > INFLUX_MAX_TIME_NS) {
      const range = `${formatTimeNs(INFLUX_MIN_TIME_NS)} to ${formatTimeNs(INFLUX_MAX_TIME_NS)}`;
      throw invalid(`is outside the times InfluxDB can store (${range})`);
    }
    return formatTimeNs(ns);
  },
};

/** `256`, `"256"`, `"256MB"`, `"1GB"` → megabytes. */
export const megabytes: Format<number> = {
  read(value) {
    const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(mb|m|mib|gb|g|gib)?\s*$/i.exec(value) : null;
    const mb = m === null ? value : Number(m[1]) * ((m[2] ?? 'mb').toLowerCase().startsWith('g') ? 1024 : 1);
    if (typeof mb !== 'number' || !Number.isInteger(mb) || mb < 1) {
      throw invalid(`must be a whole number of megabytes (256, "256MB" or "1GB"), ${got(value)}`);
    }
    return mb;
  },
};

export const timezone = checked((zone) => {
  const reason = `is not an IANA time zone such as "UTC" or "Europe/Madrid", ${got(zone)}`;
  attempt(() => new Intl.DateTimeFormat('en-US', { timeZone: zone }), reason);
});

export const host = checked((host) => {
  if (/\s/.test(host) || host.includes('/')) {
    throw invalid(`must be a host name or address without scheme or path (TLS is "ssl: true"), ${got(host)}`);
  }
});

/** A file name relative to the working directory, made absolute; with `mustExist`, it must be there now. */
export const path = (mustExist = false): Format<string> => ({
  read(value, ctx) {
    const file = resolve(ctx.cwd, readString(value));
    if (mustExist && !existsSync(file)) throw invalid(`file not found: ${file}`);
    return file;
  },
});

/** Never shows the value: a URL's password is a secret. */
export const redisUrl: Format<string> = {
  read(value) {
    if (typeof value !== 'string' || value.trim() === '') throw invalid('must be a redis:// or rediss:// URL');
    const url = attempt(() => new URL(value), 'is not a valid URL (redis://host:port/db, user:password@ before the host)');
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw invalid('must start with redis:// or rediss://');
    if (url.hostname === '') throw invalid('has no host');
    if (!/^(\/\d*)?$/.test(url.pathname)) throw invalid('must end in a database number, such as /0');
    return value;
  },
};

/** An http(s) URL; never shown in a message: a webhook's URL often is its credential. */
export const webhookUrl: Format<string> = {
  read(value) {
    const url = attempt(() => new URL(readString(value)), 'is not a valid URL');
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('must start with http:// or https://');
    return url.href;
  },
};
