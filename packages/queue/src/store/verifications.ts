import type { Redis } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import { totalField } from './totals.js';

/**
 * The last check of one field by a repair pass (verify --repair, a scheduled check):
 * what it compared, what it found and what it copied again. A chunk is one field's
 * chunk of the `time_chunks.size` grid.
 */
export interface FieldVerification {
  /** When the field was compared (ISO). */
  at: string;
  /** Compared value by value (--deep), not by counts alone. */
  deep: boolean;
  /** The range compared, ns since the epoch, both ends inclusive. */
  startNs: string;
  endNs: string;
  /** Chunks holding a value of the field on either server. */
  compared: number;
  /** Chunks where the source held a value the backup lacked or held differently: each copied again. */
  different: number;
  /** Values missing from the backup (counts alone: at least this many). */
  missing: number;
  /** Values the backup held with another value (read value by value only). */
  changed: number;
  /** Values only in the backup: kept, never deleted. */
  extra: number;
  /** Values the repair copied again (the source's values in the chunks found different). */
  copied: number;
  /** The run copying them (its counters say how far it got). */
  run?: string;
  /** The backup holds the field with other types than the source: no copy mends it. */
  backupTypes: string[];
  /**
   * After the copies, checked again: values still missing or changed (0: the backup holds
   * everything the source holds in range). null: not checked again (the copies were left to the
   * workers, or there was nothing to copy).
   */
  stillMissing: number | null;
  /** The backup holds every value of the field in range (extra values allowed); null: copies left to the workers. */
  ok: boolean | null;
}

/**
 * Each field's last check (one hash field per field id, overwritten by the next check)
 * and the repair totals of every source in the totals hash, beside the copy totals
 * (see totals.ts): chunks compared and found different here, values repaired by the
 * workers (finishChunk-11.lua).
 */
export class VerificationStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StoreKeys,
  ) {}

  /** Records the checks of a pass's fields of one source, and counts them in its totals: one round trip. */
  async record(
    checks: readonly { fieldId: string; verification: FieldVerification }[],
    totals: { source: string; compared: number; different: number },
  ): Promise<void> {
    if (checks.length === 0) return;
    const multi = this.redis.multi();
    for (const c of checks) multi.hset(this.keys.verified, c.fieldId, JSON.stringify(c.verification));
    multi.hincrby(this.keys.totals, totalField('compared', totals.source), totals.compared);
    multi.hincrby(this.keys.totals, totalField('different', totals.source), totals.different);
    await multi.exec();
  }

  /** Updates checks already recorded (after the check again), leaving the totals as they are. */
  async update(checks: readonly { fieldId: string; verification: FieldVerification }[]): Promise<void> {
    if (checks.length === 0) return;
    await this.redis.hset(this.keys.verified, Object.fromEntries(checks.map((c) => [c.fieldId, JSON.stringify(c.verification)])));
  }

  /** Every field's last check, by field id. */
  async list(): Promise<Map<string, FieldVerification>> {
    const all = await this.redis.hgetall(this.keys.verified);
    return new Map(Object.entries(all).map(([fid, v]) => [fid, JSON.parse(v) as FieldVerification]));
  }
}
