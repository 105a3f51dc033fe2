import { InfluxError, type InfluxClient } from '@influx-backup/influx';
import { withTimeout } from './timeout.js';
import type { Runtime } from './runtime.js';

export interface ServerCheck {
  /** redis, source or backup */
  server: string;
  where: string;
  ok: boolean;
  detail: string;
}

const TIMEOUT_MS = 5_000;

/** The error's message without the server's name, which the report's line already shows. */
function reason(err: unknown, where: string): string {
  const message = (err as Error).message;
  return message.startsWith(`${where}: `) ? message.slice(where.length + 2) : message;
}

async function influx(
  name: 'source' | 'backup',
  client: InfluxClient,
  describe: (dbs: string[]) => Promise<{ ok: boolean; detail: string }>,
): Promise<ServerCheck> {
  const where = `${client.role ?? name} ${client.endpoint}`;
  try {
    const version = await withTimeout(client.ping(), TIMEOUT_MS, 'ping');
    // SHOW DATABASES needs the credentials accepted, and lists what the user may use.
    const dbs = await withTimeout(client.databases(), TIMEOUT_MS, 'SHOW DATABASES');
    const { ok, detail } = await describe(dbs);
    return { server: name, where, ok, detail: `InfluxDB ${version}, credentials accepted; ${detail}` };
  } catch (err) {
    const keys = err instanceof InfluxError && err.status === undefined ? ` (check databases.${name}.host and databases.${name}.port)` : '';
    const creds = err instanceof InfluxError && err.status === 401 ? ` (check databases.${name}.username and databases.${name}.password)` : '';
    return { server: name, where, ok: false, detail: `${reason(err, where)}${keys}${creds}` };
  }
}

/**
 * Tries each server the configuration names, as `config --check` reports them:
 * Redis answers, the source is reachable with its credentials and its database is
 * readable, the backup is reachable with its credentials (its database may be
 * missing: the first run creates it, or says what an admin must run).
 */
export async function checkServers(rt: Runtime): Promise<ServerCheck[]> {
  const { source, backup } = rt.config.databases;
  const redis = async (): Promise<ServerCheck> => {
    try {
      await withTimeout(rt.redis.ping(), TIMEOUT_MS, 'PING');
      const info = await withTimeout(rt.redis.info('server'), TIMEOUT_MS, 'INFO');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
      return { server: 'redis', where: `Redis ${rt.redisEndpoint}`, ok: true, detail: `Redis ${version}` };
    } catch (err) {
      return { server: 'redis', where: `Redis ${rt.redisEndpoint}`, ok: false, detail: `${reason(err, '')} (check redis.url or REDIS_URL)` };
    }
  };
  return Promise.all([
    redis(),
    influx('source', rt.source, async (dbs) => {
      if (!dbs.includes(source.database)) {
        return { ok: false, detail: `database ${JSON.stringify(source.database)} does not exist or the user may not read it (check databases.source.database)` };
      }
      const policies = await withTimeout(rt.source.retentionPolicies(source.database), TIMEOUT_MS, 'SHOW RETENTION POLICIES');
      return { ok: true, detail: `database ${JSON.stringify(source.database)} readable, retention policies ${policies.map((p) => JSON.stringify(p.name)).join(', ')}` };
    }),
    influx('backup', rt.backup, async (dbs) => ({
      ok: true,
      detail: dbs.includes(backup.database)
        ? `database ${JSON.stringify(backup.database)} present`
        : `database ${JSON.stringify(backup.database)} missing: the first run creates it (an admin's privilege), or names the statement to run`,
    })),
  ]);
}
