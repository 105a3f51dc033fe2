import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { PassRecord } from '@influx-backup/queue';
import type { StatusReport } from '@influx-backup/runtime';

/** What a field's series are labelled with: its source, policy, measurement and name. */
type FieldIdentity = Pick<
  StatusReport['checkpoints'][number],
  'measurement' | 'field' | 'retentionPolicy' | 'database' | 'sourceName' | 'source'
>;

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event loop, GC); on by default. */
  defaultMetrics?: boolean;
  /** Clock for the ages, for tests. */
  now?: () => number;
  /** Called when the status cannot be read at scrape time (the scrape still answers). */
  onError?: (err: Error) => void;
}

// The label sets, each written once here: a field's series carry these. source: the configured source's name
// (host:port for a checkpoint of no configured source); server: its host:port.
const CHECKPOINT_LABELS = ['measurement', 'field', 'retention_policy', 'database', 'source', 'server'] as const;
const WORKER_LABELS = ['worker', 'host'] as const;

/** An age in seconds to the millisecond: a scrape's clock is not finer, and 419.437 reads better than 419.43699979782104. */
function age(secs: number): number {
  return Math.round(secs * 1000) / 1000;
}

function seconds(iso: unknown): number | undefined {
  if (typeof iso !== 'string') return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

/**
 * A registry of its own (never prom-client's global one) whose gauges are filled at
 * scrape time from one status report: every gauge's collect() awaits the same
 * in-flight read, so a scrape costs one round of Redis reads, not one per gauge.
 */
export function createMetricsRegistry(status: () => Promise<StatusReport>, options: MetricsOptions = {}): Registry {
  const registry = new Registry();
  const now = options.now ?? Date.now;
  let inFlight: Promise<StatusReport | undefined> | undefined;
  const snapshot = (): Promise<StatusReport | undefined> => {
    inFlight ??= status()
      .catch((err: unknown) => {
        options.onError?.(err instanceof Error ? err : new Error(String(err)));
        return undefined;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  const registers = [registry];

  new Gauge({
    name: 'influx_backup_redis_up',
    help: '1 when the status could be read from Redis at this scrape, 0 otherwise',
    registers,
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });

  new Gauge({
    name: 'influx_backup_jobs',
    help: 'Jobs per queue (copy, schedule) and state',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      this.reset();
      const s = await snapshot();
      if (!s) return;
      for (const [queue, counts] of Object.entries(s.queues)) {
        for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
      }
    },
  });

  const checkpointLabels = (c: FieldIdentity): Record<(typeof CHECKPOINT_LABELS)[number], string> => ({
    measurement: c.measurement,
    field: c.field,
    // An older version's checkpoint not yet adopted by a plan is the default policy's.
    retention_policy: c.retentionPolicy ?? '',
    database: c.database,
    source: c.sourceName ?? c.source,
    server: c.source,
  });

  new Gauge({
    name: 'influx_backup_checkpoint_timestamp_seconds',
    help: "Time of the field's checkpoint: its newest value in the backup with every older one",
    labelNames: CHECKPOINT_LABELS,
    registers,
    async collect() {
      this.reset();
      for (const c of (await snapshot())?.checkpoints ?? []) {
        this.set(checkpointLabels(c), Number(BigInt(c.checkpointNs)) / 1e9);
      }
    },
  });

  new Gauge({
    name: 'influx_backup_checkpoint_age_seconds',
    help: "Seconds from the field's checkpoint to now: how far the backup of the field lags",
    labelNames: CHECKPOINT_LABELS,
    registers,
    async collect() {
      this.reset();
      const t = now() / 1000;
      for (const c of (await snapshot())?.checkpoints ?? []) {
        this.set(checkpointLabels(c), age(t - Number(BigInt(c.checkpointNs)) / 1e9));
      }
    },
  });

  new Gauge({
    name: 'influx_backup_checkpoint_behind_source_seconds',
    help: "Seconds from the field's checkpoint to the source's newest value of it as the last plan found it: 0 when the backup holds all the source had (however old), unlike the age",
    labelNames: CHECKPOINT_LABELS,
    registers,
    async collect() {
      this.reset();
      for (const c of (await snapshot())?.checkpoints ?? []) {
        if (c.behindSourceSeconds !== null) this.set(checkpointLabels(c), age(c.behindSourceSeconds));
      }
    },
  });

  // Per field, a time the status report keeps as ISO text (a field without one has no series).
  const fieldTime = (name: string, help: string, key: 'updatedAt' | 'lastSuccessAt'): void => {
    new Gauge({
      name,
      help,
      labelNames: CHECKPOINT_LABELS,
      registers,
      async collect() {
        this.reset();
        for (const c of (await snapshot())?.checkpoints ?? []) {
          const at = seconds(c[key]);
          if (at !== undefined) this.set(checkpointLabels(c), at);
        }
      },
    });
  };
  fieldTime('influx_backup_checkpoint_updated_timestamp_seconds', "When the field's checkpoint last moved", 'updatedAt');
  fieldTime(
    'influx_backup_field_last_success_timestamp_seconds',
    'When a chunk of the field was last copied (moved its checkpoint or not)',
    'lastSuccessAt',
  );

  // Counters kept in Redis by the workers (once per chunk, whatever the retries), so they
  // cover every host and survive a dashboard restart; they never go down. Per source;
  // source="" is what was counted before they were (Prometheus reads an empty label
  // as none: the series these counters were then, which stops growing).
  const total = (name: string, help: string, key: keyof StatusReport['totals']): void => {
    new Counter({
      name,
      help,
      labelNames: ['source'] as const,
      registers,
      async collect() {
        const s = await snapshot();
        if (!s) return;
        this.reset();
        for (const t of s.totalsBySource) this.inc({ source: t.source }, t[key]);
      },
    });
  };
  total('influx_backup_values_copied_total', 'Values copied into the backup', 'values');
  total('influx_backup_chunks_done_total', 'Chunks copied', 'done');
  total('influx_backup_chunks_failed_total', 'Chunks that failed for good', 'failed');
  total('influx_backup_chunk_retries_total', 'Failed chunk attempts that were tried again', 'retried');

  // What repair passes (verify --repair, scheduled checks) compared, found and copied, per source, kept in Redis as the
  // totals above. A chunk is one field's chunk of the time_chunks.size grid.
  const repairTotal = (name: string, help: string, key: 'compared' | 'different' | 'repaired'): void => {
    new Counter({
      name,
      help,
      labelNames: ['source'] as const,
      registers,
      async collect() {
        const s = await snapshot();
        if (!s) return;
        this.reset();
        for (const t of s.repairTotalsBySource) this.inc({ source: t.source }, t[key]);
      },
    });
  };
  repairTotal(
    'influx_backup_repair_chunks_compared_total',
    "Chunks repair passes compared on both servers (one field's chunk each)",
    'compared',
  );
  repairTotal(
    'influx_backup_repair_chunks_different_total',
    'Chunks repair passes found the backup lacking or differing in, and copied again',
    'different',
  );
  repairTotal('influx_backup_repair_values_total', 'Values written by repair chunks (a chunk is copied again whole)', 'repaired');

  new Gauge({
    name: 'influx_backup_field_last_verified_timestamp_seconds',
    help: 'When a repair pass (verify --repair, a scheduled check) last compared the field on both servers',
    labelNames: CHECKPOINT_LABELS,
    registers,
    async collect() {
      this.reset();
      for (const v of (await snapshot())?.verifications ?? []) {
        const at = seconds(v.at);
        if (at !== undefined) this.set(checkpointLabels(v), at);
      }
    },
  });

  new Gauge({
    name: 'influx_backup_workers_seen',
    help: 'Worker processes recorded in Redis',
    registers,
    async collect() {
      this.reset();
      const s = await snapshot();
      if (s) this.set(s.workers.length);
    },
  });

  new Gauge({
    name: 'influx_backup_worker_last_seen_age_seconds',
    help: "Seconds since the worker's last heartbeat",
    labelNames: WORKER_LABELS,
    registers,
    async collect() {
      this.reset();
      const t = now() / 1000;
      for (const w of (await snapshot())?.workers ?? []) {
        const seen = seconds(w.lastSeen);
        if (seen !== undefined) this.set({ worker: w.id, host: w.host }, age(Math.max(0, t - seen)));
      }
    },
  });

  new Gauge({
    name: 'influx_backup_worker_jobs',
    help: 'Jobs the worker finished since it started, by result (done, failed)',
    labelNames: [...WORKER_LABELS, 'result'] as const,
    registers,
    async collect() {
      this.reset();
      for (const w of (await snapshot())?.workers ?? []) {
        this.set({ worker: w.id, host: w.host, result: 'done' }, w.jobsDone);
        this.set({ worker: w.id, host: w.host, result: 'failed' }, w.jobsFailed);
      }
    },
  });

  const lastRunGauge = (name: string, help: string, value: (r: PassRecord) => number | undefined): void => {
    // Labelled by mode (run, plan, backfill) so that "no run yet" is no sample
    // rather than an unlabelled gauge's 0, which would read as a failed run.
    new Gauge({
      name,
      help,
      labelNames: ['mode'] as const,
      registers,
      async collect() {
        this.reset();
        const r = (await snapshot())?.lastRun;
        const v = r ? value(r) : undefined;
        if (r && v !== undefined && Number.isFinite(v)) this.set({ mode: r.mode }, v);
      },
    });
  };
  lastRunGauge('influx_backup_last_run_ok', '1 when the last run, plan or backfill finished without a failed chunk', (r) =>
    typeof r.ok === 'boolean' ? Number(r.ok) : undefined,
  );
  lastRunGauge('influx_backup_last_run_values', 'Values copied by the last run', (r) => r.values);
  lastRunGauge('influx_backup_last_run_failed_chunks', 'Chunks of the last run that failed for good', (r) => r.failed);
  lastRunGauge('influx_backup_last_run_duration_seconds', 'How long the last run took', (r) => {
    const start = seconds(r.startedAt);
    const end = seconds(r.finishedAt);
    return start !== undefined && end !== undefined ? end - start : undefined;
  });
  lastRunGauge('influx_backup_last_run_timestamp_seconds', 'When the last run finished', (r) => seconds(r.finishedAt));

  new Gauge({
    name: 'influx_backup_schedule_next_timestamp_seconds',
    help: 'Next tick of each cron schedule',
    labelNames: ['schedule'] as const,
    registers,
    async collect() {
      this.reset();
      for (const s of (await snapshot())?.schedules ?? []) {
        const next = seconds(s.next);
        if (next !== undefined) this.set({ schedule: s.id }, next);
      }
    },
  });

  // The cluster-wide alerts firing now: one series per rule, source and kind of run, gone once resolved.
  const alertGauge = (name: string, help: string, value: (a: StatusReport['alerts'][number]) => number | undefined): void => {
    new Gauge({
      name,
      help,
      labelNames: ['alert', 'source', 'kind'] as const,
      registers,
      async collect() {
        this.reset();
        for (const a of (await snapshot())?.alerts ?? []) {
          const v = value(a);
          if (v !== undefined) this.set({ alert: a.alert, source: a.source, kind: a.kind }, v);
        }
      },
    });
  };
  alertGauge('influx_backup_alert_firing', 'Alerts firing now (influx-backup checks monitoring.alerts itself): 1 each', () => 1);
  alertGauge('influx_backup_alert_firing_since_timestamp_seconds', 'When the alert firing now started', (a) => seconds(a.since));

  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}
