import type { Redis } from 'ioredis';

/**
 * Completes one chunk of a field plan and moves the field's checkpoint to the low
 * watermark, in one atomic step (see advanceWatermark in @influx-backup/core for
 * the same rule in TypeScript). Times are int64 decimal strings: Lua numbers are
 * doubles, so they are compared as strings.
 *
 * KEYS: progress hash, checkpoints hash, checkpoint-meta hash
 * ARGV: chunk index, newest time copied ('' = none), field id, meta JSON, TTL s
 */
const COMPLETE_CHUNK = `
local function cmp(a, b)
  local an = string.sub(a, 1, 1) == '-'
  local bn = string.sub(b, 1, 1) == '-'
  if an ~= bn then
    if an then return -1 else return 1 end
  end
  local ad = an and string.sub(a, 2) or a
  local bd = bn and string.sub(b, 2) or b
  local r = 0
  if #ad ~= #bd then
    if #ad < #bd then r = -1 else r = 1 end
  elseif ad ~= bd then
    if ad < bd then r = -1 else r = 1 end
  end
  if an then r = -r end
  return r
end
local last = ARGV[2]
if last == '' then last = '-' end
redis.call('HSET', KEYS[1], 'c' .. ARGV[1], last)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
local frontier = tonumber(redis.call('HGET', KEYS[1], 'frontier') or '0')
local best = redis.call('HGET', KEYS[2], ARGV[3])
local moved = false
while true do
  local v = redis.call('HGET', KEYS[1], 'c' .. frontier)
  if not v then break end
  if v ~= '-' and (not best or cmp(v, best) > 0) then
    best = v
    moved = true
  end
  frontier = frontier + 1
end
redis.call('HSET', KEYS[1], 'frontier', frontier)
if moved then
  redis.call('HSET', KEYS[2], ARGV[3], best)
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
end
return {frontier, best or ''}
`;

export interface CheckpointInfo {
  fieldId: string;
  source: string;
  database: string;
  measurement: string;
  field: string;
  timeNs: bigint;
  updatedAt?: string;
}

export interface WorkerSeen {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  lastSeen: string;
  jobsDone: number;
  jobsFailed: number;
  /** Set when the worker shut down gracefully. */
  stoppedAt?: string;
}

/** Workers not seen for this long are dropped from the list. */
const WORKER_FORGET_MS = 7 * 24 * 3600 * 1000;

const PROGRESS_TTL_S = 14 * 24 * 3600;

/**
 * The state influx-backup keeps in Redis beside BullMQ's queues: per-field
 * checkpoints, per-plan progress, workers seen and the last run's result.
 */
export class StateStore {
  private readonly k: {
    checkpoints: string;
    meta: string;
    workers: string;
    lastRun: string;
    progress: (planKey: string) => string;
  };

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    if (!prefix) throw new Error('StateStore needs a key prefix');
    this.k = {
      checkpoints: `${prefix}:state:checkpoints`,
      meta: `${prefix}:state:checkpoint-meta`,
      workers: `${prefix}:state:workers`,
      lastRun: `${prefix}:state:last-run`,
      progress: (planKey) => `${prefix}:state:progress:${planKey}`,
    };
  }

  async checkpoint(fid: string): Promise<bigint | undefined> {
    const v = await this.redis.hget(this.k.checkpoints, fid);
    return v === null ? undefined : BigInt(v);
  }

  async checkpoints(): Promise<CheckpointInfo[]> {
    const [all, meta] = await Promise.all([this.redis.hgetall(this.k.checkpoints), this.redis.hgetall(this.k.meta)]);
    return Object.entries(all)
      .map(([fid, v]) => {
        const [source = '', database = '', measurement = '', field = ''] = JSON.parse(fid) as string[];
        const m = meta[fid] ? (JSON.parse(meta[fid]) as { updatedAt?: string }) : {};
        return { fieldId: fid, source, database, measurement, field, timeNs: BigInt(v), ...(m.updatedAt ? { updatedAt: m.updatedAt } : {}) };
      })
      .sort((a, b) => (a.measurement === b.measurement ? a.field.localeCompare(b.field) : a.measurement.localeCompare(b.measurement)));
  }

  /** Opens (or keeps) a field plan's progress record. */
  async openPlan(planKey: string, chunks: number): Promise<void> {
    const key = this.k.progress(planKey);
    await this.redis.multi().hsetnx(key, 'frontier', '0').hset(key, 'chunks', String(chunks)).expire(key, PROGRESS_TTL_S).exec();
  }

  /**
   * Records that a chunk's values are acknowledged by the backup server and moves
   * the field's checkpoint to the plan's low watermark; never backwards.
   */
  async completeChunk(planKey: string, fid: string, index: number, lastTimeNs: bigint | null): Promise<{ frontier: number; checkpointNs: bigint | undefined }> {
    const meta = JSON.stringify({ updatedAt: new Date().toISOString(), planKey });
    const [frontier, best] = (await this.redis.eval(
      COMPLETE_CHUNK,
      3,
      this.k.progress(planKey),
      this.k.checkpoints,
      this.k.meta,
      String(index),
      lastTimeNs === null ? '' : lastTimeNs.toString(),
      fid,
      meta,
      String(PROGRESS_TTL_S),
    )) as [number, string];
    return { frontier: Number(frontier), checkpointNs: best === '' ? undefined : BigInt(best) };
  }

  async heartbeat(w: WorkerSeen): Promise<void> {
    await this.redis.hset(this.k.workers, w.id, JSON.stringify(w));
  }

  async workers(): Promise<WorkerSeen[]> {
    const all = await this.redis.hgetall(this.k.workers);
    const seen: WorkerSeen[] = [];
    const forget: string[] = [];
    for (const [id, v] of Object.entries(all)) {
      const w = JSON.parse(v) as WorkerSeen;
      if (Date.now() - Date.parse(w.lastSeen) > WORKER_FORGET_MS) forget.push(id);
      else seen.push(w);
    }
    if (forget.length > 0) await this.redis.hdel(this.k.workers, ...forget);
    return seen.sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
  }

  async setLastRun(summary: unknown): Promise<void> {
    await this.redis.set(this.k.lastRun, JSON.stringify(summary));
  }

  async lastRun<T = unknown>(): Promise<T | undefined> {
    const v = await this.redis.get(this.k.lastRun);
    return v === null ? undefined : (JSON.parse(v) as T);
  }
}
