import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseTime, type BackupConfig, type InfluxConnectionConfig, type SourceConfig } from '@influx-backup/config';
import { InfluxError, InfluxPool, type InfluxClient, type InfluxConnectionOptions } from '@influx-backup/influx';
import { prepareBackupTarget, sourcePolicies, type Logger, type SourcePolicies } from '@influx-backup/core';
import type { ProcessContext } from '@influx-backup/process';
import { withTimeout } from './timeout.js';
import {
  createRedis,
  QUEUE_COPY,
  QUEUE_SCHEDULE,
  redisEndpoint,
  redisHealthWarnings,
  StateStore,
  type MeasurementPlanConfig,
  type PlanContext,
  type ProcessorContext,
  type RetryPolicy,
} from '@influx-backup/queue';

/** One configured source and its client. */
export interface SourceRuntime {
  readonly name: string;
  readonly config: SourceConfig;
  /** Where its keys are: `databases.source`, or `databases.sources[i]`. */
  readonly key: string;
  readonly client: InfluxClient;
}

/** Everything a command needs to talk to the servers and Redis. */
export interface Runtime {
  readonly config: BackupConfig;
  readonly logger: Logger;
  /** Every configured source, in the configuration's order. */
  readonly sources: readonly SourceRuntime[];
  readonly backup: InfluxClient;
  readonly redis: Redis;
  readonly copyQueue: Queue;
  readonly scheduleQueue: Queue;
  readonly store: StateStore;
  readonly prefix: string;
  readonly redisEndpoint: string;
  close(): Promise<void>;
}

export function influxOptions(c: SourceConfig | InfluxConnectionConfig): InfluxConnectionOptions {
  return {
    host: c.host,
    port: c.port,
    username: c.username,
    password: c.password,
    ssl: c.ssl,
    verifySsl: c.verifySsl,
    caFile: c.caFile,
    timeoutMs: c.timeoutMs,
    retries: c.retries,
  };
}

export function createRuntime(config: BackupConfig, logger: Logger): Runtime {
  // One socket pool per server, whatever the number of sources on it; a listed source's errors name it.
  const pool = new InfluxPool();
  const sources = config.sources.map((s, i) => ({
    name: s.name,
    config: s,
    key: s.listed ? `databases.sources[${i}]` : 'databases.source',
    client: pool.client({ ...influxOptions(s), role: s.listed ? `source ${JSON.stringify(s.name)} InfluxDB` : 'source InfluxDB' }),
  }));
  const backup = pool.client({ ...influxOptions(config.databases.backup), role: 'backup InfluxDB' });
  const prefix = config.redis.prefix;
  const redis = createRedis({ url: config.redis.url, prefix });
  const endpoint = redisEndpoint(config.redis.url);
  let lastRedisError = '';
  redis.on('error', (err: Error) => {
    // ioredis retries on its own; say so once per distinct error, not per retry.
    if (err.message !== lastRedisError) {
      lastRedisError = err.message;
      logger.warn(`Redis at ${endpoint}: ${err.message}; retrying`);
    }
  });
  redis.on('ready', () => {
    if (lastRedisError) logger.info(`Redis at ${endpoint} is back`);
    lastRedisError = '';
  });
  const copyQueue = new Queue(QUEUE_COPY, { connection: redis, prefix });
  const scheduleQueue = new Queue(QUEUE_SCHEDULE, { connection: redis, prefix });
  // The connection's own listener above reports Redis errors once; without these,
  // BullMQ prints every reconnect attempt of every queue to the console.
  copyQueue.on('error', () => undefined);
  scheduleQueue.on('error', () => undefined);
  const store = new StateStore(redis, prefix);
  return {
    config,
    logger,
    sources,
    backup,
    redis,
    copyQueue,
    scheduleQueue,
    store,
    prefix,
    redisEndpoint: endpoint,
    async close() {
      pool.close();
      await Promise.allSettled([copyQueue.close(), scheduleQueue.close()]);
      redis.disconnect();
    },
  };
}

/** Runs `fn` with the connections of a program's configuration, and closes them after. */
export async function withRuntime<T>(ctx: ProcessContext, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = createRuntime(ctx.config, ctx.logger);
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

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
  for (const w of await redisHealthWarnings(rt.redis)) rt.logger.warn(w);
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

/** Which field a row of `status` or the fields page is about: its source, policy, measurement and name. */
export interface FieldIdentity {
  /** The configured source's name; null: none of this configuration's (left from an older one). */
  sourceName: string | null;
  /** host:port of the source server. */
  source: string;
  database: string;
  /** null: saved by an older version, before policies were copied one by one; the default policy's. */
  retentionPolicy: string | null;
  measurement: string;
  field: string;
}

/** The configured source a checkpoint belongs to, by its server (host:port) and database; undefined: none of them. */
export function sourceOfField(rt: Runtime): (endpoint: string, database: string) => SourceRuntime | undefined {
  const byKey = new Map(rt.sources.map((s) => [JSON.stringify([s.client.endpoint, s.config.database]), s]));
  return (endpoint, database) => byKey.get(JSON.stringify([endpoint, database]));
}

/**
 * Which source's runs and totals Redis keeps a source's under: its name in
 * databases.sources, '' for the single databases.source (whose runs name none,
 * as before several sources).
 */
export function storedSourceName(source: SourceRuntime): string {
  return source.config.listed ? source.name : '';
}

/** The newest run of each configured source, by its name (one left out of the configuration is not looked at). */
export async function newestRunBySource(rt: Runtime): Promise<Map<string, string>> {
  const newest = await rt.store.newestRuns();
  const out = new Map<string, string>();
  for (const s of rt.sources) {
    const run = newest.get(storedSourceName(s));
    if (run !== undefined) out.set(s.name, run);
  }
  return out;
}

/** A source's own run id in a pass: the pass's, followed by the name of a source of databases.sources. */
export function sourceRunId(passId: string, source: SourceRuntime): string {
  return source.config.listed ? `${passId}.${source.name}` : passId;
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
    store: rt.store,
    batchSize: p.batchSize,
    batchIntervalMs: p.batchIntervalMs,
    pieceRows: pieceRowsFor(rt.config),
    operationTimeoutMs: p.operationTimeoutMs,
    queue: rt.copyQueue,
    logger: rt.logger,
  };
}

export function workerIdentity(): { id: string; host: string; pid: number } {
  const host = hostname();
  return { id: `${host}-${process.pid}`, host, pid: process.pid };
}
