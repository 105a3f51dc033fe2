// convict formats for every kind of value in the file. convict reports failed formats as
// one string; to get each failure's key path (and the path inside lists) as data, the
// formats also record an Issue in the validation run that is active. loadConfig() is
// synchronous, so one module-level slot is enough.

import convict from 'convict';
import {
  coerceBoolean,
  coerceNumber,
  got,
  invalid,
  readBoolean,
  readDuration,
  readLogLevel,
  readMegabytes,
  readNumber,
  readString,
} from './checks.js';
import { Issue } from './environment.js';
import { readAlerts, readJobs, readMeasurements } from './sections.js';

interface ValidationRun {
  readonly issues: Issue[];
  readonly env: Readonly<Record<string, string>>;
}

let activeRun: ValidationRun | undefined;

/** Runs `validate` with format failures recorded into `run.issues`. */
export function recordIssues<T>(run: ValidationRun, validate: () => T): T {
  activeRun = run;
  try {
    return validate();
  } finally {
    activeRun = undefined;
  }
}

/** The attributes of Python's logging format that the logger renders. */
export const LOG_FORMAT_ATTRIBUTES = ['asctime', 'created', 'levelname', 'levelno', 'message', 'msecs', 'name', 'process'];

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
    throw invalid('is not a valid URL (expected redis://[user:password@]host:port/db)');
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

export function readVersion(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return readString(value);
}

interface FormatSpec {
  check: (value: unknown) => unknown;
  coerce?: (text: string) => unknown;
}

export const FORMATS: Readonly<Record<string, FormatSpec>> = {
  'ib-text': { check: (v) => readString(v) },
  'ib-optional-text': { check: (v) => readString(v, { allowEmpty: true }) },
  'ib-secret': { check: readSecret },
  'ib-version': { check: readVersion },
  'ib-host': { check: readHost },
  'ib-port': { check: (v) => readNumber(v, { integer: true, min: 1, max: 65535 }), coerce: coerceNumber },
  'ib-listen-port': { check: (v) => readNumber(v, { integer: true, min: 0, max: 65535 }), coerce: coerceNumber },
  'ib-count': { check: (v) => readNumber(v, { integer: true, min: 1 }), coerce: coerceNumber },
  'ib-nat': { check: (v) => readNumber(v, { integer: true, min: 0 }), coerce: coerceNumber },
  'ib-seconds': { check: (v) => readNumber(v, { min: 0, above: 0 }), coerce: coerceNumber },
  'ib-seconds-or-zero': { check: (v) => readNumber(v, { min: 0 }), coerce: coerceNumber },
  'ib-factor': { check: (v) => readNumber(v, { min: 1 }), coerce: coerceNumber },
  'ib-boolean': { check: readBoolean, coerce: coerceBoolean },
  'ib-level': { check: readLogLevel },
  'ib-log-format': { check: readLogFormat },
  'ib-duration': { check: readDuration },
  'ib-megabytes': { check: readMegabytes },
  'ib-timezone': { check: readTimezone },
  'ib-redis-url': { check: readRedisUrl },
  'ib-measurements': { check: readMeasurements },
  'ib-jobs': { check: readJobs },
  'ib-alerts': { check: readAlerts },
};

/** Formats whose value is a list or mapping that convict must not merge into. */
export const STRUCTURED_FORMATS = new Set(['ib-measurements', 'ib-jobs', 'ib-alerts']);

interface SchemaItem {
  key?: string;
  env?: string;
}

let registered = false;

export function registerFormats(): void {
  if (registered) return;
  registered = true;
  for (const [name, spec] of Object.entries(FORMATS)) {
    convict.addFormat({
      name,
      validate(value: unknown, item: SchemaItem) {
        try {
          spec.check(value);
        } catch (err) {
          if (err instanceof Issue && activeRun !== undefined) {
            const fromEnv = item.env !== undefined && activeRun.env[item.env] !== undefined ? item.env : undefined;
            let reason = err.message;
            if (reason === 'is required' && item.env !== undefined) reason += ` (in the file or as ${item.env})`;
            activeRun.issues.push(new Issue([...(item.key ?? '').split('.'), ...err.path], reason, fromEnv));
          }
          throw err;
        }
      },
      ...(spec.coerce === undefined ? {} : { coerce: spec.coerce }),
    });
  }
}
