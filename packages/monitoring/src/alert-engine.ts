import { createHash } from 'node:crypto';
import type { AlertOperator, AlertsConfig } from '@influx-backup/config';
import type { FiringAlert } from '@influx-backup/queue';

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

/**
 * What one check looks at: the metrics of one run (the cluster-wide rules, each
 * source's and kind's runs), or of this process (its memory). An alert fires per
 * rule, source and kind.
 */
export interface AlertSubject {
  /** The run's source as stored ('' for the single databases.source; a process: ''). */
  readonly source: string;
  /** The run's kind: copy (run, plan, a scheduled tick), restore, repair, ...; a process: 'process'. */
  readonly kind: string;
  /** The run's id (named in the alert); absent: this process's own metrics. */
  readonly run?: string;
  /** When the run started (ms): only a run started after the one that fired can resolve it. */
  readonly startedAt: number;
  /** The run has ended: a later run's end below the threshold resolves its alert. */
  readonly ended: boolean;
  readonly values: AlertSample;
}

export interface AlertEvent {
  readonly rule: AlertRule;
  readonly state: 'firing' | 'resolved';
  /** A firing alert sent again (monitoring.alerts.repeat_interval), not a new crossing. */
  readonly repeat: boolean;
  readonly value: number;
  /** A source of databases.sources: the one whose run gave the value (the single databases.source is not named). */
  readonly source?: string;
  /** The run the alert is about: the one that crossed the rule, or (resolved) the one that ended below it. */
  readonly run?: string;
  readonly kind: string;
  /** When it started firing, and when this was decided (ms). */
  readonly since: number;
  readonly at: number;
}

/**
 * One change of what fires: the entry `key` goes from `before` to `after` (undefined:
 * none), and `event` is what is sent for it (none: the entry of a rule no longer
 * configured, dropped without a word to its receivers).
 */
export interface AlertDecision {
  readonly key: string;
  readonly before: FiringAlert | undefined;
  readonly after: FiringAlert | undefined;
  readonly event?: AlertEvent;
  /** Dropped: the rule of the entry is not among the rules checked (changed, or gone). */
  readonly dropped?: boolean;
}

/**
 * Metrics of one process (its own memory): tested by `run` and by each worker.
 * Every other metric is of the cluster's runs: tested by `run` for its own runs
 * and by the planner for each source's newest runs.
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
 * The rule as configured: its name and a digest of its condition, actions and
 * recipients. A rule changed in the file is another rule, and starts fresh.
 */
export function ruleId(rule: AlertRule): string {
  const what = JSON.stringify([rule.name, rule.metric, rule.operator, rule.threshold, rule.actions, rule.recipients ?? []]);
  return `${rule.name}#${createHash('sha256').update(what).digest('hex').slice(0, 12)}`;
}

/** Where a rule's state is kept for the runs of one source and kind. */
export function alertKey(rule: string, source: string, kind: string): string {
  return JSON.stringify([rule, source, kind]);
}

export interface AlertCheck {
  readonly rules: readonly AlertRule[];
  readonly subjects: readonly AlertSubject[];
  /** What fires now, by key (undefined: an entry that cannot be read, which is dropped). */
  readonly firing: ReadonlyMap<string, FiringAlert | undefined>;
  readonly now: number;
  /** monitoring.alerts.repeat_interval (ms); 0: never again. */
  readonly repeatMs: number;
}

/**
 * What a check changes, given what fires:
 * - a run that crosses a rule fires it, also when an earlier run's alert of that
 *   rule (same source and kind) still fires: each failing night is an alert;
 * - it is resolved once, when a run of the same source and kind started after the
 *   one that fired it ends below the threshold (a process's own metric: as soon as
 *   it drops below);
 * - an alert that stays firing is sent again once `repeatMs` has passed since it
 *   was last sent, never sooner;
 * - nothing else is sent, however many checks there are.
 */
export function decideAlerts(c: AlertCheck): AlertDecision[] {
  const out: AlertDecision[] = [];
  const decided = new Set<string>();
  const rules = new Map(c.rules.map((r) => [ruleId(r), r]));
  for (const [id, rule] of rules) {
    for (const s of c.subjects) {
      const value = s.values[rule.metric];
      if (value === undefined || !Number.isFinite(value)) continue;
      const key = alertKey(id, s.source, s.kind);
      const before = c.firing.get(key);
      const live = s.run === undefined;
      const later = !live && before !== undefined && s.run !== before.run && s.startedAt >= before.runStartedAt;
      const event = (state: AlertEvent['state'], since: number): AlertEvent => ({
        rule,
        state,
        repeat: false,
        value,
        ...(s.source === '' ? {} : { source: s.source }),
        ...(s.run === undefined ? {} : { run: s.run }),
        kind: s.kind,
        since,
        at: c.now,
      });
      if (holds(value, rule.operator, rule.threshold)) {
        if (before !== undefined && !later) continue;
        const since = before?.since ?? c.now;
        const after: FiringAlert = {
          rule: id,
          alert: rule.name,
          source: s.source,
          kind: s.kind,
          run: s.run ?? '',
          runStartedAt: s.startedAt,
          since,
          sentAt: c.now,
          metric: rule.metric,
          operator: rule.operator,
          threshold: rule.threshold,
          value,
        };
        out.push({ key, before, after, event: event('firing', since) });
        decided.add(key);
      } else if (before !== undefined && (live || (later && s.ended))) {
        out.push({ key, before, after: undefined, event: event('resolved', before.since) });
        decided.add(key);
      }
    }
  }
  for (const [key, before] of c.firing) {
    if (decided.has(key)) continue;
    const rule = before && rules.get(before.rule);
    if (!rule) {
      out.push({ key, before, after: undefined, dropped: true });
      continue;
    }
    if (c.repeatMs > 0 && c.now - before.sentAt >= c.repeatMs) {
      const event: AlertEvent = {
        rule,
        state: 'firing',
        repeat: true,
        value: before.value,
        ...(before.source === '' ? {} : { source: before.source }),
        ...(before.run === '' ? {} : { run: before.run }),
        kind: before.kind,
        since: before.since,
        at: c.now,
      };
      out.push({ key, before, after: { ...before, sentAt: c.now }, event });
    }
  }
  return out;
}

/** The one line an alert is logged and sent with. */
export function alertText(e: AlertEvent, appName: string): string {
  const { rule } = e;
  const value = Number.isInteger(e.value) ? String(e.value) : e.value.toFixed(4).replace(/0+$/, '');
  const state = e.state === 'resolved' ? 'resolved' : e.repeat ? `still firing since ${new Date(e.since).toISOString()}` : 'firing';
  const what = `${rule.metric} ${value} ${e.state === 'firing' ? '' : 'no longer '}${rule.operator} ${rule.threshold}`;
  const run = e.run === undefined ? '' : ` in run ${e.run}`;
  return `[${appName}] alert ${rule.name} ${state}${e.source === undefined ? '' : ` (source ${e.source})`}: ${what}${run}`;
}
