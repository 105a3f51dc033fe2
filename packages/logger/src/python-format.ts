// Renders a log record with a Python logging format string, the seed's
// "%(asctime)s - %(name)s - %(levelname)s - %(message)s", so existing log parsers keep working.

import { PYTHON_LEVEL_NAMES, type LogLevel } from '@influx-backup/config';

// How Python's logging numbers the levels, for %(levelno)d.
const PYTHON_NUMBERS: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogRecord {
  readonly time: Date;
  readonly level: LogLevel;
  readonly name: string;
  readonly message: string;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Python's default asctime: `2026-11-26 13:45:00,123`, local time. */
export function asctime(d: Date): string {
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`
  );
}

function attribute(record: LogRecord, name: string): string | number | undefined {
  switch (name) {
    case 'asctime':
      return asctime(record.time);
    case 'created':
      return record.time.getTime() / 1000;
    case 'msecs':
      return record.time.getMilliseconds();
    case 'levelname':
      return PYTHON_LEVEL_NAMES[record.level];
    case 'levelno':
      return PYTHON_NUMBERS[record.level];
    case 'name':
      return record.name;
    case 'message':
      return record.message;
    case 'process':
      return process.pid;
    default:
      return undefined;
  }
}

const PLACEHOLDER = /%%|%\(([A-Za-z_]+)\)([-#0 +]*)(\d*)(?:\.(\d+))?([sdfr])/g;

/** `format` with each %(attribute)s replaced; unknown attributes are left as written. */
export function renderPython(format: string, record: LogRecord): string {
  return format.replace(
    PLACEHOLDER,
    (whole, name: string | undefined, flags: string, width: string, precision: string | undefined, conversion: string) => {
      if (whole === '%%') return '%';
      const value = attribute(record, name ?? '');
      if (value === undefined) return whole;
      let text: string;
      if (conversion === 'd') text = String(Math.trunc(Number(value)));
      else if (conversion === 'f') text = Number(value).toFixed(precision === undefined ? 6 : Number(precision));
      else text = precision === undefined ? String(value) : String(value).slice(0, Number(precision));
      const size = width === '' ? 0 : Number(width);
      return flags.includes('-') ? text.padEnd(size) : text.padStart(size);
    },
  );
}

/** ` key=value` pairs for metadata; values with spaces, quotes or `=` are JSON-quoted. */
export function renderMeta(meta: Readonly<Record<string, unknown>>): string {
  let out = '';
  for (const [key, value] of Object.entries(meta)) {
    if (value === undefined) continue;
    out += ` ${key}=${renderValue(value)}`;
  }
  return out;
}

function renderValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"'=\\]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  if (value instanceof Error) return JSON.stringify(value.message);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'InvalidDate' : value.toISOString();
  try {
    return (
      JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v)) ?? typeof value
    );
  } catch {
    // A cycle: say what it was rather than lose the line.
    return '"[unserialisable]"';
  }
}
