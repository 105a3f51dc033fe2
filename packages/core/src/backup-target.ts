import { UsageError } from '@influx-backup/errors';
import {
  createDatabaseStatement,
  createRetentionPolicyStatement,
  describeDuration,
  formatInfluxDuration,
  InfluxError,
  quoteIdent,
  type RetentionPolicyInfo,
} from '@influx-backup/influx';
import type { Logger } from './ports.js';

/** What reading a database's retention policies needs. InfluxClient implements it. */
export interface PolicyReader {
  readonly endpoint: string;
  readonly role?: string | undefined;
  retentionPolicies(db: string): Promise<RetentionPolicyInfo[]>;
}

/** What preparing the backup database needs of the backup server. InfluxClient implements it. */
export interface BackupAdmin extends PolicyReader {
  databases(): Promise<string[]>;
  createDatabase(db: string): Promise<void>;
  createRetentionPolicy(db: string, policy: RetentionPolicyInfo): Promise<void>;
  setDefaultRetentionPolicy(db: string, name: string): Promise<void>;
}

/**
 * The backup server's user may not run a statement the backup needs. Permanent:
 * an admin runs the statement (named in the message) once, and the backup goes on
 * with the user it has.
 */
export class PrivilegeError extends Error {
  override readonly name = 'PrivilegeError';
  readonly retriable = false;
}

/** A retention policy asked for by name that the source database does not have: bad usage (exit 2). */
export class UnknownRetentionPolicyError extends UsageError {
  override readonly name = 'UnknownRetentionPolicyError';
  readonly retriable = false;
}

/** `databases.backup.retention`: keep the source's durations, or keep everything. */
export type RetentionMode = 'source' | 'infinite';

export interface SourcePolicies {
  /** The policies to copy, in the source's order. */
  policies: RetentionPolicyInfo[];
  /** Name of the source database's default policy. */
  defaultPolicy: string;
}

function serverName(server: PolicyReader, fallback: string): string {
  return `${server.role ?? fallback} ${server.endpoint}`;
}

/** The source's policies, all of them or those named in `wanted`; an unknown name is an error naming it. */
export async function sourcePolicies(source: PolicyReader, db: string, wanted?: readonly string[]): Promise<SourcePolicies> {
  const all = await source.retentionPolicies(db);
  const defaultPolicy = all.find((p) => p.isDefault)?.name ?? 'autogen';
  if (wanted === undefined || wanted.length === 0) return { policies: all, defaultPolicy };
  const names = new Set(all.map((p) => p.name));
  const unknown = wanted.filter((name) => !names.has(name));
  if (unknown.length > 0) {
    throw new UnknownRetentionPolicyError(
      `retention ${unknown.length === 1 ? 'policy' : 'policies'} ${unknown.map((n) => JSON.stringify(n)).join(', ')} not found in database ` +
        `${JSON.stringify(db)} on the ${serverName(source, 'source InfluxDB')} (it has ${all.map((p) => JSON.stringify(p.name)).join(', ')})`,
    );
  }
  const keep = new Set(wanted);
  return { policies: all.filter((p) => keep.has(p.name)), defaultPolicy };
}

/**
 * Makes the backup database ready for the source's policies: the database and each
 * same-named policy are created only when missing, so a user with ALL on an
 * existing database (no admin) is enough once they exist. What only an admin may
 * create fails with the statement to run; a backup policy that keeps data for less
 * time than the source's is a loud warning, since it deletes what the source still holds.
 *
 * A restore prepares the database it writes on the source server the same way,
 * from the backup's policies (`purpose: 'restore'`), but changes nothing that
 * exists: it neither warns about nor moves a live database's durations or default.
 */
export async function prepareBackupTarget(opts: {
  backup: BackupAdmin;
  backupDb: string;
  source: SourcePolicies;
  retention: RetentionMode;
  logger: Logger;
  purpose?: 'backup' | 'restore';
}): Promise<{ created: string[] }> {
  const { backup, backupDb, logger } = opts;
  const restore = opts.purpose === 'restore';
  const where = serverName(backup, restore ? 'source InfluxDB' : 'backup InfluxDB');
  const created: string[] = [];
  const asAdmin = async (statement: string, what: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (err) {
      if (err instanceof InfluxError && err.status === 403) {
        throw new PrivilegeError(
          `${what} does not exist on the ${where}, and its user may not create it (${err.message.replace(/^.*?: /, '')}); ` +
            `an admin must run: ${statement}`,
          { cause: err },
        );
      }
      throw err;
    }
  };

  if (!(await backup.databases()).includes(backupDb)) {
    const statement = createDatabaseStatement(backupDb);
    await asAdmin(statement, `the ${restore ? 'restore target' : 'backup'} database ${JSON.stringify(backupDb)}`, () =>
      backup.createDatabase(backupDb),
    );
    created.push(statement);
    logger.info(`created database ${JSON.stringify(backupDb)} on the ${where}`);
  }

  const existing = new Map((await backup.retentionPolicies(backupDb)).map((p) => [p.name, p]));
  for (const policy of opts.source.policies) {
    const durationNs = opts.retention === 'infinite' ? 0n : policy.durationNs;
    const have = existing.get(policy.name);
    if (have === undefined) {
      const wanted: RetentionPolicyInfo = { ...policy, durationNs, replicaN: 1, isDefault: policy.name === opts.source.defaultPolicy };
      const statement = createRetentionPolicyStatement(backupDb, wanted);
      await asAdmin(statement, `the retention policy ${JSON.stringify(policy.name)} of ${JSON.stringify(backupDb)}`, () =>
        backup.createRetentionPolicy(backupDb, wanted),
      );
      existing.set(policy.name, wanted);
      created.push(statement);
      logger.info(
        `created retention policy ${JSON.stringify(policy.name)} (${describeDuration(durationNs)}) in ${JSON.stringify(backupDb)} on the ${where}`,
      );
    } else if (!restore && have.durationNs !== 0n && (durationNs === 0n || have.durationNs < durationNs)) {
      logger.warn(
        `DATA LOSS AHEAD: the backup's retention policy ${JSON.stringify(policy.name)} keeps data for ${describeDuration(have.durationNs)}, ` +
          `the source's ${describeDuration(policy.durationNs)}${opts.retention === 'infinite' ? ' (and databases.backup.retention is infinite)' : ''}: ` +
          `the ${where} deletes data the source still holds. To keep it, an admin runs: ` +
          `ALTER RETENTION POLICY ${quoteIdent(policy.name)} ON ${quoteIdent(backupDb)} DURATION ${formatInfluxDuration(durationNs)}`,
      );
    }
  }

  const wantedDefault = opts.source.defaultPolicy;
  const backupDefault = [...existing.values()].find((p) => p.isDefault)?.name;
  if (
    !restore &&
    existing.has(wantedDefault) &&
    backupDefault !== wantedDefault &&
    opts.source.policies.some((p) => p.name === wantedDefault)
  ) {
    // Writes always name their policy, so a different default loses nothing; it
    // only changes what a query without a policy reads on the backup.
    try {
      await backup.setDefaultRetentionPolicy(backupDb, wantedDefault);
      logger.info(`made ${JSON.stringify(wantedDefault)} the default retention policy of ${JSON.stringify(backupDb)}, as on the source`);
    } catch (err) {
      if (!(err instanceof InfluxError && err.status === 403)) throw err;
      logger.warn(
        `the source's default retention policy is ${JSON.stringify(wantedDefault)}, the backup's ${JSON.stringify(backupDefault ?? 'none')}; ` +
          `queries on the backup without a policy read another one. An admin can run: ALTER RETENTION POLICY ${quoteIdent(wantedDefault)} ON ${quoteIdent(backupDb)} DEFAULT`,
      );
    }
  }
  return { created };
}
