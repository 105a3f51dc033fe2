import { ConfigError } from './config-error.js';
import { Issue } from './environment.js';

// The seed schedules jobs with APScheduler's cron trigger; BullMQ's job schedulers take a
// cron-parser pattern. This converts one into the other for the subset both understand.

/** APScheduler's cron fields, most significant first. */
export const CRON_FIELDS = ['year', 'month', 'day', 'week', 'dayOfWeek', 'hour', 'minute', 'second'] as const;
type FieldName = (typeof CRON_FIELDS)[number];
export type CronField = FieldName;
const ORDER = CRON_FIELDS;

/** One APScheduler-style cron field: a number or an expression such as "sun", "*\/5", "1-5". */
export type CronFieldValue = string | number;
export type CronFields = { readonly [F in FieldName]?: CronFieldValue };

/** What APScheduler gives a field left out below the least significant one set; fields above it are "*". */
const MINIMUM = { year: '*', month: '1', day: '1', week: '*', dayOfWeek: '*', hour: '0', minute: '0', second: '0' } as const;

// APScheduler counts weekdays from Monday = 0 to Sunday = 6; cron-parser from Sunday = 0, and takes 7 for Sunday
// too, so cronWeekday() (+1) keeps "sat-sun" a range.
const RANGES = { second: [0, 59], minute: [0, 59], hour: [0, 23], day: [1, 31], month: [1, 12], dayOfWeek: [0, 6] } as const;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const cronWeekday = (apsDay: number): number => apsDay + 1;

/** A field that cannot be converted, named by its YAML key (day_of_week). */
function fieldError(field: FieldName | 'trigger', reason: string): Issue {
  return new Issue([field === 'dayOfWeek' ? 'day_of_week' : field], reason);
}

function valueOf(field: keyof typeof RANGES, token: string): number | undefined {
  if (/^\d+$/.test(token)) return Number(token);
  if (field === 'month' && MONTHS.includes(token)) return MONTHS.indexOf(token) + 1;
  if (field === 'dayOfWeek' && WEEKDAYS.includes(token)) return WEEKDAYS.indexOf(token);
  return undefined;
}

function convertPart(field: keyof typeof RANGES, part: string): string {
  const key = field === 'dayOfWeek' ? 'day_of_week' : field;
  const [lo, hi] = RANGES[field];
  if (part === '*') return '*';
  if (field === 'day' && part === 'last') return 'L';

  const m = /^(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:\/(\d+))?$/.exec(part);
  if (m === null) {
    throw fieldError(field, `unsupported expression ${JSON.stringify(part)} (use a value, a-b, */n, a-b/n or a list of them)`);
  }
  const [, startText = '', endText, stepText] = m;
  if (stepText !== undefined) {
    const step = Number(stepText);
    if (step < 1 || step > hi - lo + 1) throw fieldError(field, `step ${stepText} is out of range in ${JSON.stringify(part)}`);
  }
  if (startText === '*') {
    if (endText !== undefined) throw fieldError(field, `unsupported expression ${JSON.stringify(part)}`);
    // "*/2" in APScheduler's day_of_week starts on Monday; in cron it would start on Sunday.
    return field === 'dayOfWeek' ? `${cronWeekday(lo)}-${cronWeekday(hi)}/${stepText}` : part;
  }
  const start = valueOf(field, startText);
  if (start === undefined || start < lo || start > hi) {
    const names = field === 'dayOfWeek' ? ', mon-sun' : field === 'month' ? ', jan-dec' : '';
    throw fieldError(field, `${JSON.stringify(startText)} is not a valid ${key} (${lo}-${hi}${names})`);
  }
  if (endText === undefined) {
    if (stepText !== undefined) {
      throw fieldError(field, `unsupported expression ${JSON.stringify(part)} (a step needs a range or *)`);
    }
    if (field !== 'dayOfWeek') return startText;
    // A weekday's name means the same in both; a number does not (APScheduler's 0 is Monday).
    return WEEKDAYS.includes(startText) ? startText : String(cronWeekday(start));
  }
  const end = valueOf(field, endText);
  if (end === undefined || end < lo || end > hi) {
    throw fieldError(field, `${JSON.stringify(endText)} is not a valid ${key} (${lo}-${hi})`);
  }
  if (start > end) throw fieldError(field, `range ${JSON.stringify(part)} runs backwards`);
  const step = stepText === undefined ? '' : `/${stepText}`;
  if (field === 'dayOfWeek') return `${cronWeekday(start)}-${cronWeekday(end)}${step}`;
  return `${start}-${end}${step}`;
}

function convertField(field: FieldName, value: CronFieldValue): string {
  const key = field === 'dayOfWeek' ? 'day_of_week' : field;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw fieldError(field, `must be a whole number or a cron expression, got ${value}`);
    value = String(value);
  }
  if (typeof value !== 'string') throw fieldError(field, 'must be a number or a cron expression string');
  const text = value.trim().toLowerCase();
  if (text === '') throw fieldError(field, 'must not be empty');
  if (field === 'year' || field === 'week') {
    if (text === '*') return '*';
    throw fieldError(field, `is not supported (BullMQ cron patterns have no ${key} field); leave it out or use "*"`);
  }
  return text
    .split(',')
    .map((part) => convertPart(field, part.trim()))
    .join(',');
}

/** The pattern, or an Issue at the YAML key of the field at fault; used by the config validation. */
export function checkCronFields(job: CronFields): string {
  const given = ORDER.filter((f) => job[f] !== undefined && job[f] !== null);
  if (given.length === 0) {
    throw fieldError('trigger', 'a cron job needs at least one of year, month, day, week, day_of_week, hour, minute, second');
  }
  const last = ORDER.indexOf(given[given.length - 1] as FieldName);
  const out = {} as Record<FieldName, string>;
  ORDER.forEach((field, i) => {
    const value = job[field];
    if (value !== undefined && value !== null) out[field] = convertField(field, value);
    else out[field] = i > last ? MINIMUM[field] : '*';
  });
  return [out.second, out.minute, out.hour, out.day, out.month, out.dayOfWeek].join(' ');
}

/**
 * The 6-field cron pattern (second minute hour day month day_of_week) of cron-parser, and so of BullMQ's job
 * schedulers, for a job written with APScheduler's cron fields. Fields left out below the least significant one given
 * take their minimum, as in APScheduler: {hour: 2, minute: 0} → "0 0 2 * * *"; {minute: 0} → "0 0 * * * *";
 * {day_of_week: "sun", hour: 1, minute: 0} → "0 0 1 * * sun". Weekday numbers are APScheduler's (0 = Monday).
 * Throws ConfigError naming the field.
 */
export function cronPattern(job: CronFields): string {
  try {
    return checkCronFields(job);
  } catch (err) {
    if (err instanceof Issue) throw new ConfigError(err.message, { key: String(err.path[0]) });
    throw err;
  }
}
