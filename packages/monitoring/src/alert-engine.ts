import type { AlertOperator, AlertsConfig } from '@influx-backup/config';

/**
 * What a rule does when it starts and when it is resolved, besides the WARNING
 * line every alert gets: `notify` (the thresholds form) sends by every channel
 * monitoring.notify configures; `email` and `notification` by one;
 * `reduce_workers` halves the process's concurrency while the alert holds.
 */
export type AlertAction = 'notify' | 'email' | 'notification' | 'reduce_workers' | 'log';

/** One rule, whichever of the seed's two forms it came from. */
export interface AlertRule {
  readonly name: string;
  readonly metric: string;
  readonly operator: AlertOperator;
  readonly threshold: number;
  readonly actions: readonly AlertAction[];
  /** Who an `email` rule writes to (the thresholds form: monitoring.notify.email.to). */
  readonly recipients?: readonly string[];
}

/** The values of the metrics a process can see now; a rule on a metric missing here keeps its state. */
export type AlertSample = Readonly<Partial<Record<string, number>>>;

export interface AlertEvent {
  readonly rule: AlertRule;
  readonly state: 'firing' | 'resolved';
  readonly value: number;
  /** With several sources: the one whose run gave the value. */
  readonly source?: string;
}

/**
 * Metrics of one process (its own memory): tested by `run` and by each worker.
 * Every other metric is of the cluster's newest run: tested by `run` for its
 * own run and by the planner for whatever run is newest.
 */
export const PROCESS_METRICS: ReadonlySet<string> = new Set(['memory_usage']);

/** Both forms as one list. The thresholds form's rules have the seed's names. */
export function alertRules(alerts: AlertsConfig | undefined): AlertRule[] {
  if (!alerts) return [];
  if (alerts.kind === 'rules') {
    return alerts.rules.map((r) => ({
      name: r.name,
      metric: r.metric,
      operator: r.operator,
      threshold: r.value,
      actions: [r.action],
      ...(r.recipients ? { recipients: r.recipients } : {}),
    }));
  }
  if (!alerts.enabled) return [];
  const t = alerts.thresholds;
  return [
    { name: 'high_error_rate', metric: 'error_rate', operator: '>', threshold: t.errorRate, actions: ['notify'] },
    { name: 'memory_pressure', metric: 'memory_usage', operator: '>', threshold: t.memoryUsage, actions: ['reduce_workers', 'notify'] },
    { name: 'long_running_job', metric: 'duration', operator: '>', threshold: t.durationMs / 1000, actions: ['notify'] },
  ];
}

export function holds(value: number, operator: AlertOperator, threshold: number): boolean {
  switch (operator) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/**
 * The alerts that start or end with this sample, given the ones firing before:
 * a rule is reported once when its condition starts to hold and once when it
 * stops, never on each check in between.
 */
export function alertTransitions(rules: readonly AlertRule[], sample: AlertSample, firing: ReadonlySet<string>): AlertEvent[] {
  const out: AlertEvent[] = [];
  for (const rule of rules) {
    const value = sample[rule.metric];
    if (value === undefined || !Number.isFinite(value)) continue;
    const now = holds(value, rule.operator, rule.threshold);
    if (now !== firing.has(rule.name)) out.push({ rule, state: now ? 'firing' : 'resolved', value });
  }
  return out;
}

/** The one line an alert is logged and sent with. */
export function alertText(e: AlertEvent, appName: string): string {
  const { rule } = e;
  const value = Number.isInteger(e.value) ? String(e.value) : e.value.toFixed(4).replace(/0+$/, '');
  const what = `${rule.metric} ${value} ${e.state === 'firing' ? '' : 'no longer '}${rule.operator} ${rule.threshold}`;
  return `[${appName}] alert ${rule.name} ${e.state}${e.source === undefined ? '' : ` (source ${e.source})`}: ${what}`;
}
