import { randomUUID } from 'node:crypto';
import type { AlertsConfig, NotifyConfig } from '@influx-backup/config';
import type { Logger } from '@influx-backup/core';
import type { AlertState } from '@influx-backup/queue';
import {
  alertRules,
  alertText,
  alertTransitions,
  PROCESS_METRICS,
  type AlertEvent,
  type AlertRule,
  type AlertSample,
} from './alert-engine.js';
import { Notifier } from './notifier.js';
import { sampleRun, type RunSources } from './run-metrics.js';

export interface AlertMonitor {
  /** Checks the rules now (the timer does so every monitoring.metrics.interval); the transitions it acted on. */
  check(): Promise<AlertEvent[]>;
  /** Stops checking and waits (at most `flushMs`) for the notifications queued to go out. */
  stop(flushMs?: number): Promise<void>;
}

export interface AlertMonitorOptions {
  rules: readonly AlertRule[];
  sample: () => AlertSample | Promise<AlertSample>;
  /** The source a metric of the last sample came from (several sources), named in the alert. */
  origin?: (metric: string) => string | undefined;
  notifier: Notifier;
  logger: Logger;
  appName: string;
  intervalMs: number;
  /** reduce_workers: true when the first such alert starts, false when the last one ends. */
  onReduce?: (held: boolean) => void;
  /**
   * Cluster-wide alerts: the firing state lives in Redis and only the holder of
   * the alerts lease checks, so two planners send each alert once.
   */
  shared?: SharedAlerts;
}

/**
 * Checks alert rules on a timer: each alert is logged at WARNING and sent once
 * when it starts and once when it ends. A check that cannot read its metrics is
 * logged (once per distinct reason) and skipped; nothing here throws into the
 * caller's work.
 */
export function startAlertMonitor(o: AlertMonitorOptions): AlertMonitor {
  const firing = new Set<string>();
  const reducing = new Set<string>();
  let inFlight: Promise<AlertEvent[]> | undefined;
  let lastError = '';

  const act = async (events: AlertEvent[]): Promise<AlertEvent[]> => {
    const acted: AlertEvent[] = [];
    for (const e of events) {
      const { rule } = e;
      const detail = { value: e.value, at: new Date().toISOString() };
      if (o.shared && !(await o.shared.alerts.record(o.shared.holder, rule.name, e.state, detail))) continue;
      acted.push(e);
      const text = alertText(e, o.appName);
      const source = e.source === undefined ? {} : { source: e.source };
      o.logger.warn(text, { alert: rule.name, state: e.state, metric: rule.metric, value: e.value, threshold: rule.threshold, ...source });
      if (e.state === 'firing') firing.add(rule.name);
      else firing.delete(rule.name);
      if (rule.actions.includes('reduce_workers')) {
        const before = reducing.size;
        if (e.state === 'firing') reducing.add(rule.name);
        else reducing.delete(rule.name);
        if ((before === 0) !== (reducing.size === 0)) o.onReduce?.(reducing.size > 0);
      }
      const n = { alert: rule.name, state: e.state, metric: rule.metric, value: e.value, threshold: rule.threshold, ...source, text };
      o.notifier.send(n, o.notifier.delivery(rule.actions, rule.recipients));
    }
    return acted;
  };

  const once = async (): Promise<AlertEvent[]> => {
    try {
      if (o.shared && !(await o.shared.alerts.lease(o.shared.holder, o.intervalMs * 3 + 5_000))) return [];
      const sample = await o.sample();
      const before = o.shared ? await o.shared.alerts.firing() : firing;
      const events = alertTransitions(o.rules, sample, before).map((e) => {
        const source = o.origin?.(e.rule.metric);
        return source === undefined ? e : { ...e, source };
      });
      const acted = await act(events);
      o.logger.debug(`alerts: checked ${o.rules.length} rules`, { firing: [...before].join(' ') });
      lastError = '';
      return acted;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== lastError) o.logger.warn(`alerts: cannot check the rules now: ${message}`);
      lastError = message;
      return [];
    }
  };
  const check = (): Promise<AlertEvent[]> => (inFlight ??= once().finally(() => (inFlight = undefined)));

  const timer = setInterval(() => void check(), o.intervalMs);
  timer.unref();
  return {
    check,
    async stop(flushMs = 30_000) {
      clearInterval(timer);
      await inFlight;
      // Hand the cluster's alerts to another planner now rather than when the lease lapses.
      if (o.shared) await o.shared.alerts.release(o.shared.holder).catch(() => undefined);
      await o.notifier.flush(flushMs);
    },
  };
}

/**
 * Cluster-wide alerts: the firing state lives in Redis and only the holder of the
 * alerts lease checks, so two planners, or a planner and a `run`, send each alert
 * once. `holder` names this process (unique per monitor).
 */
export interface SharedAlerts {
  readonly alerts: Pick<AlertState, 'lease' | 'release' | 'firing' | 'record'>;
  readonly holder: string;
}

/** The cluster's alerts under the lease, as one holder of them: `processId` (host-pid) and a random part. */
export function sharedAlerts(alerts: SharedAlerts['alerts'], processId: string): SharedAlerts {
  return { alerts, holder: `${processId}-${randomUUID().slice(0, 8)}` };
}

/** Where rules are checked: on the process's own memory (each worker, and `run`), or on the cluster's runs (`run`, the planner). */
export type AlertScope = 'process' | 'cluster';

/** The configured rules (monitoring.alerts) on the metrics a scope sees. */
export function rulesFor(alerts: AlertsConfig, scope: AlertScope): AlertRule[] {
  return alertRules(alerts).filter((r) => PROCESS_METRICS.has(r.metric) === (scope === 'process'));
}

/** memory_usage: this process's resident memory over processing.worker_memory_limit. */
export function processSample(memoryLimitMb: number): AlertSample {
  return { memory_usage: process.memoryUsage.rss() / (memoryLimitMb * 1048576) };
}

/** What cluster-wide rules read: the runs' metrics, and each configured source's newest run by its name. */
export interface ClusterSources extends RunSources {
  readonly newestBySource: () => Promise<ReadonlyMap<string, string>>;
  /** With several sources an alert names the source whose run gave its value. */
  readonly several: boolean;
}

/**
 * What cluster-wide rules test: the metrics of the runs given by source name, or,
 * with none given, of each configured source's newest run (what the planner
 * watches). With several runs, each metric is the worst of theirs by the rules that
 * test it (the highest for `>`, the lowest for `<`), so a rule fires when any
 * source's run crosses it, and `origin` names that source (several sources only).
 */
export function clusterSampler(
  from: ClusterSources,
  rules: readonly AlertRule[],
  runs?: ReadonlyMap<string, string>,
): Pick<AlertMonitorOptions, 'sample' | 'origin'> {
  const low = new Set(rules.filter((r) => r.operator.startsWith('<')).map((r) => r.metric));
  let origins = new Map<string, string>();
  return {
    async sample() {
      const byName = runs ?? (await from.newestBySource());
      const out: Record<string, number> = {};
      const origin = new Map<string, string>();
      if (byName.size === 0) return runSample(from);
      for (const [name, run] of byName) {
        for (const [metric, value] of Object.entries(await runSample(from, run))) {
          if (value === undefined) continue;
          const seen = out[metric];
          if (seen === undefined || (low.has(metric) ? value < seen : value > seen)) {
            out[metric] = value;
            origin.set(metric, name);
          }
        }
      }
      origins = origin;
      return out;
    },
    origin: (metric) => (from.several ? origins.get(metric) : undefined),
  };
}

async function runSample(from: RunSources, run?: string): Promise<AlertSample> {
  const { block, duration, attempts } = await sampleRun(from, run);
  // Before a run's first attempt ends its rates say nothing: their alerts keep their state.
  const rates =
    attempts === 0
      ? {}
      : {
          error_rate: block.quality.error_rate,
          ...(block.quality.success_rate === null ? {} : { success_rate: block.quality.success_rate }),
        };
  return {
    ...rates,
    retry_count: block.quality.retry_count,
    queue_size: block.performance.queue_size,
    records_per_second: block.performance.records_per_second,
    duration,
  };
}

/** What a monitor is given besides its rules: where alerts go, who logs them, how often to check. */
export interface MonitorSettings {
  readonly notify: NotifyConfig;
  readonly logger: Logger;
  readonly appName: string;
  readonly intervalMs: number;
}

/** A monitor of `rules` with these settings; undefined when there is nothing to check. */
export function monitorAlerts(
  settings: MonitorSettings,
  rules: readonly AlertRule[],
  opts: Pick<AlertMonitorOptions, 'sample' | 'origin' | 'onReduce' | 'shared'>,
): AlertMonitor | undefined {
  if (rules.length === 0) return undefined;
  const logger = settings.logger.child({ component: 'alerts' });
  // The original design's own list form names e-mail rules without a server: they are logged, and said so once.
  const { webhookUrl, email } = settings.notify;
  for (const r of rules) {
    if (r.actions.includes('email') && !email.host)
      logger.warn(`alert rule ${r.name} sends e-mail, but monitoring.notify.email.host is not set: it is only logged`);
    if (r.actions.includes('notification') && !webhookUrl)
      logger.warn(`alert rule ${r.name} posts to a webhook, but monitoring.notify.webhook_url is not set: it is only logged`);
  }
  return startAlertMonitor({
    ...opts,
    rules,
    notifier: new Notifier(settings.notify, logger),
    logger,
    appName: settings.appName,
    intervalMs: settings.intervalMs,
  });
}
