// monitoring.alerts: the seed's two forms of alert rules (thresholds, or a list of rules),
// and repeat_interval, read into one typed value (schema.ts takes it as one leaf).

import { parseDuration } from './duration.js';
import * as f from './formats.js';
import { fail, got, invalid, isMapping } from './issues.js';
import { leaf, list, optional, readSection, section, showSection, type Format, type TypeOf } from './nodes.js';

const fraction = f.number({ min: 0, max: 1 });
const positiveSeconds = f.seconds({ above: 0 });

/** The metrics a rule's condition may test: the seed's three (duration in seconds), then the metrics block's. */
export const ALERT_METRICS = [
  'error_rate',
  'memory_usage',
  'duration',
  'retry_count',
  'success_rate',
  'queue_size',
  'records_per_second',
] as const;
export const ALERT_ACTIONS = ['email', 'notification', 'reduce_workers', 'log'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];
export type AlertOperator = '>' | '>=' | '<' | '<=' | '==' | '!=';
const CONDITION = /^\s*([a-z_]+)\s*(>=|<=|==|!=|>|<)\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*$/;

const rule = section(
  {
    name: leaf(f.text),
    condition: leaf({
      read(value, ctx) {
        const condition = f.text.read(value, ctx);
        const [, metric = '', operator, number] = CONDITION.exec(condition) ?? [];
        if (operator === undefined) {
          throw invalid(`must read "<metric> <operator> <number>", e.g. "error_rate > 0.05", ${got(condition)}`);
        }
        if (!(ALERT_METRICS as readonly string[]).includes(metric)) {
          throw invalid(`unknown metric ${JSON.stringify(metric)} (known: ${ALERT_METRICS.join(', ')})`);
        }
        return { condition, metric, operator: operator as AlertOperator, value: Number(number) };
      },
    }),
    action: leaf<AlertAction>({
      read: (v) =>
        ALERT_ACTIONS.includes(v as AlertAction) ? (v as AlertAction) : fail(`must be one of ${ALERT_ACTIONS.join(', ')}, ${got(v)}`),
    }),
    recipients: optional(f.stringList),
  },
  // The rule keeps the condition as written under `condition`, which is what prints.
  ({ condition, ...rule }) => {
    if (rule.action === 'email' && !rule.recipients?.length) throw invalid('an "email" action needs recipients', ['recipients']);
    return { ...rule, ...condition };
  },
);
const rules = list(rule, 'alert rule', { unique: ['name', (name) => `rule ${JSON.stringify(name)} is defined twice`] });

// Alertmanager's repeat_interval and its default: an alert that stays firing is sent again this often.
const REPEAT_INTERVAL = '4h';
const REPEAT_INTERVAL_MS = parseDuration(REPEAT_INTERVAL);
const repeatIntervalMs = leaf(f.duration, {
  doc: 'How often an alert that stays firing is sent again; "0": never.',
  default: REPEAT_INTERVAL,
});

const thresholds = section(
  {
    enabled: leaf(f.boolean, { default: false }),
    thresholds: section({
      errorRate: leaf(fraction, { doc: 'Fraction of failed jobs.', default: 0.05 }),
      memoryUsage: leaf(fraction, { doc: 'Fraction of the worker memory limit.', default: 0.8 }),
      durationMs: leaf(positiveSeconds, { doc: 'Seconds a run may take.', default: 3600 }),
    }),
    repeatIntervalMs,
  },
  (alerts) => ({ kind: 'thresholds' as const, ...alerts }),
);

/** The list form with its settings: `{repeat_interval, rules: [...]}` (a bare list takes the defaults). */
const ruleList = section({ repeatIntervalMs, rules: leaf(rules, { default: [] }) }, (alerts) => ({ kind: 'rules' as const, ...alerts }));

type Alerts = TypeOf<typeof thresholds> | TypeOf<typeof ruleList>;

/**
 * The seed's two forms: `{enabled, thresholds}` or a list of rules `[{name, condition, action, recipients}]`;
 * `{repeat_interval, rules}` is the list form with a repeat_interval (a list has no room for it).
 */
export const alerts: Format<Alerts> = {
  read(value, ctx) {
    if (Array.isArray(value)) return { kind: 'rules', rules: rules.read(value, ctx), repeatIntervalMs: REPEAT_INTERVAL_MS };
    if (isMapping(value) && 'rules' in value) return readSection(ruleList, value, ctx);
    if (value === null || value === undefined || isMapping(value)) return readSection(thresholds, value, ctx);
    throw invalid(
      `must be a mapping {enabled, thresholds, repeat_interval}, a list of rules {name, condition, action} or {repeat_interval, rules}, ${got(value)}`,
    );
  },
  show(a, secrets) {
    if (a.kind === 'thresholds') return showSection(thresholds, a, secrets);
    // As written in the seed's form while it can be.
    return a.repeatIntervalMs === REPEAT_INTERVAL_MS ? rules.show?.(a.rules, secrets) : showSection(ruleList, a, secrets);
  },
};
