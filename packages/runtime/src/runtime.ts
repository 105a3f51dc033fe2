import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseTime, type BackupConfig } from '@influx-backup/config';
import { InfluxClient, InfluxError, type InfluxConnectionOptions } from '@influx-backup/influx';
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

/** Everything a command needs to talk to the two servers and Redis. */
export interface Runtime {
  readonly config: BackupConfig;
  readonly logger: Logger;
  readonly source: InfluxClient;
  readonly backup: InfluxClient;
  readonly redis: Redis;
  readonly copyQueue: Queue;
  readonly scheduleQueue: Queue;
  readonly store: StateStore;
  readonly prefix: string;
  readonly redisEndpoint: string;
  close(): Promise<void>;
}

export function influxOptions(c: BackupConfig['databases']['source']): InfluxConnectionOptions {
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
  const source = new InfluxClient({ ...influxOptions(config.databases.source), role: 'source InfluxDB' });
  const backup = new InfluxClient({ ...influxOptions(config.databases.backup), role: 'backup InfluxDB' });
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
    source,
    backup,
    redis,
    copyQueue,
    scheduleQueue,
    store,
    prefix,
    redisEndpoint: endpoint,
    async close() {
      source.close();
      backup.close();
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

/** Where to look in the configuration when a server cannot be reached or refuses the credentials. */
function serverHint(side: 'source' | 'backup', err: InfluxError): string {
  if (err.status === undefined) return ` (check databases.${side}.host and databases.${side}.port)`;
  if (err.status === 401) return ` (check databases.${side}.username and databases.${side}.password)`;
  return '';
}

/** `fn`, with an InfluxDB failure turned into a ConnectError that says what to check. */
export async function onServer<T>(side: 'source' | 'backup', fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof InfluxError)) throw err;
    throw new ConnectError(`${err.message}${serverHint(side, err)}`, { cause: err });
  }
}

/**
 * Checks Redis and both InfluxDB servers before work starts, so a wrong host, port
 * or password is one clear message naming the server and the keys to check, and
 * returns the source's retention policies to copy. With `prepareBackup`, it also
 * makes the backup database and its same-named policies ready (creating only what
 * is missing, so a non-admin backup user does once they exist).
 */
export async function preflight(
  rt: Runtime,
  { prepareBackup = true }: { prepareBackup?: boolean } = {},
): Promise<SourcePolicies> {
  await reachRedis(rt);
  for (const w of await redisHealthWarnings(rt.redis)) rt.logger.warn(w);
  await reachDatabase('source', rt.source, rt.config.databases.source.database);
  await onServer('backup', () => rt.backup.ping());
  return policiesToCopy(rt, { prepareBackup });
}

/** Pings the server of `side` and checks that `db` is there to read, or says which keys to check. */
export async function reachDatabase(side: 'source' | 'backup', server: InfluxClient, db: string): Promise<void> {
  const dbs = await onServer(side, async () => {
    await server.ping();
    return server.databases();
  });
  if (!dbs.includes(db)) {
    throw new ConnectError(
      `database ${JSON.stringify(db)} does not exist on the ${server.role} ${server.endpoint}, ` +
        `or its user may not read it (check databases.${side}.database and the user's privileges)`,
    );
  }
}

/**
 * The source's retention policies to copy (`databases.source.retention_policies`,
 * or all), read afresh: a policy added on the source is copied from the next plan
 * on. With `prepareBackup`, the backup database and same-named policies are made
 * ready too (created only when missing).
 */
export async function policiesToCopy(rt: Runtime, { prepareBackup = true }: { prepareBackup?: boolean } = {}): Promise<SourcePolicies> {
  const { source, backup } = rt.config.databases;
  const policies = await onServer('source', () => sourcePolicies(rt.source, source.database, source.retentionPolicies));
  if (prepareBackup) {
    await onServer('backup', () =>
      prepareBackupTarget({ backup: rt.backup, backupDb: backup.database, source: policies, retention: backup.retention, logger: rt.logger }),
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

export function measurementPlans(config: BackupConfig): MeasurementPlanConfig[] {
  return config.backup.measurements.map((m) => ({
    name: m.name,
    fields: m.fields,
    startNs: parseTime(m.startTime),
    endNs: m.endTime === undefined ? undefined : parseTime(m.endTime),
  }));
}

/** What a plan needs: the configuration's settings and the source's policies to copy (from preflight or policiesToCopy). */
export function planContext(rt: Runtime, policies: SourcePolicies): PlanContext {
  const c = rt.config;
  return {
    retentionPolicies: policies.policies.map((p) => p.name),
    defaultPolicy: policies.defaultPolicy,
    source: rt.source,
    queue: rt.copyQueue,
    store: rt.store,
    sourceDb: c.databases.source.database,
    backupDb: c.databases.backup.database,
    measurements: measurementPlans(c),
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
  return {
    source: rt.source,
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
