import type { Redis } from 'ioredis';
import type { BackupConfig, InfluxConnectionConfig, SourceConfig } from '@influx-backup/config';
import { InfluxPool, type InfluxClient, type InfluxConnectionOptions } from '@influx-backup/influx';
import type { Logger } from '@influx-backup/core';
import type { ProcessContext } from '@influx-backup/process';
import {
  createQueues,
  createRedis,
  createStore,
  JobDescriber,
  redisEndpoint,
  type CopyQueue,
  type ScheduleQueue,
  type Store,
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
  readonly copyQueue: CopyQueue;
  readonly scheduleQueue: ScheduleQueue;
  readonly store: Store;
  /** What a copy job is about, with one bounded cache of run plans for the process. */
  readonly describer: JobDescriber;
  readonly prefix: string;
  readonly redisEndpoint: string;
  close(): Promise<void>;
}

function influxOptions(c: SourceConfig | InfluxConnectionConfig): InfluxConnectionOptions {
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
  // The connection's own listener above reports Redis errors once; the queues' are quiet.
  const queues = createQueues(redis, prefix);
  const store = createStore(redis, prefix);
  return {
    config,
    logger,
    sources,
    backup,
    redis,
    copyQueue: queues.copy,
    scheduleQueue: queues.schedule,
    store,
    describer: new JobDescriber(store.runs),
    prefix,
    redisEndpoint: endpoint,
    async close() {
      pool.close();
      await queues.close();
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
