import { prepareBackupTarget, sourcePolicies, type SourcePolicies } from '@influx-backup/core';
import { InfluxError, type InfluxClient } from '@influx-backup/influx';
import { redisHealthWarnings } from '@influx-backup/queue';
import type { Runtime, SourceRuntime } from './connections.js';
import { withTimeout } from './timeout.js';

export class ConnectError extends Error {
  override readonly name = 'ConnectError';
}

/** Where to look in the configuration when a server (`key`: databases.backup, databases.sources[1]) cannot be reached or refuses the credentials. */
export function serverHint(key: string, err: unknown): string {
  if (!(err instanceof InfluxError)) return '';
  if (err.status === undefined) return ` (check ${key}.host and ${key}.port)`;
  if (err.status === 401) return ` (check ${key}.username and ${key}.password)`;
  return '';
}

/** `fn`, with an InfluxDB failure turned into a ConnectError that says what to check. */
export async function onServer<T>(key: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof InfluxError)) throw err;
    throw new ConnectError(`${err.message}${serverHint(key, err)}`, { cause: err });
  }
}

/** A source as preflight found it: its retention policies to copy, or why it cannot be used now. */
export type SourceCheck = { readonly source: SourceRuntime } & ({ readonly policies: SourcePolicies } | { readonly error: Error });

/**
 * Checks Redis, the backup server and each selected source before work starts, so
 * a wrong host, port or password is one clear message naming the server and the
 * keys to check, and returns each source's retention policies to copy. With
 * `prepareBackup`, it also makes each source's backup database and its
 * same-named policies ready (creating only what is missing, so a non-admin
 * backup user does once they exist).
 *
 * A source that is down or refuses the credentials fails only itself: it is
 * returned with its error (and logged) and the others go on. Only when every
 * selected source failed does preflight throw (the first one's error), as it
 * always did with a single source.
 */
export async function preflight(
  rt: Runtime,
  { prepareBackup = true, sources = rt.sources }: { prepareBackup?: boolean; sources?: readonly SourceRuntime[] } = {},
): Promise<SourceCheck[]> {
  await reachRedis(rt);
  await warnAboutRedis(rt);
  const reached = await Promise.all(
    sources.map((source) =>
      reachDatabase(source.key, source.client, source.config.database).then(
        (): { source: SourceRuntime; error?: Error } => ({ source }),
        (error: Error) => ({ source, error }),
      ),
    ),
  );
  const first = reached[0];
  if (first?.error && reached.every((c) => c.error)) throw first.error;
  await onServer('databases.backup', () => rt.backup.ping());
  const leftOut = (source: SourceRuntime, error: Error): SourceCheck => {
    rt.logger.error(`source ${source.name} cannot be used now: ${error.message}`);
    return { source, error };
  };
  return Promise.all(
    reached.map(async ({ source, error }): Promise<SourceCheck> => {
      if (error) return leftOut(source, error);
      try {
        return { source, policies: await policiesToCopy(rt, source, { prepareBackup }) };
      } catch (err) {
        if (sources.length === 1) throw err;
        return leftOut(source, err as Error);
      }
    }),
  );
}

const warned = new WeakMap<Runtime, Set<string>>();

/**
 * Warns loudly of Redis settings a queue must not run without (noeviction, AOF), once
 * per process and warning: a planner checks before every scheduled plan.
 */
export async function warnAboutRedis(rt: Runtime): Promise<void> {
  const seen = warned.get(rt) ?? new Set<string>();
  warned.set(rt, seen);
  for (const w of await redisHealthWarnings(rt.redis)) {
    if (seen.has(w)) continue;
    seen.add(w);
    rt.logger.warn(w);
  }
}

/** The key of a source's backup database: `databases.backup.database`, or a listed source's own `backup_database`. */
export function backupDatabaseKey(source: SourceRuntime): string {
  return source.config.listed ? `${source.key}.backup_database` : 'databases.backup.database';
}

/**
 * Pings the server whose keys are `key` (databases.backup, databases.sources[1]) and checks that `db` is there to
 * read, or says which keys to check; `dbKey` names the key of the database (default `key`.database).
 */
export async function reachDatabase(key: string, server: InfluxClient, db: string, dbKey = `${key}.database`): Promise<void> {
  const dbs = await onServer(key, async () => {
    await server.ping();
    return server.databases();
  });
  if (!dbs.includes(db)) {
    throw new ConnectError(
      `database ${JSON.stringify(db)} does not exist on the ${server.role} ${server.endpoint}, ` +
        `or its user may not read it (check ${dbKey} and the user's privileges)`,
    );
  }
}

/**
 * A source's retention policies to copy (its `retention_policies`, or all), read
 * afresh: a policy added on the source is copied from the next plan on. With
 * `prepareBackup`, its backup database and same-named policies are made ready
 * too (created only when missing).
 */
export async function policiesToCopy(
  rt: Runtime,
  source: SourceRuntime,
  { prepareBackup = true }: { prepareBackup?: boolean } = {},
): Promise<SourcePolicies> {
  const { database, retentionPolicies, backupDatabase } = source.config;
  const policies = await onServer(source.key, () => sourcePolicies(source.client, database, retentionPolicies));
  if (prepareBackup) {
    const { retention } = rt.config.databases.backup;
    await onServer('databases.backup', () =>
      prepareBackupTarget({ backup: rt.backup, backupDb: backupDatabase, source: policies, retention, logger: rt.logger }),
    );
  }
  return policies;
}

/**
 * Fails within 5 s when Redis does not answer: the connection retries forever (what
 * keeps workers alive across a restart), so a command's first query would wait forever.
 */
export async function reachRedis(rt: Runtime): Promise<void> {
  try {
    await withTimeout(rt.redis.ping(), 5_000, 'PING');
  } catch (err) {
    throw new ConnectError(`cannot reach Redis at ${rt.redisEndpoint}: ${(err as Error).message}`);
  }
}
