import { ConfigError } from './config-error.js';

// Times are nanosecond bigints: InfluxDB stores int64 nanoseconds, and a JavaScript Date
// (milliseconds in a double) would lose the last six digits. Dates do the calendar for the
// whole seconds, which they hold exactly.

const NS_PER_SECOND = 1_000_000_000n;

/** InfluxDB 1.x stores times as int64 nanoseconds; it refuses the two extreme values. */
export const INFLUX_MIN_TIME_NS = -9_223_372_036_854_775_806n;
export const INFLUX_MAX_TIME_NS = 9_223_372_036_854_775_806n;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function badTime(text: string, why: string): ConfigError {
  const shown = text.length > 64 ? `${text.slice(0, 64)}...` : text;
  return new ConfigError(`invalid RFC 3339 time ${JSON.stringify(shown)}: ${why} (expected e.g. 2023-01-01T00:00:00Z)`);
}

/** Milliseconds since the epoch of a UTC date and time (years 0-99 too, which Date.UTC would move to 19xx). */
function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): Date {
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year, month - 1, day);
  return date;
}

/**
 * Nanoseconds since the epoch of an RFC 3339 time (`2023-06-01T12:00:00.123456789+02:00`), exact to nine fraction
 * digits, negative before 1970. Throws ConfigError (without a key) on bad input.
 */
export function parseTime(text: string): bigint {
  const m = RFC3339.exec(text);
  if (m === null) throw badTime(text, 'not of the form YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm)');
  const [, ys, mos, ds, hs, mis, ss, frac, zulu, sign, ohs, omis] = m;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = [ys, mos, ds, hs, mis, ss].map(Number);
  if (month < 1 || month > 12) throw badTime(text, `month ${mos} is out of range`);
  if (day < 1 || utcMs(year, month, day).getUTCDate() !== day) {
    throw badTime(text, `day ${ds} does not exist in ${ys}-${mos}`);
  }
  if (hour > 23) throw badTime(text, `hour ${hs} is out of range`);
  if (minute > 59) throw badTime(text, `minute ${mis} is out of range`);
  // RFC 3339 allows a leap second (60); neither InfluxDB nor this program can represent one.
  if (second > 59) throw badTime(text, `second ${ss} is out of range`);
  let offsetSeconds = 0;
  if (zulu === undefined) {
    const [oh, om] = [Number(ohs), Number(omis)];
    if (oh > 23 || om > 59) throw badTime(text, `offset ${sign}${ohs}:${omis} is out of range`);
    offsetSeconds = (oh * 3600 + om * 60) * (sign === '-' ? -1 : 1);
  }
  const seconds = utcMs(year, month, day, hour, minute, second).getTime() / 1000 - offsetSeconds;
  return BigInt(seconds) * NS_PER_SECOND + BigInt((frac ?? '').padEnd(9, '0'));
}

/** RFC 3339 in UTC, the fraction's trailing zeros trimmed: `2023-01-01T00:00:00Z`, `1969-12-31T23:59:59.999999999Z`. */
export function formatTimeNs(ns: bigint): string {
  // Floor division: bigint division truncates toward zero, and times before 1970 need floor.
  let fraction = ns % NS_PER_SECOND;
  if (fraction < 0n) fraction += NS_PER_SECOND;
  const date = new Date(Number((ns - fraction) / NS_PER_SECOND) * 1000);
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`time ${ns}ns is outside the years 0000-9999 that RFC 3339 can write`);
  const text = date.toISOString().slice(0, 19);
  return fraction === 0n ? `${text}Z` : `${text}.${fraction.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}
