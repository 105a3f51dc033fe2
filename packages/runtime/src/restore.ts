import type { InfluxClient } from '@influx-backup/influx';
import { prepareBackupTarget, sourcePolicies, type Logger, type SourcePolicies } from '@influx-backup/core';
import { UsageError } from '@influx-backup/errors';
import { type PlanContext, type PlanResult, type PlanSelection } from '@influx-backup/queue';
import type { Runtime, SourceRuntime } from './connections.js';
import type { PassSelection, SourcePart } from './pass.js';
import { planSource } from './pass.js';
import { backupDatabaseKey, onServer, reachDatabase, reachRedis, warnAboutRedis } from './preflight.js';
import { checkSelection } from './selection.js';
import { planContext } from './settings.js';
import { sourceRunId } from './sources.js';

/** Where a restore of one source reads and where it writes. */
export interface RestoreRoute {
  source: SourceRuntime;
  reader: InfluxClient;
  readDb: string;
  writer: InfluxClient;
  writeDb: string;
}

/**
 * The one place that decides which server and database a restore reads and
 * writes: the source's backup database on the backup server, into the source's
 * database (or `targetDb`) on the source's server. The run record carries the
 * direction and the source, so workers follow it without deciding again
 * (runServers).
 */
function restoreRoute(rt: Runtime, source: SourceRuntime, targetDb?: string): RestoreRoute {
  return {
    source,
    reader: rt.backup,
    readDb: source.config.backupDatabase,
    writer: source.client,
    writeDb: targetDb ?? source.config.database,
  };
}

/** Checks Redis once before the restores of one command. */
async function restoreRedisCheck(rt: Runtime): Promise<void> {
  await reachRedis(rt);
  await warnAboutRedis(rt);
}

/**
 * Checks both servers of a restore, and returns the backup's retention policies
 * to read (`wanted`, else the source's `retention_policies`, else all). It writes
 * nothing.
 */
async function restorePreflight(route: RestoreRoute, wanted?: readonly string[]): Promise<SourcePolicies> {
  await onServer(route.source.key, () => route.writer.ping());
  await reachDatabase('databases.backup', route.reader, route.readDb, backupDatabaseKey(route.source));
  const names = wanted?.length ? wanted : route.source.config.retentionPolicies;
  return onServer('databases.backup', () => sourcePolicies(route.reader, route.readDb, names));
}

/** Creates the database a restore writes when it is missing, with the backup's policies; changes nothing that exists. */
async function prepareRestoreTarget(rt: Runtime, route: RestoreRoute, policies: SourcePolicies): Promise<void> {
  await onServer(route.source.key, () =>
    prepareBackupTarget({
      backup: route.writer,
      backupDb: route.writeDb,
      source: policies,
      retention: 'source',
      logger: rt.logger,
      purpose: 'restore',
    }),
  );
}

/** A plan that reads the route's reader and writes its writer, with the configuration's chunking, grouping and retry. */
function restorePlanContext(rt: Runtime, route: RestoreRoute, policies: SourcePolicies): PlanContext {
  return { ...planContext(rt, route.source, policies), source: route.reader, sourceDb: route.readDb, backupDb: route.writeDb };
}

/** One source's restore, counted before anything is written: where it goes, and what the backup holds of the selection. */
export interface RestorePlan {
  readonly route: RestoreRoute;
  readonly preview: PlanResult;
  readonly planning: PlanContext;
  readonly wanted: PlanSelection;
  readonly policies: SourcePolicies;
}

export interface RestoreRequest {
  readonly id: string;
  readonly selection: PassSelection;
  readonly sources: readonly SourceRuntime[];
  /** --target-db: write into this database of the source server instead (one source only). */
  readonly targetDb?: string;
  /** Where each plan's own log line goes; default the runtime's logger. */
  readonly planLogger?: Logger;
}

/**
 * Checks Redis and both servers of each source's restore, and counts what the backup
 * holds of the selection, writing nothing: every source is checked and counted before
 * anything is written to any of them.
 */
export async function previewRestore(rt: Runtime, req: RestoreRequest): Promise<RestorePlan[]> {
  // One database name for several sources would write them all into it, each over the others.
  if (req.targetDb !== undefined && req.sources.length > 1) {
    throw new UsageError(`--target-db writes one database: give it with one --source (of ${req.sources.map((s) => s.name).join(', ')})`);
  }
  await restoreRedisCheck(rt);
  const out: RestorePlan[] = [];
  for (const source of req.sources) {
    const route = restoreRoute(rt, source, req.targetDb);
    const policies = await restorePreflight(route, req.selection.retentionPolicies);
    const measurements = req.selection.measurements ?? (await route.reader.measurements(route.readDb));
    await checkSelection(source, {
      ...req.selection,
      measurements,
      anyMeasurement: true,
      retentionPolicies: policies.policies.map((p) => p.name),
      on: { server: route.reader, db: route.readDb, what: 'backup' },
    });
    const planning = restorePlanContext(rt, route, policies);
    const wanted: PlanSelection = { ...req.selection, kind: 'restore', runId: sourceRunId(req.id, source), measurements };
    // Counted first, for the preview; the plan counts again as it enqueues.
    const preview = await planSource(rt, planning, { ...wanted, dryRun: true }, req.planLogger);
    for (const m of preview.missing) rt.logger.warn(`field ${m} is configured but the backup has no such field; nothing to restore`);
    out.push({ route, preview, planning, wanted, policies });
  }
  return out;
}

/** Creates each restore's target database when missing and plans its jobs (sources with nothing to restore are left out). */
export async function planRestore(rt: Runtime, plans: readonly RestorePlan[], planLogger?: Logger): Promise<SourcePart[]> {
  const parts: SourcePart[] = [];
  for (const { route, planning, wanted, preview, policies } of plans) {
    if (preview.chunks === 0) continue;
    await prepareRestoreTarget(rt, route, policies);
    parts.push({ source: route.source, plan: await planSource(rt, planning, wanted, planLogger) });
  }
  return parts;
}
