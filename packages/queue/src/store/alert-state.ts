import type { Redis } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import type { Scripts } from '../scripts.js';

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

  /** The names of the alerts firing now. */
  async firing(): Promise<Set<string>> {
    return new Set(await this.redis.hkeys(this.keys.alerts));
  }

  /** Records a transition; true when `holder` (still holding the lease) is the one to send it. */
  record(holder: string, name: string, state: 'firing' | 'resolved', detail: unknown): Promise<boolean> {
    return this.scripts.recordAlert(
      { lease: this.keys.alertLease, alerts: this.keys.alerts },
      { holder, name, state, detail: JSON.stringify(detail) },
    );
  }
}
