import type { Redis } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import type { Scripts } from '../scripts.js';

/**
 * One alert that fires now: a rule as configured, on the runs of one source and kind.
 * The monitoring package decides (alert-engine.ts); this is what it keeps between checks.
 */
export interface FiringAlert {
  /** The rule as configured (ruleId: its name and a digest of condition, action and recipients). */
  readonly rule: string;
  /** The rule's name. */
  readonly alert: string;
  /** The runs' source as stored ('' for the single databases.source) and their kind (copy, restore, ...). */
  readonly source: string;
  readonly kind: string;
  /** The run that crossed the rule last (its run id), and when it started (ms). */
  readonly run: string;
  readonly runStartedAt: number;
  /** When it started firing, and when it was last sent (ms, Redis's clock). */
  readonly since: number;
  readonly sentAt: number;
  readonly metric: string;
  readonly operator: string;
  readonly threshold: number;
  /** The value that crossed the threshold. */
  readonly value: number;
}

/** An entry as read: its text (what a change must find to go through) and its alert (undefined: unreadable, e.g. an older version's). */
export interface StoredAlert {
  readonly raw: string;
  readonly alert: FiringAlert | undefined;
}

/**
 * The cluster-wide alerts: a lease (one planner, or one run, checks them at a time)
 * and what fires now, so each alert is sent once however many planners there are.
 */
export class AlertState {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StoreKeys,
    private readonly scripts: Scripts,
  ) {}

  /** Takes or renews the lease for `holder`; true while it holds it. */
  lease(holder: string, ttlMs: number): Promise<boolean> {
    return this.scripts.alertLease(this.keys.alertLease, holder, ttlMs);
  }

  /** Hands the lease over at once (it lapses by itself otherwise). */
  async release(holder: string): Promise<void> {
    await this.scripts.compareAndDelete(this.keys.alertLease, holder);
  }

  /** Redis's clock (ms): one clock for every host that checks, so a repeat is never early by a host's skew. */
  async now(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** The alerts firing now, by their key (alertKey). */
  async read(): Promise<Map<string, StoredAlert>> {
    const all = await this.redis.hgetall(this.keys.alertsFiring);
    return new Map(Object.entries(all).map(([key, raw]) => [key, { raw, alert: parse(raw) }]));
  }

  /** The alerts firing now, readable ones only. */
  async firing(): Promise<FiringAlert[]> {
    return [...(await this.read()).values()].flatMap((s) => (s.alert ? [s.alert] : []));
  }

  /**
   * Changes the entry `key` from what was read (`read`, undefined: none) to `next`
   * (undefined: removes it); true when `holder`, still holding the lease, made the
   * change, and so is the one to send it.
   */
  swap(holder: string, key: string, read: string | undefined, next: FiringAlert | undefined): Promise<boolean> {
    return this.scripts.swapAlert(
      { lease: this.keys.alertLease, alerts: this.keys.alertsFiring },
      { holder, field: key, read: read ?? '', next: next ? JSON.stringify(next) : '' },
    );
  }
}

function parse(raw: string): FiringAlert | undefined {
  try {
    const a = JSON.parse(raw) as Partial<FiringAlert> | null;
    return a && typeof a.rule === 'string' && typeof a.run === 'string' && typeof a.sentAt === 'number' ? (a as FiringAlert) : undefined;
  } catch {
    return undefined;
  }
}
