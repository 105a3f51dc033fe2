import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseTime, type BackupConfig } from '@influx-backup/config';
import { InfluxClient, type InfluxConnectionOptions } from '@influx-backup/influx';
import type { Logger } from '@influx-backup/core';
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
  const source = new InfluxClient(influxOptions(config.databases.source));
  const backup = new InfluxClient(influxOptions(config.databases.backup));
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

/**
 * Checks Redis and both InfluxDB servers before work starts, so a wrong host or
 * port is one clear message naming it, and creates the backup database.
 */
export async function preflight(rt: Runtime, { backupDb = true }: { backupDb?: boolean } = {}): Promise<void> {
  const timeout = 5_000;
  try {
    await withTimeout(rt.redis.ping(), timeout, 'PING');
  } catch (err) {
    throw new ConnectError(`cannot reach Redis at ${rt.redisEndpoint}: ${(err as Error).message}`);
  }
  for (const w of await redisHealthWarnings(rt.redis)) rt.logger.warn(w);
  const { source, backup } = rt.config.databases;
  await rt.source.ping();
  const dbs = await rt.source.databases();
  if (!dbs.includes(source.database)) {
    throw new ConnectError(`database ${JSON.stringify(source.database)} does not exist on the source ${rt.source.endpoint}`);
  }
  await rt.backup.ping();
  if (backupDb) await rt.backup.createDatabase(backup.database);
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

export function planContext(rt: Runtime): PlanContext {
  const c = rt.config;
  return {
    source: rt.source,
    queue: rt.copyQueue,
    store: rt.store,
    sourceDb: c.databases.source.database,
    backupDb: c.databases.backup.database,
    measurements: measurementPlans(c),
    chunkSizeNs: BigInt(c.backup.timeChunks.sizeMs) * 1_000_000n,
    maxValues: c.backup.timeChunks.maxValues,
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
    logger: rt.logger,
  };
}

export function workerIdentity(): { id: string; host: string; pid: number } {
  const host = hostname();
  return { id: `${host}-${process.pid}`, host, pid: process.pid };
}
