import { Redis, type RedisOptions } from 'ioredis';

export interface RedisSettings {
  url: string;
  prefix: string;
}

/**
 * A Redis connection for BullMQ and the state store. BullMQ needs
 * maxRetriesPerRequest: null on connections that block; retrying forever with a
 * capped delay is also what keeps workers alive across a Redis restart.
 */
export function createRedis(settings: RedisSettings, extra: RedisOptions = {}): Redis {
  const url = new URL(settings.url);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`redis.url must start with redis:// or rediss://, got ${url.protocol}//`);
  }
  return new Redis(settings.url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 2_000),
    lazyConnect: false,
    ...extra,
  });
}

/** host:port of a Redis URL, without its password, for messages. */
export function redisEndpoint(urlText: string): string {
  const url = new URL(urlText);
  return `${url.hostname}:${url.port || '6379'}`;
}

/**
 * Reads the settings a queue must not run without, for a loud warning: without
 * noeviction Redis may drop queued jobs under memory pressure; without AOF a
 * restart loses them.
 */
export async function redisHealthWarnings(redis: Redis): Promise<string[]> {
  const warnings: string[] = [];
  try {
    const policy = (await redis.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
    if (policy[1] && policy[1] !== 'noeviction') {
      warnings.push(`Redis maxmemory-policy is ${policy[1]}: set it to noeviction, or Redis may evict queued jobs and checkpoints`);
    }
    const aof = (await redis.call('CONFIG', 'GET', 'appendonly')) as string[];
    if (aof[1] === 'no') warnings.push('Redis appendonly is off: a Redis restart loses the queues and checkpoints (set appendonly yes)');
  } catch {
    // Managed Redis often forbids CONFIG; then we cannot tell.
  }
  return warnings;
}
