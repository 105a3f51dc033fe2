import type { Redis } from 'ioredis';
import type { FieldPlanMeta, RunMeta } from './catalog.js';
import { QUEUE_COPY, fieldPlanKey } from './names.js';

/**
 * The low watermark, in Lua (see advanceWatermark in @influx-backup/core for the
 * same rule in TypeScript): marks chunk `index` of a field plan done and moves
 * the field's checkpoint to the newest value of the unbroken run of done chunks
 * from the plan's first, never backwards. Marks below the frontier are dropped,
 * so a plan's record stays small however many chunks it has. Times are int64
 * decimal strings: Lua numbers are doubles, so they are compared as strings.
 */
const WATERMARK_LUA = `
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
local function watermark(progress, checkpoints, metaKey, index, lastTime, fid, meta, ttl)
  local last = lastTime
  if last == '' then last = '-' end
  local frontier = tonumber(redis.call('HGET', progress, 'frontier') or '0')
  if tonumber(index) >= frontier then
    redis.call('HSET', progress, 'c' .. index, last)
  end
  redis.call('EXPIRE', progress, ttl)
  local best = redis.call('HGET', checkpoints, fid)
  local moved = false
  while true do
    local v = redis.call('HGET', progress, 'c' .. frontier)
    if not v then break end
    if v ~= '-' and (not best or cmp(v, best) > 0) then
      best = v
      moved = true
    end
    redis.call('HDEL', progress, 'c' .. frontier)
    frontier = frontier + 1
  end
  redis.call('HSET', progress, 'frontier', frontier)
  if moved then
    redis.call('HSET', checkpoints, fid, best)
    redis.call('HSET', metaKey, fid, meta)
  end
  return {frontier, best or ''}
end
`;

/**
 * KEYS: progress hash, checkpoints hash, checkpoint-meta hash
 * ARGV: chunk index, newest time copied ('' = none), field id, meta JSON, TTL s
 */
/** Stamps a run finished (ms) once its plan is complete and every chunk is counted; see RUN_FINISHED. */
const STAMP_FINISHED_LUA = `
local function stampFinished(run, now)
  local c = redis.call('HMGET', run, 'planned', 'total', 'done', 'failed')
  if c[1] == '1' and tonumber(c[3] or '0') + tonumber(c[4] or '0') >= tonumber(c[2] or '0') then redis.call('HSETNX', run, 'finished', now) end
end
`;

/** KEYS: run hash; ARGV: now (ms). */
const RUN_FINISHED = `${STAMP_FINISHED_LUA}
stampFinished(KEYS[1], ARGV[1])
return 0
`;

const COMPLETE_CHUNK = `${WATERMARK_LUA}
return watermark(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
`;

/**
 * A chunk job of a run finished for good (done, or failed with no attempt
 * left), in one atomic step: the watermark of each of its fields whose plan
 * advances the checkpoint (done jobs only; each field by its own plan, chunk
 * index and newest value), then the run's counters, once per job whatever the
 * retries or stalls (the run's bitmap of finished positions), then the same
 * counters of every run that planned the chunk while it was in flight and
 * follows it.
 *
 * The chunk's claim goes too (if this job holds it), so the chunk planned again
 * is enqueued again.
 *
 * The totals (for /metrics counters) count it once too, under its run's source
 * (see totalField), and a done job stamps each of its fields' last success.
 *
 * KEYS: run hash, finished bits, failed bits, followers hash, failures list,
 *       checkpoints hash, checkpoint-meta hash, claim, totals hash,
 *       last-success hash, then one progress hash per watermark
 * ARGV: position, 'done'|'failed', values, failure JSON, TTL s, run key prefix,
 *       failures kept, job id, now (ms), JSON list of the job's field ids,
 *       measurement, the run's source ('' = the single databases.source), then
 *       per watermark: chunk index, newest time ('' = none), field id,
 *       checkpoint meta JSON
 */
const FINISH_CHUNK = `${WATERMARK_LUA}${STAMP_FINISHED_LUA}
local done = ARGV[2] == 'done'
local ttl = ARGV[5]
if redis.call('GET', KEYS[8]) == ARGV[8] then redis.call('DEL', KEYS[8]) end
if done then
  for w = 11, #KEYS do
    local a = 13 + (w - 11) * 4
    watermark(KEYS[w], KEYS[6], KEYS[7], ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ttl)
  end
  for _, fid in ipairs(cjson.decode(ARGV[10])) do redis.call('HSET', KEYS[10], fid, ARGV[9]) end
end
if redis.call('SETBIT', KEYS[2], ARGV[1], 1) == 1 then return 0 end
redis.call('EXPIRE', KEYS[2], ttl)
local keep = tonumber(ARGV[7])
local function count(run, failures)
  if done then
    redis.call('HINCRBY', run, 'done', 1)
    redis.call('HINCRBY', run, 'values', ARGV[3])
  else
    redis.call('HINCRBY', run, 'failed', 1)
    redis.call('LPUSH', failures, ARGV[4])
    redis.call('LTRIM', failures, 0, keep - 1)
    redis.call('EXPIRE', failures, ttl)
  end
  redis.call('HINCRBY', run .. ':m', ARGV[11], -1)
  stampFinished(run, ARGV[9])
end
local src = ':' .. ARGV[12]
if done then
  redis.call('HINCRBY', KEYS[9], 'done' .. src, 1)
  redis.call('HINCRBY', KEYS[9], 'values' .. src, ARGV[3])
else
  redis.call('HINCRBY', KEYS[9], 'failed' .. src, 1)
  redis.call('SETBIT', KEYS[3], ARGV[1], 1)
  redis.call('EXPIRE', KEYS[3], ttl)
end
count(KEYS[1], KEYS[5])
local followers = redis.call('HGET', KEYS[4], ARGV[1])
if followers then
  for r in string.gmatch(followers, '%S+') do count(ARGV[6] .. r, ARGV[6] .. r .. ':failures') end
  redis.call('HDEL', KEYS[4], ARGV[1])
end
return 1
`;

/**
 * A group job failed for good: it is replaced by one job per field, at `n`
 * fresh positions of the same run, atomically: the group's position is marked
 * finished without being counted, the run's total grows by n - 1 (so the run
 * waits for the new jobs before it ends), runs following the group follow the
 * first new job, and the group's claim goes. Idempotent: a job that calls it
 * again (a retried split) gets the same positions; -1 if the group was counted
 * as finished already.
 *
 * KEYS: run hash, finished bits, splits hash, followers hash, claim, the run's
 *       per-measurement counts
 * ARGV: position, n, job id, TTL s, measurement
 */
const SPLIT_CHUNK = `
local base = redis.call('HGET', KEYS[3], ARGV[1])
if base then return tonumber(base) end
if redis.call('GETBIT', KEYS[2], ARGV[1]) == 1 then return -1 end
local n = tonumber(ARGV[2])
base = redis.call('HINCRBY', KEYS[1], 'seq', n) - n
redis.call('HSET', KEYS[3], ARGV[1], base)
redis.call('EXPIRE', KEYS[3], ARGV[4])
redis.call('SETBIT', KEYS[2], ARGV[1], 1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('HINCRBY', KEYS[1], 'total', n - 1)
redis.call('HINCRBY', KEYS[6], ARGV[5], n - 1)
local followers = redis.call('HGET', KEYS[4], ARGV[1])
if followers then
  redis.call('HSET', KEYS[4], string.format('%d', base), followers)
  redis.call('HDEL', KEYS[4], ARGV[1])
end
if redis.call('GET', KEYS[5]) == ARGV[3] then redis.call('DEL', KEYS[5]) end
return base
`;

/**
 * Claims a batch of chunks for a run before it adds their jobs, atomically: a
 * chunk nobody holds is claimed (its claim names the job that will copy it, and
 * lapses after a day should that job never finish); a chunk another run's job
 * holds is followed instead, so this run's counters count it when it finishes
 * (atomic with FINISH_CHUNK: one that finished already is counted at once).
 * A claim whose job is gone from the queue unfinished (removed by hand in Bull
 * Board, or with the queue obliterated) is taken over once it is older than the
 * grace (a planner adds a batch's jobs seconds after claiming them), so the
 * chunk is copied again instead of waiting out the claim's day.
 * Returns, per chunk: 1 claimed (add its job), 0 followed, 2 counted at once
 * (its job finished already), -1 held by a job this version cannot follow (left
 * to it, not counted).
 *
 * KEYS: the run's hash, its failures list
 * ARGV: run key prefix, claim key prefix, TTL s, claim TTL s, failures kept,
 *       job key prefix, grace ms, then (chunk id, job id) pairs
 */
const CLAIM_CHUNKS = `
local keep = tonumber(ARGV[5])
local claimTtlMs = tonumber(ARGV[4]) * 1000
local graceMs = tonumber(ARGV[7])
local out = {}
for i = 8, #ARGV, 2 do
  local claim = ARGV[2] .. ARGV[i]
  if redis.call('SET', claim, ARGV[i + 1], 'NX', 'EX', ARGV[4]) then
    out[#out + 1] = 1
  else
    local holder = redis.call('GET', claim)
    local hrun, hseq = string.match(holder or '', '^([rx]%w+)%.(%w+)$')
    if not hrun then
      out[#out + 1] = -1
    else
      out[#out + 1] = 0
      local other = ARGV[1] .. hrun
      local pos = string.format('%d', tonumber(hseq, 36))
      if redis.call('GETBIT', other .. ':bits', pos) == 1 then
        out[#out] = 2
        if redis.call('GETBIT', other .. ':fbits', pos) == 1 then
          redis.call('HINCRBY', KEYS[1], 'failed', 1)
          redis.call('LPUSH', KEYS[2], cjson.encode({reason = 'failed for good as job ' .. holder}))
          redis.call('LTRIM', KEYS[2], 0, keep - 1)
        else
          redis.call('HINCRBY', KEYS[1], 'done', 1)
        end
      elseif redis.call('EXISTS', ARGV[6] .. holder) == 0 and claimTtlMs - redis.call('PTTL', claim) > graceMs then
        redis.call('SET', claim, ARGV[i + 1], 'EX', ARGV[4])
        out[#out] = 1
      else
        local me = string.sub(KEYS[1], #ARGV[1] + 1)
        local cur = redis.call('HGET', other .. ':follow', pos)
        redis.call('HSET', other .. ':follow', pos, cur and (cur .. ' ' .. me) or me)
        redis.call('EXPIRE', other .. ':follow', ARGV[3])
      end
    end
  end
end
return out
`;

/** How long a claim lasts if its job never finishes (a planner that died between claiming and adding). */
const CLAIM_TTL_S = 24 * 3600;
/** How old a claim must be before its job, gone from the queue, counts as removed rather than not added yet. */
const ORPHAN_CLAIM_GRACE_MS = 60_000;

/**
 * Moves a checkpoint (and its meta) from an old field id to a new one unless the
 * new one has its own, then drops the old one: once, atomically, however many
 * planners start at once.
 * KEYS: checkpoints hash, checkpoint-meta hash; ARGV: old id, new id
 */
const ADOPT_CHECKPOINT = `
local fresh = redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0
for _, key in ipairs(KEYS) do
  local old = redis.call('HGET', key, ARGV[1])
  if old and fresh then redis.call('HSET', key, ARGV[2], old) end
end
local moved = redis.call('HGET', KEYS[1], ARGV[2])
for _, key in ipairs(KEYS) do redis.call('HDEL', key, ARGV[1]) end
return moved
`;

/**
 * Takes the lease of the cluster-wide alerts, or renews it if `holder` has it.
 * KEYS: lease; ARGV: holder, TTL ms. Returns 1 while held.
 */
const ALERT_LEASE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`;

/**
 * Records that a cluster-wide alert started ('firing') or ended, only while the
 * lease is `holder`'s and only if it changes: 1 means "send it", so a planner
 * whose lease lapsed mid-check never sends what another one sends.
 * KEYS: lease, alerts hash; ARGV: holder, rule name, 'firing'|'resolved', JSON
 */
const RECORD_ALERT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == 'firing' then return redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[4]) end
return redis.call('HDEL', KEYS[2], ARGV[2])
`;

/** Deletes KEYS[1] only while it holds ARGV[1]: a claim or a lease is dropped by its holder only. */
const COMPARE_AND_DELETE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

const SCRIPTS = {
  ibAlertLease: ALERT_LEASE,
  ibRecordAlert: RECORD_ALERT,
  ibCompleteChunk: COMPLETE_CHUNK,
  ibFinishChunk: FINISH_CHUNK,
  ibSplitChunk: SPLIT_CHUNK,
  ibClaimChunks: CLAIM_CHUNKS,
  ibAdoptCheckpoint: ADOPT_CHECKPOINT,
};
type ScriptCall = (numKeys: number, ...args: string[]) => Promise<unknown>;

/** A run's counters, read in one round trip whatever its size. */
export interface RunCounters {
  /** Chunks planned so far (final once `planned`). */
  total: number;
  done: number;
  failed: number;
  values: number;
  /** Planning finished: `total` is final. */
  planned: boolean;
  /** The run's record exists in Redis. */
  exists: boolean;
  /** Attempts that failed and were tried again. */
  retried: number;
  /** The run's id as its plan named it (absent when the record is gone). */
  runId?: string;
  /** When it was opened, and when its last chunk finished (ms). */
  startedAt?: number;
  finishedAt?: number;
}

/** Since the installation's first run, counted once per chunk (retries per attempt): never go down. */
export interface Totals {
  values: number;
  done: number;
  failed: number;
  retried: number;
}

const TOTAL_COUNTERS = ['values', 'done', 'failed', 'retried'] as const satisfies readonly (keyof Totals)[];

/**
 * The totals hash's field of one counter of one source: `values:plant_a`, and
 * `values:` for the single databases.source, which its runs leave unnamed
 * (source names hold no ":"). Four fields per source, however many chunks.
 * Versions before totals were kept per source wrote the bare counter (`values`):
 * those fields are read as `before` and written no more.
 */
function totalField(counter: keyof Totals, source: string): string {
  return `${counter}:${source}`;
}

/** The totals by source, as totals() reads them in one round trip. */
export interface TotalsBySource {
  /** By the source their runs name: its name in databases.sources, '' for the single databases.source. */
  bySource: Map<string, Totals>;
  /** Counted by a version that kept one total for the installation (before an upgrade); absent when there is none. */
  before?: Totals;
}

function noTotals(): Totals {
  return { values: 0, done: 0, failed: 0, retried: 0 };
}

/** A chunk that failed for good, as the worker recorded it. */
export interface ChunkFailure {
  jobId?: string;
  measurement?: string;
  field?: string;
  startNs?: string;
  endNs?: string;
  reason: string;
}

export interface FinishChunk {
  run: string;
  seq: number;
  /** The run's source (RunMeta.source): its totals count the chunk. Absent: the single databases.source. */
  source?: string;
  /** The chunk's id (chunkDedupeId) and this job's id: the claim released if this job holds it. */
  claim: { chunk: string; jobId: string };
  outcome: 'done' | 'failed';
  values: number;
  /** The job's measurement and fields (their last success is stamped when done). */
  measurement: string;
  fieldIds: readonly string[];
  failure?: ChunkFailure;
  /** Done jobs: the watermark inputs of each of its fields whose plan advances the checkpoint. */
  watermarks?: ChunkWatermark[];
}

export interface ChunkWatermark {
  planKey: string;
  fieldId: string;
  index: number;
  lastTimeNs: bigint | null;
}

/** Failures kept per run (the newest); the rest are counted, and listed by the failed set. */
const FAILURES_KEPT = 20;

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
  /** A long-running `worker`, or the workers inside one `run` (absent in records of older versions: a worker). */
  role?: 'worker' | 'run';
  /** The process's resident memory at its last heartbeat (MB). */
  rssMb?: number;
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
    lastRestore: string;
    progress: (planKey: string) => string;
    run: string;
    claim: string;
    /** A copy job's BullMQ hash, by job id. */
    job: string;
    totals: string;
    lastSuccess: string;
    newestRun: string;
    newestRuns: string;
    alertLease: string;
    alerts: string;
  };

  private readonly orphanGraceMs: number;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    /** orphanGraceMs: see CLAIM_CHUNKS (tests shorten it). */
    { orphanGraceMs = ORPHAN_CLAIM_GRACE_MS }: { orphanGraceMs?: number } = {},
  ) {
    this.orphanGraceMs = orphanGraceMs;
    // EVALSHA once loaded: a script is sent whole once per connection, not per chunk.
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, { lua });
    }
    if (!prefix) throw new Error('StateStore needs a key prefix');
    this.k = {
      checkpoints: `${prefix}:state:checkpoints`,
      meta: `${prefix}:state:checkpoint-meta`,
      workers: `${prefix}:state:workers`,
      lastRun: `${prefix}:state:last-run`,
      lastRestore: `${prefix}:state:last-restore`,
      progress: (planKey) => `${prefix}:state:progress:${planKey}`,
      run: `${prefix}:state:run:`,
      claim: `${prefix}:state:claim:`,
      job: `${prefix}:${QUEUE_COPY}:`,
      totals: `${prefix}:state:totals`,
      lastSuccess: `${prefix}:state:last-success`,
      newestRun: `${prefix}:state:newest-run`,
      newestRuns: `${prefix}:state:newest-runs`,
      alertLease: `${prefix}:state:alerts-lease`,
      alerts: `${prefix}:state:alerts`,
    };
  }

  async checkpoint(fid: string): Promise<bigint | undefined> {
    const v = await this.redis.hget(this.k.checkpoints, fid);
    return v === null ? undefined : BigInt(v);
  }

  /**
   * The checkpoint of `fid`, taking over the one an older version kept under
   * `legacyFid` (no retention policy) when `fid` has none: that is how an existing
   * installation's checkpoints become its default policy's.
   */
  async adoptCheckpoint(legacyFid: string, fid: string): Promise<bigint | undefined> {
    const v = (await this.script('ibAdoptCheckpoint')(2, this.k.checkpoints, this.k.meta, legacyFid, fid)) as string | null;
    return v === null ? undefined : BigInt(v);
  }

  async checkpoints(): Promise<CheckpointInfo[]> {
    const [all, meta] = await Promise.all([this.redis.hgetall(this.k.checkpoints), this.redis.hgetall(this.k.meta)]);
    const order = (c: CheckpointInfo): string => JSON.stringify([c.retentionPolicy ?? '', c.measurement, c.field]);
    return Object.entries(all)
      .map(([fid, v]) => {
        const [source = '', database = '', measurement = '', field = '', retentionPolicy] = JSON.parse(fid) as string[];
        const m = meta[fid] ? (JSON.parse(meta[fid]) as { updatedAt?: string }) : {};
        return {
          fieldId: fid,
          source,
          database,
          ...(retentionPolicy === undefined ? {} : { retentionPolicy }),
          measurement,
          field,
          timeNs: BigInt(v),
          ...(m.updatedAt ? { updatedAt: m.updatedAt } : {}),
        };
      })
      .sort((a, b) => order(a).localeCompare(order(b)));
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
  async completeChunk(
    planKey: string,
    fid: string,
    index: number,
    lastTimeNs: bigint | null,
  ): Promise<{ frontier: number; checkpointNs: bigint | undefined }> {
    const meta = JSON.stringify({ updatedAt: new Date().toISOString(), planKey });
    const [frontier, best] = (await this.script('ibCompleteChunk')(
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

  /** Opens a run's record: what all its jobs share, stored once. */
  async openRun(run: string, meta: RunMeta): Promise<void> {
    const key = this.k.run + run;
    const multi = this.redis.multi().hsetnx(key, 'meta', JSON.stringify(meta)).hget(key, 'meta').hsetnx(key, 'started', String(Date.now()));
    const [[, created] = [], [, existing] = []] = (await multi.expire(key, PROGRESS_TTL_S).exec()) ?? [];
    if (!created && (JSON.parse(String(existing)) as RunMeta).runId !== meta.runId) {
      throw new Error(`run key ${run} of ${meta.runId} is taken by run ${(JSON.parse(String(existing)) as RunMeta).runId}; plan again`);
    }
    // The runs the metrics block and the cluster-wide alerts look at: the newest
    // one, and the newest of each source (one field per source: bounded by the configuration).
    await this.redis
      .multi()
      .set(this.k.newestRun, run)
      .hset(this.k.newestRuns, meta.source ?? '', run)
      .exec();
  }

  /** Records the field plans of a run (position k: meta) and opens the progress records of those that advance. */
  async addFieldPlans(run: string, fields: { k: number; meta: FieldPlanMeta }[]): Promise<void> {
    if (fields.length === 0) return;
    const multi = this.redis.multi();
    for (const f of fields) {
      multi.hset(this.k.run + run, `f${f.k}`, JSON.stringify(f.meta));
      if (f.meta.advances) {
        const key = this.k.progress(fieldPlanKey(run, f.k));
        multi.hsetnx(key, 'frontier', '0').expire(key, PROGRESS_TTL_S);
      }
    }
    await multi.exec();
  }

  /** A run's meta and one field plan's meta, for a worker (which caches them). */
  async runPlan(run: string, k: number): Promise<{ run: RunMeta; field: FieldPlanMeta } | undefined> {
    const [meta, field] = await this.redis.hmget(this.k.run + run, 'meta', `f${k}`);
    if (!meta || !field) return undefined;
    return { run: JSON.parse(meta) as RunMeta, field: JSON.parse(field) as FieldPlanMeta };
  }

  /**
   * Chunks added to a run's plan, with the chunks still to finish per measurement
   * (`byMeasurement`); `planned` once the plan is complete.
   */
  async addPlanned(run: string, chunks: number, planned = false, byMeasurement: ReadonlyMap<string, number> = new Map()): Promise<void> {
    const key = this.k.run + run;
    const multi = this.redis.multi().hincrby(key, 'total', chunks);
    for (const [m, n] of byMeasurement) multi.hincrby(`${key}:m`, m, n);
    if (byMeasurement.size > 0) multi.expire(`${key}:m`, PROGRESS_TTL_S);
    if (planned) {
      multi.hset(key, 'planned', '1');
      // A plan whose chunks all finished while it was still planning ends here.
      multi.eval(RUN_FINISHED, 1, key, String(Date.now()));
    }
    await multi.expire(key, PROGRESS_TTL_S).exec();
  }

  async runCounters(run: string): Promise<RunCounters> {
    const fields = ['meta', 'total', 'done', 'failed', 'values', 'planned', 'retried', 'started', 'finished'] as const;
    const [meta, total, done, failed, values, planned, retried, started, finished] = await this.redis.hmget(this.k.run + run, ...fields);
    return {
      total: Number(total ?? 0),
      done: Number(done ?? 0),
      failed: Number(failed ?? 0),
      values: Number(values ?? 0),
      planned: planned === '1',
      exists: meta !== null,
      retried: Number(retried ?? 0),
      ...(meta ? { runId: (JSON.parse(meta) as RunMeta).runId } : {}),
      ...(started ? { startedAt: Number(started) } : {}),
      ...(finished ? { finishedAt: Number(finished) } : {}),
    };
  }

  /** Per measurement of a run, chunks still to finish (0 or less: the measurement is complete). */
  async measurementsLeft(run: string): Promise<Record<string, number>> {
    const all = await this.redis.hgetall(`${this.k.run}${run}:m`);
    return Object.fromEntries(Object.entries(all).map(([m, n]) => [m, Number(n)]));
  }

  /** The key of the run opened last (the one in progress, or the last one), if any. */
  async newestRun(): Promise<string | undefined> {
    return (await this.redis.get(this.k.newestRun)) ?? undefined;
  }

  /** The newest run of each source, by source name ('' for the single databases.source). */
  async newestRuns(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.k.newestRuns)));
  }

  /** A failed attempt that will be tried again, in its run and in its source's totals (absent: the single source): one round trip. */
  async countRetry(run: string, source = ''): Promise<void> {
    await this.redis
      .multi()
      .hincrby(this.k.run + run, 'retried', 1)
      .hincrby(this.k.totals, totalField('retried', source), 1)
      .exec();
  }

  /** The totals of every source that has any, and those counted before they were kept per source; see totalField. */
  async totals(): Promise<TotalsBySource> {
    const all = await this.redis.hgetall(this.k.totals);
    const out: TotalsBySource = { bySource: new Map() };
    for (const [key, v] of Object.entries(all)) {
      const at = key.indexOf(':');
      const counter = (at < 0 ? key : key.slice(0, at)) as keyof Totals;
      if (!TOTAL_COUNTERS.includes(counter)) continue;
      let t: Totals;
      if (at < 0) t = out.before ??= noTotals();
      else {
        const source = key.slice(at + 1);
        t = out.bySource.get(source) ?? noTotals();
        out.bySource.set(source, t);
      }
      t[counter] = Number(v);
    }
    return out;
  }

  /** Per field id, when a chunk of it was last copied (ms). */
  async lastSuccesses(): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.k.lastSuccess);
    return new Map(Object.entries(all).map(([fid, ms]) => [fid, Number(ms)]));
  }

  /** The newest failures of a run (at most FAILURES_KEPT). */
  async runFailures(run: string): Promise<ChunkFailure[]> {
    const list = await this.redis.lrange(`${this.k.run}${run}:failures`, 0, FAILURES_KEPT - 1);
    return list.map((v) => JSON.parse(v) as ChunkFailure);
  }

  /** Counts a chunk of a run finished for good; see FINISH_CHUNK. Returns false when it was counted before. */
  async finishChunk(f: FinishChunk): Promise<boolean> {
    const run = this.k.run + f.run;
    const ws = f.outcome === 'done' ? (f.watermarks ?? []) : [];
    const updatedAt = new Date().toISOString();
    const r = await this.script('ibFinishChunk')(
      10 + ws.length,
      run,
      `${run}:bits`,
      `${run}:fbits`,
      `${run}:follow`,
      `${run}:failures`,
      this.k.checkpoints,
      this.k.meta,
      this.k.claim + f.claim.chunk,
      this.k.totals,
      this.k.lastSuccess,
      ...ws.map((w) => this.k.progress(w.planKey)),
      String(f.seq),
      f.outcome,
      String(f.values),
      JSON.stringify(f.failure ?? { reason: '' }),
      String(PROGRESS_TTL_S),
      this.k.run,
      String(FAILURES_KEPT),
      f.claim.jobId,
      String(Date.now()),
      JSON.stringify(f.fieldIds),
      f.measurement,
      f.source ?? '',
      ...ws.flatMap((w) => [
        String(w.index),
        w.lastTimeNs === null ? '' : w.lastTimeNs.toString(),
        w.fieldId,
        JSON.stringify({ updatedAt, planKey: w.planKey }),
      ]),
    );
    return Number(r) === 1;
  }

  /** Positions for `n` new jobs of a run: the planner's and those of split groups come from one counter. */
  async allocatePositions(run: string, n: number): Promise<number> {
    return (await this.redis.hincrby(this.k.run + run, 'seq', n)) - n;
  }

  /**
   * Replaces a group job that failed for good by `n` per-field jobs; see
   * SPLIT_CHUNK. Returns the first of their positions, or undefined when the
   * group was counted as finished already (nothing to split).
   */
  async splitChunk(
    run: string,
    seq: number,
    n: number,
    claim: { chunk: string; jobId: string },
    measurement: string,
  ): Promise<number | undefined> {
    const key = this.k.run + run;
    const keys = [key, `${key}:bits`, `${key}:split`, `${key}:follow`, this.k.claim + claim.chunk, `${key}:m`];
    const base = Number(
      await this.script('ibSplitChunk')(6, ...keys, String(seq), String(n), claim.jobId, String(PROGRESS_TTL_S), measurement),
    );
    return base < 0 ? undefined : base;
  }

  /** Claims chunks for `run` or makes it follow the jobs holding them; see CLAIM_CHUNKS. */
  async claimChunks(run: string, chunks: { chunk: string; jobId: string }[]): Promise<(1 | 0 | 2 | -1)[]> {
    if (chunks.length === 0) return [];
    const key = this.k.run + run;
    return (await this.script('ibClaimChunks')(
      2,
      key,
      `${key}:failures`,
      this.k.run,
      this.k.claim,
      String(PROGRESS_TTL_S),
      String(CLAIM_TTL_S),
      String(FAILURES_KEPT),
      this.k.job,
      String(this.orphanGraceMs),
      ...chunks.flatMap((c) => [c.chunk, c.jobId]),
    )) as (1 | 0 | 2 | -1)[];
  }

  /** Drops claims whose jobs were never added (the add failed). */
  async releaseClaims(chunks: { chunk: string; jobId: string }[]): Promise<void> {
    if (chunks.length === 0) return;
    const multi = this.redis.multi();
    // Only if still ours: compare-and-delete, as FINISH_CHUNK does.
    for (const c of chunks) multi.eval(COMPARE_AND_DELETE, 1, this.k.claim + c.chunk, c.jobId);
    await multi.exec();
  }

  private script(name: keyof typeof SCRIPTS): ScriptCall {
    const fn = (this.redis as unknown as Record<string, ScriptCall>)[name]!;
    return fn.bind(this.redis);
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

  /** Takes or renews the lease of the cluster-wide alerts (one planner checks them at a time). */
  async alertLease(holder: string, ttlMs: number): Promise<boolean> {
    return Number(await this.script('ibAlertLease')(1, this.k.alertLease, holder, String(Math.ceil(ttlMs)))) === 1;
  }

  async releaseAlertLease(holder: string): Promise<void> {
    await this.redis.eval(COMPARE_AND_DELETE, 1, this.k.alertLease, holder);
  }

  /** The cluster-wide alerts firing now. */
  async firingAlerts(): Promise<Set<string>> {
    return new Set(await this.redis.hkeys(this.k.alerts));
  }

  /** See RECORD_ALERT: true when `holder` (still holding the lease) is the one to send it. */
  async recordAlert(holder: string, name: string, state: 'firing' | 'resolved', detail: unknown): Promise<boolean> {
    return (
      Number(await this.script('ibRecordAlert')(2, this.k.alertLease, this.k.alerts, holder, name, state, JSON.stringify(detail))) === 1
    );
  }

  /**
   * A restore keeps its summary apart from the backup's last run, so status and
   * the last-run metrics (and alerts on them) still describe the backup.
   */
  async setLastRun(summary: unknown, of: 'backup' | 'restore' = 'backup'): Promise<void> {
    await this.redis.set(of === 'restore' ? this.k.lastRestore : this.k.lastRun, JSON.stringify(summary));
  }

  async lastRun<T = unknown>(of: 'backup' | 'restore' = 'backup'): Promise<T | undefined> {
    const v = await this.redis.get(of === 'restore' ? this.k.lastRestore : this.k.lastRun);
    return v === null ? undefined : (JSON.parse(v) as T);
  }
}
