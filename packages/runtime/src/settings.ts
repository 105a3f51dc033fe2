import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseTime, type BackupConfig, type SourceConfig } from '@influx-backup/config';
import type { SourcePolicies } from '@influx-backup/core';
import type { ClusterSources, MonitorSettings } from '@influx-backup/monitoring';
import type { MeasurementPlanConfig, PlanContext, ProcessorContext, RetryPolicy } from '@influx-backup/queue';
import type { Runtime, SourceRuntime } from './connections.js';
import { newestRunBySource, storedSourceName } from './sources.js';

export function retryPolicy(config: BackupConfig): RetryPolicy {
  return { ...config.backup.retry };
}

export function measurementPlans(source: SourceConfig): MeasurementPlanConfig[] {
  return source.measurements.map((m) => ({
    name: m.name,
    fields: m.fields,
    startNs: parseTime(m.startTime),
    endNs: m.endTime === undefined ? undefined : parseTime(m.endTime),
  }));
}

/** What a plan of one source needs: the configuration's settings and the source's policies to copy (from preflight or policiesToCopy). */
export function planContext(rt: Runtime, source: SourceRuntime, policies: SourcePolicies): PlanContext {
  const c = rt.config;
  return {
    retentionPolicies: policies.policies.map((p) => p.name),
    defaultPolicy: policies.defaultPolicy,
    source: source.client,
    ...(source.config.listed ? { sourceName: source.name } : {}),
    queue: rt.copyQueue,
    store: rt.store,
    sourceDb: source.config.database,
    backupDb: source.config.backupDatabase,
    measurements: measurementPlans(source.config),
    chunkSizeNs: BigInt(c.backup.timeChunks.sizeMs) * 1_000_000n,
    maxValues: c.backup.timeChunks.maxValues,
    fieldsPerJob: c.processing.fieldsPerJob === 'all' ? Number.POSITIVE_INFINITY : c.processing.fieldsPerJob,
    overlapNs: BigInt(c.backup.timeChunks.overlapMs) * 1_000_000n,
    retry: retryPolicy(c),
    logger: rt.logger,
    // What a repair compares with.
    backup: rt.backup,
    pieceRows: pieceRowsFor(c),
  };
}

/**
 * Rows per streamed piece of a source answer. A decoded row costs about 0.5 KB
 * with its line; every concurrent job holds one piece and two batches, and the
 * budget leaves most of processing.worker_memory_limit to Node itself.
 */
export function pieceRowsFor(config: BackupConfig): number {
  const { workerMemoryLimitMb, maxWorkers } = config.processing;
  const budget = Math.floor((workerMemoryLimitMb * 1024 * 1024 * 0.25) / maxWorkers / 512);
  return Math.max(500, Math.min(10_000, budget));
}

export function processorContext(rt: Runtime): ProcessorContext {
  const p = rt.config.processing;
  // A run of a listed source names it; a run of the single databases.source names none.
  const single = rt.sources.find((s) => !s.config.listed);
  return {
    ...(single ? { source: single.client } : {}),
    sources: new Map(rt.sources.filter((s) => s.config.listed).map((s) => [s.name, s.client])),
    backup: rt.backup,
    runs: rt.store.runs,
    describer: rt.describer,
    batchSize: p.batchSize,
    batchIntervalMs: p.batchIntervalMs,
    pieceRows: pieceRowsFor(rt.config),
    operationTimeoutMs: p.operationTimeoutMs,
    queue: rt.copyQueue,
    logger: rt.logger,
  };
}

let identity: { id: string; host: string; pid: number } | undefined;

/**
 * This process as status and Bull Board name it: host-pid. In a container the pid is the
 * container's own (often 1) and, with host networking, the host name is the host's: a
 * random part then keeps several worker containers on one host apart.
 */
export function workerIdentity(): { id: string; host: string; pid: number } {
  if (!identity) {
    const host = hostname();
    const contained = existsSync('/.dockerenv') || existsSync('/run/.containerenv');
    identity = { id: `${host}-${process.pid}${contained ? `-${randomBytes(3).toString('hex')}` : ''}`, host, pid: process.pid };
  }
  return identity;
}

/** What an alert monitor of this process needs of the configuration. */
export function monitorSettings(rt: Runtime): MonitorSettings {
  return {
    notify: rt.config.monitoring.notify,
    logger: rt.logger,
    appName: rt.config.appName,
    intervalMs: rt.config.monitoring.metrics.intervalMs,
    repeatMs: rt.config.monitoring.alerts.repeatIntervalMs,
  };
}

/** What cluster-wide alert rules read: the runs, the workers, the copy queue, the newest run of each configured source and kind. */
export function clusterSources(rt: Runtime): ClusterSources {
  return {
    runs: rt.store.runs,
    workers: rt.store.workers,
    queue: rt.copyQueue,
    newestRuns: () => newestRuns(rt),
  };
}

/**
 * The newest run of each configured source and kind, and each source's newest (a
 * run opened by a version that kept only that), once each: the runs whose alerts
 * the planner checks.
 */
async function newestRuns(rt: Runtime): Promise<string[]> {
  const configured = new Set(rt.sources.map(storedSourceName));
  const [byKind, bySource] = await Promise.all([rt.store.runs.newestByKind(), newestRunBySource(rt)]);
  return [...new Set([...byKind.filter((r) => configured.has(r.source)).map((r) => r.run), ...bySource.values()])];
}
