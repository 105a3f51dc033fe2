import type { Redis } from 'ioredis';
import { parseFieldId } from '../names.js';
import type { StoreKeys } from '../keys.js';
import type { Scripts } from '../scripts.js';
import { PROGRESS_TTL_S } from './ttl.js';

export interface CheckpointInfo {
  fieldId: string;
  source: string;
  database: string;
  /** Absent on a checkpoint an older version saved and no plan has adopted yet. */
  retentionPolicy?: string;
  measurement: string;
  field: string;
  timeNs: bigint;
  updatedAt?: string;
}

/**
 * Each field's checkpoint: the time of its newest value that is in the backup together
 * with every older value of it in range (a low watermark over the chunks of its plans,
 * moved by finishChunk, or by complete() alone), and when a chunk last copied it.
 */
export class CheckpointStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StoreKeys,
    private readonly scripts: Scripts,
  ) {}

  async get(fid: string): Promise<bigint | undefined> {
    const v = await this.redis.hget(this.keys.checkpoints, fid);
    return v === null ? undefined : BigInt(v);
  }

  /**
   * The checkpoint of `fid`, taking over the one an older version kept under
   * `legacyFid` (no retention policy) when `fid` has none: that is how an existing
   * installation's checkpoints become its default policy's.
   */
  async adopt(legacyFid: string, fid: string): Promise<bigint | undefined> {
    const v = await this.scripts.adoptCheckpoint(
      { checkpoints: this.keys.checkpoints, meta: this.keys.checkpointMeta },
      { from: legacyFid, to: fid },
    );
    return v === null ? undefined : BigInt(v);
  }

  /** Every checkpoint, by policy, measurement and field. */
  async list(): Promise<CheckpointInfo[]> {
    const [all, meta] = await Promise.all([this.redis.hgetall(this.keys.checkpoints), this.redis.hgetall(this.keys.checkpointMeta)]);
    const order = (c: CheckpointInfo): string => JSON.stringify([c.retentionPolicy ?? '', c.measurement, c.field]);
    return Object.entries(all)
      .map(([fid, v]): CheckpointInfo => {
        const m = meta[fid] ? (JSON.parse(meta[fid]) as { updatedAt?: string }) : {};
        return { fieldId: fid, ...parseFieldId(fid), timeNs: BigInt(v), ...(m.updatedAt ? { updatedAt: m.updatedAt } : {}) };
      })
      .sort((a, b) => order(a).localeCompare(order(b)));
  }

  /** Opens (or keeps) a field plan's progress record. */
  async openPlan(planKey: string, chunks: number): Promise<void> {
    const key = this.keys.progress(planKey);
    await this.redis.multi().hsetnx(key, 'frontier', '0').hset(key, 'chunks', String(chunks)).expire(key, PROGRESS_TTL_S).exec();
  }

  /**
   * Records that a chunk's values are acknowledged by the backup server and moves the
   * field's checkpoint to the plan's low watermark; never backwards. (Workers do this
   * inside finishChunk, atomically with the run's counters.)
   */
  async complete(
    planKey: string,
    fid: string,
    index: number,
    lastTimeNs: bigint | null,
  ): Promise<{ frontier: number; checkpointNs: bigint | undefined }> {
    const meta = JSON.stringify({ updatedAt: new Date().toISOString(), planKey });
    const r = await this.scripts.completeChunk(
      { progress: this.keys.progress(planKey), checkpoints: this.keys.checkpoints, meta: this.keys.checkpointMeta },
      { index, lastTimeNs, fieldId: fid, meta, ttlS: PROGRESS_TTL_S },
    );
    return { frontier: r.frontier, checkpointNs: r.checkpoint === '' ? undefined : BigInt(r.checkpoint) };
  }

  /**
   * The time of each field's newest value in the source (ns), as a plan found it at `atNs`: what a field's lag is
   * measured against. One write per measurement and policy planned.
   */
  async recordSourceNewest(newest: ReadonlyMap<string, bigint>, atNs: bigint): Promise<void> {
    if (newest.size === 0) return;
    const at = String(atNs / 1_000_000n);
    await this.redis.hset(this.keys.sourceNewest, Object.fromEntries([...newest].map(([fid, t]) => [fid, `${t} ${at}`])));
  }

  /** Per field id, the source's newest value (ns) and when a plan found it (ms). */
  async sourceNewest(): Promise<Map<string, { timeNs: bigint; seenAt: number }>> {
    const all = await this.redis.hgetall(this.keys.sourceNewest);
    const out = new Map<string, { timeNs: bigint; seenAt: number }>();
    for (const [fid, v] of Object.entries(all)) {
      const [t, at] = v.split(' ');
      if (t && /^-?\d+$/.test(t)) out.set(fid, { timeNs: BigInt(t), seenAt: Number(at) });
    }
    return out;
  }

  /** Per field id, when a chunk of it was last copied (ms). */
  async lastSuccesses(): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.keys.lastSuccess);
    return new Map(Object.entries(all).map(([fid, ms]) => [fid, Number(ms)]));
  }
}
