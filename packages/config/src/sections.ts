// The parts of the file that are lists of mappings (or, for alerts, either a mapping or a
// list). convict treats each as a single value, so their elements are checked here, with
// errors that carry the path inside the list: backup.measurements[1].start_time.

import {
  checkKeys,
  got,
  invalid,
  isMapping,
  readBoolean,
  readNumber,
  readString,
  readStringList,
  readTime,
} from './checks.js';
import { checkCronFields, CronFieldError } from './cron.js';
import { at } from './environment.js';
import { formatTimeNs, INFLUX_MAX_TIME_NS, INFLUX_MIN_TIME_NS } from './time.js';
import type {
  AlertOperator,
  AlertRuleConfig,
  AlertsConfig,
  CronFieldValue,
  MeasurementConfig,
  SchedulerJobConfig,
} from './types.js';

function readListOfMappings(value: unknown, what: string): Record<string, unknown>[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(`must be a list of ${what}, ${got(value)}`);
  return value.map((item, i) => {
    if (!isMapping(item)) throw invalid(`must be a mapping (${what.replace(/s$/, '')}), ${got(item)}`, [i]);
    return item;
  });
}

/** A mapping's value, with YAML's empty value (null) read as "not given". */
function given(item: Record<string, unknown>, key: string): unknown {
  const value = item[key];
  return value === null ? undefined : value;
}

const MEASUREMENT_KEYS = ['name', 'fields', 'start_time', 'end_time'];

function checkInfluxRange(ns: bigint): void {
  if (ns < INFLUX_MIN_TIME_NS || ns > INFLUX_MAX_TIME_NS) {
    throw invalid(
      `is outside the times InfluxDB can store (${formatTimeNs(INFLUX_MIN_TIME_NS)} to ${formatTimeNs(INFLUX_MAX_TIME_NS)})`,
    );
  }
}

export function readMeasurements(value: unknown): MeasurementConfig[] {
  const items = readListOfMappings(value, 'measurements');
  if (items.length === 0) throw invalid('needs at least one measurement to back up');
  const seen = new Map<string, number>();
  return items.map((item, i) => {
    const path = [i];
    checkKeys(item, MEASUREMENT_KEYS, path);
    const name = at([...path, 'name'], () => readString(given(item, 'name')));
    const first = seen.get(name);
    if (first !== undefined) {
      throw invalid(`measurement ${JSON.stringify(name)} is already listed at [${first}]; list its fields once`, [...path, 'name']);
    }
    seen.set(name, i);
    const rawFields = given(item, 'fields');
    let fields: string[] | undefined;
    if (rawFields !== undefined) {
      fields = at([...path, 'fields'], () => readStringList(rawFields));
      if (fields.length === 0) {
        throw invalid('is empty; leave "fields" out to back up every field', [...path, 'fields']);
      }
    }
    const start = at([...path, 'start_time'], () => {
      const ns = readTime(given(item, 'start_time'));
      checkInfluxRange(ns);
      return ns;
    });
    const rawEnd = given(item, 'end_time');
    let end: bigint | undefined;
    if (rawEnd !== undefined) {
      end = at([...path, 'end_time'], () => {
        const ns = readTime(rawEnd);
        checkInfluxRange(ns);
        return ns;
      });
      if (end < start) {
        throw invalid(`${formatTimeNs(end)} is before start_time ${formatTimeNs(start)}`, [...path, 'end_time']);
      }
    }
    const measurement: MeasurementConfig = {
      name,
      ...(fields === undefined ? {} : { fields }),
      startTime: formatTimeNs(start),
      ...(end === undefined ? {} : { endTime: formatTimeNs(end) }),
    };
    return measurement;
  });
}

const CRON_KEYS = ['year', 'month', 'day', 'week', 'day_of_week', 'hour', 'minute', 'second'] as const;
const JOB_KEYS = ['id', 'trigger', 'enabled', 'full', ...CRON_KEYS];

function readCronValue(value: unknown): CronFieldValue {
  if (typeof value === 'number' || typeof value === 'string') return value;
  throw invalid(`must be a number or a cron expression such as "*/5", "1-5" or "sun", ${got(value)}`);
}

export function readJobs(value: unknown): SchedulerJobConfig[] {
  const items = readListOfMappings(value, 'jobs');
  const seen = new Map<string, number>();
  return items.map((item, i) => {
    const path = [i];
    checkKeys(item, JOB_KEYS, path);
    const id = at([...path, 'id'], () => {
      const text = readString(given(item, 'id'));
      // The id names a BullMQ job scheduler, and BullMQ ids must not hold ':'.
      if (text.includes(':')) throw invalid(`must not contain ":", ${got(text)}`);
      return text;
    });
    const first = seen.get(id);
    if (first !== undefined) throw invalid(`id ${JSON.stringify(id)} is already used at [${first}]`, [...path, 'id']);
    seen.set(id, i);
    const trigger = given(item, 'trigger');
    if (trigger !== undefined && trigger !== 'cron') {
      throw invalid(`only "cron" triggers are supported, ${got(trigger)}`, [...path, 'trigger']);
    }
    const enabledRaw = given(item, 'enabled');
    const enabled = enabledRaw === undefined ? true : at([...path, 'enabled'], () => readBoolean(enabledRaw));
    const fullRaw = given(item, 'full');
    // The seed's "weekly_full_backup" and "daily_full_check" say what they are in their ids.
    const full = fullRaw === undefined ? /full/i.test(id) : at([...path, 'full'], () => readBoolean(fullRaw));
    const cron: Record<string, CronFieldValue> = {};
    for (const key of CRON_KEYS) {
      const raw = given(item, key);
      if (raw === undefined) continue;
      const camel = key === 'day_of_week' ? 'dayOfWeek' : key;
      cron[camel] = at([...path, key], () => readCronValue(raw));
    }
    try {
      checkCronFields(cron);
    } catch (err) {
      if (err instanceof CronFieldError) throw invalid(err.message, [...path, err.field]);
      throw err;
    }
    return { id, trigger: 'cron', enabled, full, ...cron };
  });
}

const ALERT_KEYS = ['enabled', 'thresholds'];
const THRESHOLD_KEYS = ['error_rate', 'memory_usage', 'duration'];
const RULE_KEYS = ['name', 'condition', 'action', 'recipients'];
/** The metrics a rule's condition may test: the seed's three. duration is in seconds. */
export const ALERT_METRICS = ['error_rate', 'memory_usage', 'duration'] as const;

export const DEFAULT_THRESHOLDS = { error_rate: 0.05, memory_usage: 0.8, duration: 3600 } as const;

function readCondition(value: unknown): Pick<AlertRuleConfig, 'condition' | 'metric' | 'operator' | 'value'> {
  const condition = readString(value);
  const m = /^\s*([a-z_]+)\s*(>=|<=|==|!=|>|<)\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*$/.exec(condition);
  if (m === null) throw invalid(`must read "<metric> <operator> <number>", e.g. "error_rate > 0.05", ${got(condition)}`);
  const [, metric = '', operator, number] = m;
  if (!(ALERT_METRICS as readonly string[]).includes(metric)) {
    throw invalid(`unknown metric ${JSON.stringify(metric)} (known: ${ALERT_METRICS.join(', ')})`);
  }
  return { condition, metric, operator: operator as AlertOperator, value: Number(number) };
}

export function readAlerts(value: unknown): AlertsConfig {
  if (Array.isArray(value)) {
    const items = readListOfMappings(value, 'alert rules');
    const seen = new Set<string>();
    const rules = items.map((item, i): AlertRuleConfig => {
      const path = [i];
      checkKeys(item, RULE_KEYS, path);
      const name = at([...path, 'name'], () => readString(given(item, 'name')));
      if (seen.has(name)) throw invalid(`rule ${JSON.stringify(name)} is defined twice`, [...path, 'name']);
      seen.add(name);
      const condition = at([...path, 'condition'], () => readCondition(given(item, 'condition')));
      const action = at([...path, 'action'], () => readString(given(item, 'action')));
      const rawRecipients = given(item, 'recipients');
      const recipients = rawRecipients === undefined ? undefined : at([...path, 'recipients'], () => readStringList(rawRecipients));
      if (action === 'email' && (recipients === undefined || recipients.length === 0)) {
        throw invalid('an "email" action needs recipients', [...path, 'recipients']);
      }
      return { name, ...condition, action, ...(recipients === undefined ? {} : { recipients }) };
    });
    return { kind: 'rules', rules };
  }
  if (value === null || value === undefined) value = {};
  if (!isMapping(value)) {
    throw invalid(`must be a mapping {enabled, thresholds} or a list of rules {name, condition, action}, ${got(value)}`);
  }
  const alerts = value;
  checkKeys(alerts, ALERT_KEYS, []);
  const enabledRaw = given(alerts, 'enabled');
  const enabled = enabledRaw === undefined ? false : at(['enabled'], () => readBoolean(enabledRaw));
  const rawThresholds = given(alerts, 'thresholds') ?? {};
  if (!isMapping(rawThresholds)) throw invalid(`must be a mapping, ${got(rawThresholds)}`, ['thresholds']);
  checkKeys(rawThresholds, THRESHOLD_KEYS, ['thresholds']);
  const pick = (key: keyof typeof DEFAULT_THRESHOLDS): unknown => given(rawThresholds, key) ?? DEFAULT_THRESHOLDS[key];
  const errorRate = at(['thresholds', 'error_rate'], () => readNumber(pick('error_rate'), { min: 0, max: 1 }));
  const memoryUsage = at(['thresholds', 'memory_usage'], () => readNumber(pick('memory_usage'), { min: 0, max: 1 }));
  const duration = at(['thresholds', 'duration'], () => readNumber(pick('duration'), { min: 0, above: 0 }));
  return { kind: 'thresholds', enabled, thresholds: { errorRate, memoryUsage, durationMs: Math.round(duration * 1000) } };
}
