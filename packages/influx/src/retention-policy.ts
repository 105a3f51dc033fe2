import { quoteIdent } from './escape.js';

// Retention policies as InfluxDB 1.x reports them (SHOW RETENTION POLICIES) and as
// CREATE RETENTION POLICY takes them. Durations arrive in Go's form ("8736h0m0s",
// "0s" for infinite); they are kept as nanoseconds so two servers' policies compare.

export interface RetentionPolicyInfo {
  name: string;
  /** How long data is kept, in nanoseconds; 0n means forever. */
  durationNs: bigint;
  shardGroupDurationNs: bigint;
  replicaN: number;
  isDefault: boolean;
}

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Nanoseconds of a Go duration string made of whole numbers ("720h0m0s", "1h30m0s", "0s"). */
export function parseGoDuration(text: string): bigint {
  const parts = [...text.matchAll(/(\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new RangeError(`not a whole-number Go duration: ${JSON.stringify(text)}`);
  }
  return parts.reduce((sum, p) => sum + BigInt(p[1] ?? '0') * (UNIT_NS[p[2] ?? ''] ?? 0n), 0n);
}

/**
 * An InfluxQL duration literal for `ns` ("720h", "1h30m", "INF" for 0): built from
 * numbers, so a server's answer never becomes part of a statement as text.
 */
export function formatInfluxDuration(ns: bigint): string {
  if (ns < 0n) throw new RangeError(`a duration cannot be negative: ${ns}`);
  if (ns === 0n) return 'INF';
  let rest = ns;
  let out = '';
  for (const unit of ['h', 'm', 's', 'ms', 'u', 'ns'] as const) {
    const size = UNIT_NS[unit === 'u' ? 'us' : unit] ?? 1n;
    const n = rest / size;
    if (n > 0n) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/** A policy of `ns` as a person reads it: "30d", "52w", "1h30m", "infinite". */
export function describeDuration(ns: bigint): string {
  if (ns === 0n) return 'infinite';
  const WEEK = 7n * 24n * UNIT_NS.h!;
  const DAY = 24n * UNIT_NS.h!;
  if (ns % WEEK === 0n) return `${ns / WEEK}w`;
  if (ns % DAY === 0n) return `${ns / DAY}d`;
  return formatInfluxDuration(ns);
}

/** The statement that creates `db`; also what an operator is told to run when we may not. */
export function createDatabaseStatement(db: string): string {
  return `CREATE DATABASE ${quoteIdent(db)}`;
}

/** The statement that creates `policy` on `db`; replication and shard duration as given (0: the server's default). */
export function createRetentionPolicyStatement(db: string, policy: RetentionPolicyInfo): string {
  const shard = policy.shardGroupDurationNs > 0n ? ` SHARD DURATION ${formatInfluxDuration(policy.shardGroupDurationNs)}` : '';
  const replication = Number.isInteger(policy.replicaN) && policy.replicaN >= 1 ? policy.replicaN : 1;
  return (
    `CREATE RETENTION POLICY ${quoteIdent(policy.name)} ON ${quoteIdent(db)}` +
    ` DURATION ${formatInfluxDuration(policy.durationNs)} REPLICATION ${replication}${shard}${policy.isDefault ? ' DEFAULT' : ''}`
  );
}
