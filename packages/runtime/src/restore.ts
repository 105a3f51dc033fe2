import type { InfluxClient } from '@influx-backup/influx';
import { prepareBackupTarget, sourcePolicies, type SourcePolicies } from '@influx-backup/core';
import { redisHealthWarnings, type PlanContext } from '@influx-backup/queue';
import { onServer, planContext, reachDatabase, reachRedis, type Runtime } from './runtime.js';

/** Where a restore reads and where it writes. */
export interface RestoreRoute {
  reader: InfluxClient;
  readDb: string;
  writer: InfluxClient;
  writeDb: string;
}

/**
 * The one place that decides which server and database a restore reads and
 * writes: the backup database on the backup server, into the source's database
 * (or `targetDb`) on the source server. The run record carries the direction, so
 * workers follow it without deciding again (runServers).
 */
export function restoreRoute(rt: Runtime, targetDb?: string): RestoreRoute {
  const { source, backup } = rt.config.databases;
  return { reader: rt.backup, readDb: backup.database, writer: rt.source, writeDb: targetDb ?? source.database };
}

/**
 * Checks Redis and both servers before a restore, and returns the backup's
 * retention policies to read (`wanted`, else `databases.source.retention_policies`,
 * else all). It writes nothing.
 */
export async function restorePreflight(rt: Runtime, route: RestoreRoute, wanted?: readonly string[]): Promise<SourcePolicies> {
  await reachRedis(rt);
  for (const w of await redisHealthWarnings(rt.redis)) rt.logger.warn(w);
  await onServer('source', () => route.writer.ping());
  await reachDatabase('backup', route.reader, route.readDb);
  const names = wanted?.length ? wanted : rt.config.databases.source.retentionPolicies;
  return onServer('backup', () => sourcePolicies(route.reader, route.readDb, names));
}

/** Creates the database a restore writes when it is missing, with the backup's policies; changes nothing that exists. */
export async function prepareRestoreTarget(rt: Runtime, route: RestoreRoute, policies: SourcePolicies): Promise<void> {
  await onServer('source', () =>
    prepareBackupTarget({ backup: route.writer, backupDb: route.writeDb, source: policies, retention: 'source', logger: rt.logger, purpose: 'restore' }),
  );
}

/** A plan that reads the route's reader and writes its writer, with the configuration's chunking, grouping and retry. */
export function restorePlanContext(rt: Runtime, route: RestoreRoute, policies: SourcePolicies): PlanContext {
  return { ...planContext(rt, policies), source: route.reader, sourceDb: route.readDb, backupDb: route.writeDb };
}
