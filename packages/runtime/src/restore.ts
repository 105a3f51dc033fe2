import type { InfluxClient } from '@influx-backup/influx';
import { prepareBackupTarget, sourcePolicies, type SourcePolicies } from '@influx-backup/core';
import { redisHealthWarnings, type PlanContext } from '@influx-backup/queue';
import { backupDatabaseKey, onServer, planContext, reachDatabase, reachRedis, type Runtime, type SourceRuntime } from './runtime.js';

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
export function restoreRoute(rt: Runtime, source: SourceRuntime, targetDb?: string): RestoreRoute {
  return {
    source,
    reader: rt.backup,
    readDb: source.config.backupDatabase,
    writer: source.client,
    writeDb: targetDb ?? source.config.database,
  };
}

/** Checks Redis once before the restores of one command. */
export async function restoreRedisCheck(rt: Runtime): Promise<void> {
  await reachRedis(rt);
  for (const w of await redisHealthWarnings(rt.redis)) rt.logger.warn(w);
}

/**
 * Checks both servers of a restore, and returns the backup's retention policies
 * to read (`wanted`, else the source's `retention_policies`, else all). It writes
 * nothing.
 */
export async function restorePreflight(route: RestoreRoute, wanted?: readonly string[]): Promise<SourcePolicies> {
  await onServer(route.source.key, () => route.writer.ping());
  await reachDatabase('databases.backup', route.reader, route.readDb, backupDatabaseKey(route.source));
  const names = wanted?.length ? wanted : route.source.config.retentionPolicies;
  return onServer('databases.backup', () => sourcePolicies(route.reader, route.readDb, names));
}

/** Creates the database a restore writes when it is missing, with the backup's policies; changes nothing that exists. */
export async function prepareRestoreTarget(rt: Runtime, route: RestoreRoute, policies: SourcePolicies): Promise<void> {
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
export function restorePlanContext(rt: Runtime, route: RestoreRoute, policies: SourcePolicies): PlanContext {
  return { ...planContext(rt, route.source, policies), source: route.reader, sourceDb: route.readDb, backupDb: route.writeDb };
}
