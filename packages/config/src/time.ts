import { ConfigError } from './config-error.js';

// Times are nanosecond bigints: InfluxDB stores int64 nanoseconds, and a JavaScript Date
// (milliseconds in a double) would lose the last six digits.

const NS_PER_SECOND = 1_000_000_000n;
const SECONDS_PER_DAY = 86_400n;

/** InfluxDB 1.x stores times as int64 nanoseconds; it refuses the two extreme values. */
export const INFLUX_MIN_TIME_NS = -9_223_372_036_854_775_806n;
export const INFLUX_MAX_TIME_NS = 9_223_372_036_854_775_806n;

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The inverse of daysFromCivil. */
function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function badTime(text: string, why: string): ConfigError {
  const shown = text.length > 64 ? `${text.slice(0, 64)}...` : text;
  return new ConfigError(`invalid RFC 3339 time ${JSON.stringify(shown)}: ${why} (expected e.g. 2023-01-01T00:00:00Z)`);
}

/**
 * Parses an RFC 3339 time (`2023-01-01T00:00:00Z`, `2023-06-01T12:00:00.123456789+02:00`)
 * into nanoseconds since the Unix epoch. Fractions of up to nine digits are kept exactly;
 * times before 1970 give negative numbers. Throws ConfigError (without a key) on bad input.
 */
export function parseTime(text: string): bigint {
  const m = RFC3339.exec(text);
  if (m === null) throw badTime(text, 'not of the form YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm)');
  const [, ys, mos, ds, hs, mis, ss, frac, zulu, sign, ohs, omis] = m;
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  const hour = Number(hs);
  const minute = Number(mis);
  const second = Number(ss);
  if (month < 1 || month > 12) throw badTime(text, `month ${mos} is out of range`);
  if (day < 1 || day > daysInMonth(year, month)) throw badTime(text, `day ${ds} does not exist in ${ys}-${mos}`);
  if (hour > 23) throw badTime(text, `hour ${hs} is out of range`);
  if (minute > 59) throw badTime(text, `minute ${mis} is out of range`);
  // RFC 3339 allows a leap second (60); neither InfluxDB nor this program can represent one.
  if (second > 59) throw badTime(text, `second ${ss} is out of range`);
  let offsetSeconds = 0n;
  if (zulu === undefined) {
    const oh = Number(ohs);
    const om = Number(omis);
    if (oh > 23 || om > 59) throw badTime(text, `offset ${sign}${ohs}:${omis} is out of range`);
    offsetSeconds = BigInt(oh * 3600 + om * 60) * (sign === '-' ? -1n : 1n);
  }
  const seconds =
    BigInt(daysFromCivil(year, month, day)) * SECONDS_PER_DAY + BigInt(hour * 3600 + minute * 60 + second) - offsetSeconds;
  const fraction = frac === undefined ? 0n : BigInt(frac.padEnd(9, '0'));
  return seconds * NS_PER_SECOND + fraction;
}

/**
 * Formats nanoseconds since the epoch as RFC 3339 in UTC, with the fraction's trailing
 * zeros trimmed: `2023-01-01T00:00:00Z`, `1969-12-31T23:59:59.999999999Z`.
 */
export function formatTimeNs(ns: bigint): string {
  let seconds = ns / NS_PER_SECOND;
  let fraction = ns % NS_PER_SECOND;
  if (fraction < 0n) {
    // bigint division truncates toward zero; times before 1970 need floor division.
    fraction += NS_PER_SECOND;
    seconds -= 1n;
  }
  let days = seconds / SECONDS_PER_DAY;
  let secondOfDay = seconds % SECONDS_PER_DAY;
  if (secondOfDay < 0n) {
    secondOfDay += SECONDS_PER_DAY;
    days -= 1n;
  }
  const { year, month, day } = civilFromDays(Number(days));
  if (year < 0 || year > 9999) throw new RangeError(`time ${ns}ns is outside the years 0000-9999 that RFC 3339 can write`);
  const sod = Number(secondOfDay);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  let text = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(Math.floor(sod / 3600))}:${pad(Math.floor(sod / 60) % 60)}:${pad(sod % 60)}`;
  if (fraction !== 0n) text += `.${fraction.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${text}Z`;
}
