import { parseTime } from '@influx-backup/config';
import { UsageError } from '@influx-backup/process';

export interface SelectorOptions {
  measurement?: string[];
  field?: string[];
  retentionPolicy?: string[];
  startTime?: string;
  endTime?: string;
  full?: boolean;
}

/** A --start-time / --end-time value as nanoseconds, or a usage error naming the flag. */
export function timeFlag(flag: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  try {
    return parseTime(value);
  } catch {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not an RFC 3339 time (e.g. 2024-01-31T23:59:59Z)`);
  }
}

export function selection(opts: SelectorOptions): {
  measurements?: string[];
  fields?: string[];
  retentionPolicies?: string[];
  startNs?: bigint;
  endNs?: bigint;
  full: boolean;
} {
  const startNs = timeFlag('--start-time', opts.startTime);
  const endNs = timeFlag('--end-time', opts.endTime);
  if (startNs !== undefined && endNs !== undefined && endNs < startNs) {
    throw new UsageError(`--end-time ${opts.endTime} is before --start-time ${opts.startTime}`);
  }
  return {
    ...(opts.measurement?.length ? { measurements: opts.measurement } : {}),
    ...(opts.field?.length ? { fields: opts.field } : {}),
    ...(opts.retentionPolicy?.length ? { retentionPolicies: opts.retentionPolicy } : {}),
    ...(startNs !== undefined ? { startNs } : {}),
    ...(endNs !== undefined ? { endNs } : {}),
    full: opts.full ?? false,
  };
}

export function runId(kind: string): string {
  return `${kind}-${new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 15)}-${process.pid}`;
}
