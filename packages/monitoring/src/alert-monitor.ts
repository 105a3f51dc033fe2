import { randomUUID } from 'node:crypto';
import type { AlertsConfig, NotifyConfig } from '@influx-backup/config';
import type { Logger } from '@influx-backup/core';
import type { AlertState, FiringAlert, StoredAlert } from '@influx-backup/queue';
import {
  alertRules,
  alertText,
  decideAlerts,
  PROCESS_METRICS,
  type AlertEvent,
  type AlertRule,
  type AlertSample,
  type AlertSubject,
} from './alert-engine.js';
import { Notifier } from './notifier.js';
import { sampleRuns, type RunSample, type RunSources } from './run-metrics.js';

export interface AlertMonitor {
  /** Checks the rules now (the timer does so every monitoring.metrics.interval); the alerts it sent. */
  check(): Promise<AlertEvent[]>;
  /** Stops checking and waits (at most `flushMs`) for the notifications queued to go out. */
  stop(flushMs?: number): Promise<void>;
}

export interface AlertMonitorOptions {
  rules: readonly AlertRule[];
  /** What to check: the runs (cluster-wide rules) or this process. */
  sample: () => readonly AlertSubject[] | Promise<readonly AlertSubject[]>;
  notifier: Notifier;
  logger: Logger;
  appName: string;
  intervalMs: number;
  /** monitoring.alerts.repeat_interval (ms); 0: an alert is sent once until it is resolved. */
  repeatMs: number;
  /** reduce_workers: true when the first such alert starts, false when the last one ends. */
  onReduce?: (held: boolean) => void;
  /**
   * Cluster-wide alerts: the firing state lives in Redis and only the holder of
   * the alerts lease checks, so two planners send each alert once.
   */
  shared?: SharedAlerts;
}

/** Where a monitor keeps what fires: Redis under the lease (shared), or this process's memory. */
interface FiringStore {
  now(): Promise<number>;
  read(): Promise<Map<string, StoredAlert>>;
  /** True when the entry was still `read` and is now `next`: this process sends it. */
  swap(key: string, read: string | undefined, next: FiringAlert | undefined): Promise<boolean>;
}

function memoryStore(): FiringStore {
  const entries = new Map<string, StoredAlert>();
  return {
    now: () => Promise.resolve(Date.now()),
    read: () => Promise.resolve(new Map(entries)),
    swap(key, read, next) {
      if (entries.get(key)?.raw !== read) return Promise.resolve(false);
      if (next) entries.set(key, { raw: JSON.stringify(next), alert: next });
      else entries.delete(key);
      return Promise.resolve(true);
    },
  };
}

function sharedStore({ alerts, holder }: SharedAlerts): FiringStore {
  return {
    now: () => alerts.now(),
    read: () => alerts.read(),
    swap: (key, read, next) => alerts.swap(holder, key, read, next),
  };
}

/**
 * Checks alert rules on a timer: each alert is logged at WARNING and sent when a run
 * crosses its rule, again every `repeatMs` while it stays firing, and once when it is
 * resolved (see decideAlerts). A check that cannot read its metrics is logged (once
 * per distinct reason) and skipped; nothing here throws into the caller's work.
 */
export function startAlertMonitor(o: AlertMonitorOptions): AlertMonitor {
  const store = o.shared ? sharedStore(o.shared) : memoryStore();
  const reducing = new Set<string>();
  let inFlight: Promise<AlertEvent[]> | undefined;
  let lastError = '';

  const act = (e: AlertEvent, key: string): void => {
    const { rule } = e;
    const text = alertText(e, o.appName);
    const source = e.source === undefined ? {} : { source: e.source };
    const run = e.run === undefined ? {} : { run: e.run };
    o.logger.warn(text, {
      alert: rule.name,
      state: e.state,
      metric: rule.metric,
      value: e.value,
      threshold: rule.threshold,
      ...source,
      ...run,
    });
    if (rule.actions.includes('reduce_workers') && !e.repeat) {
      const before = reducing.size;
      if (e.state === 'firing') reducing.add(key);
      else reducing.delete(key);
      if ((before === 0) !== (reducing.size === 0)) o.onReduce?.(reducing.size > 0);
    }
    const n = {
      alert: rule.name,
      state: e.state,
      metric: rule.metric,
      value: e.value,
      threshold: rule.threshold,
      ...source,
      ...run,
      kind: e.kind,
      since: new Date(e.since).toISOString(),
      at: new Date(e.at).toISOString(),
      repeat: e.repeat,
      text,
    };
    o.notifier.send(n, o.notifier.delivery(rule.actions, rule.recipients));
  };

  const once = async (): Promise<AlertEvent[]> => {
    try {
      if (o.shared && !(await o.shared.alerts.lease(o.shared.holder, o.intervalMs * 3 + 5_000))) return [];
      const subjects = await o.sample();
      const [now, stored] = await Promise.all([store.now(), store.read()]);
      const firing = new Map([...stored].map(([key, s]) => [key, s.alert]));
      const sent: AlertEvent[] = [];
      for (const d of decideAlerts({ rules: o.rules, subjects, firing, now, repeatMs: o.repeatMs })) {
        if (!(await store.swap(d.key, stored.get(d.key)?.raw, d.after))) continue;
        if (d.dropped) {
          const was = d.before
            ? `alert ${d.before.alert} (firing since ${new Date(d.before.since).toISOString()})`
            : `alert entry ${d.key}`;
          o.logger.info(`${was}: its rule is no longer configured as it was; it starts fresh`);
        }
        if (!d.event) continue;
        act(d.event, d.key);
        sent.push(d.event);
      }
      o.logger.debug(`alerts: checked ${o.rules.length} rules on ${subjects.length} runs`, { firing: firing.size });
      lastError = '';
      return sent;
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
  readonly alerts: Pick<AlertState, 'lease' | 'release' | 'now' | 'read' | 'swap'>;
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

/** memory_usage: this process's resident memory over processing.worker_memory_limit; it resolves as soon as it drops. */
export function processSubject(memoryLimitMb: number): AlertSubject {
  return {
    source: '',
    kind: 'process',
    startedAt: 0,
    ended: false,
    values: { memory_usage: process.memoryUsage.rss() / (memoryLimitMb * 1048576) },
  };
}

/** What cluster-wide rules read: the runs' metrics, and the newest run of each configured source and kind. */
export interface ClusterSources extends RunSources {
  /** Run keys: the newest of each configured source and kind. */
  readonly newestRuns: () => Promise<readonly string[]>;
}

/**
 * What cluster-wide rules test: the runs given (their run keys), or, with none
 * given, the newest run of each configured source and kind (what the planner
 * watches). Each run is checked on its own, so every source's and kind's runs
 * fire and resolve their own alerts. A run whose record is gone is left out.
 */
export function clusterSampler(from: ClusterSources, runs?: readonly string[]): () => Promise<AlertSubject[]> {
  return async () => {
    const keys = runs ?? (await from.newestRuns());
    const samples = await sampleRuns(from, keys);
    return samples.flatMap((s) => {
      const c = s.counters;
      if (!c.exists || c.startedAt === undefined) return [];
      return [
        {
          source: c.source ?? '',
          kind: c.kind ?? 'copy',
          run: c.runId ?? s.block.run ?? '',
          startedAt: c.startedAt,
          ended: c.finishedAt !== undefined,
          values: runValues(s),
        },
      ];
    });
  };
}

function runValues({ block, duration, attempts, counters }: RunSample): AlertSample {
  // Before a run's first attempt ends its rates say nothing: their alerts keep their state.
  // A run that ended without one (nothing to copy) failed nothing.
  const ended = counters.finishedAt !== undefined;
  const rates =
    attempts === 0
      ? ended
        ? { error_rate: 0 }
        : {}
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
  /** monitoring.alerts.repeat_interval (ms). */
  readonly repeatMs: number;
}

/** A monitor of `rules` with these settings; undefined when there is nothing to check. */
export function monitorAlerts(
  settings: MonitorSettings,
  rules: readonly AlertRule[],
  opts: Pick<AlertMonitorOptions, 'sample' | 'onReduce' | 'shared'>,
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
    repeatMs: settings.repeatMs,
  });
}
