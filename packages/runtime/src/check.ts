import type { InfluxClient } from '@influx-backup/influx';
import { withTimeout } from './timeout.js';
import type { Runtime } from './connections.js';
import { serverHint } from './preflight.js';

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
  key: string,
  client: InfluxClient,
  /** A username is configured: "credentials accepted" says something only then. */
  credentials: boolean,
  describe: (dbs: string[]) => { ok: boolean; detail: string } | Promise<{ ok: boolean; detail: string }>,
): Promise<ServerCheck> {
  const where = `${client.role ?? name} ${client.endpoint}`;
  try {
    const version = await withTimeout(client.ping(), TIMEOUT_MS, 'ping');
    // SHOW DATABASES needs the credentials accepted, and lists what the user may use.
    const dbs = await withTimeout(client.databases(), TIMEOUT_MS, 'SHOW DATABASES');
    const { ok, detail } = await describe(dbs);
    const who = credentials ? 'credentials accepted' : `no credentials configured (${key}.username)`;
    return { server: name, where, ok, detail: `InfluxDB ${version}, ${who}; ${detail}` };
  } catch (err) {
    return { server: name, where, ok: false, detail: `${reason(err, where)}${serverHint(key, err)}` };
  }
}

/**
 * Tries each server the configuration names, as `config --check` reports them:
 * Redis answers, each source is reachable with its credentials and its database is
 * readable, the backup is reachable with its credentials (its database may be
 * missing: the first run creates it, or says what an admin must run).
 */
export async function checkServers(rt: Runtime): Promise<ServerCheck[]> {
  const redis = async (): Promise<ServerCheck> => {
    try {
      await withTimeout(rt.redis.ping(), TIMEOUT_MS, 'PING');
      const info = await withTimeout(rt.redis.info('server'), TIMEOUT_MS, 'INFO');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
      return { server: 'redis', where: `Redis ${rt.redisEndpoint}`, ok: true, detail: `Redis ${version}` };
    } catch (err) {
      return {
        server: 'redis',
        where: `Redis ${rt.redisEndpoint}`,
        ok: false,
        detail: `${reason(err, '')} (check redis.url or REDIS_URL)`,
      };
    }
  };
  return Promise.all([
    redis(),
    ...rt.sources.map(({ client, config: { database, username }, key }) =>
      influx('source', key, client, Boolean(username), async (dbs) => {
        if (!dbs.includes(database)) {
          return {
            ok: false,
            detail: `database ${JSON.stringify(database)} does not exist or the user may not read it (check ${key}.database)`,
          };
        }
        const policies = await withTimeout(client.retentionPolicies(database), TIMEOUT_MS, 'SHOW RETENTION POLICIES');
        return {
          ok: true,
          detail: `database ${JSON.stringify(database)} readable, retention policies ${policies.map((p) => JSON.stringify(p.name)).join(', ')}`,
        };
      }),
    ),
    influx('backup', 'databases.backup', rt.backup, Boolean(rt.config.databases.backup.username), (dbs) => {
      const wanted = rt.sources.map((s) => s.config.backupDatabase);
      const missing = wanted.filter((db) => !dbs.includes(db));
      const names = (list: string[]): string => list.map((db) => JSON.stringify(db)).join(', ');
      return {
        ok: true,
        detail:
          missing.length === 0
            ? `${wanted.length === 1 ? 'database' : 'databases'} ${names(wanted)} present`
            : `${missing.length === 1 ? 'database' : 'databases'} ${names(missing)} missing: the first run creates ${missing.length === 1 ? 'it' : 'them'} (an admin's privilege), or names the statement to run`,
      };
    }),
  ]);
}
