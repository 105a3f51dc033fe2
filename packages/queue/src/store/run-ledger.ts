import type { Redis } from 'ioredis';
import type { FieldPlanMeta, RunMeta } from '../catalog.js';
import { fieldPlanKey, parseChunkJobId } from '../names.js';
import type { StoreKeys } from '../keys.js';
import type { Scripts } from '../scripts.js';
import { readTotals, totalField, type TotalsBySource } from './totals.js';
import { CLAIM_TTL_S, FAILURES_KEPT, ORPHAN_CLAIM_GRACE_MS, PROGRESS_TTL_S } from './ttl.js';

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
  /** The run's id as its plan named it, its kind (copy, restore, ...) and source (absent: the single databases.source), from its record (absent when the record is gone). */
  runId?: string;
  kind?: string;
  source?: string;
  /** When it was opened, and when its last chunk finished (ms). */
  startedAt?: number;
  finishedAt?: number;
  /** When the first of its chunks counted so far began (ms): its rate runs from here, not from planning. */
  copyingAt?: number;
}

/**
 * The seconds one or more runs spent copying: from the earliest first chunk's start to the last chunk's end, or to
 * `now` while one of them goes on; planning before the first chunk is left out. Undefined before any chunk finished.
 * The one rule every rate of a run (the CLI's summary, status, the metrics block) is computed by.
 */
export function copyingSeconds(runs: readonly Pick<RunCounters, 'copyingAt' | 'finishedAt'>[], now = Date.now()): number | undefined {
  // A run no chunk of which has finished yet has not started copying as far as anyone knows.
  const copying = runs.filter((r) => r.copyingAt !== undefined);
  if (copying.length === 0) return undefined;
  const ends = copying.map((r) => r.finishedAt ?? now);
  return Math.max(0, Math.max(...ends) - Math.min(...copying.map((r) => r.copyingAt!))) / 1000;
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

/** A chunk's identity (chunkDedupeId) and the job that holds, or would hold, its claim. */
export interface ChunkClaim {
  chunk: string;
  jobId: string;
}

export interface ChunkWatermark {
  planKey: string;
  fieldId: string;
  index: number;
  lastTimeNs: bigint | null;
}

export interface FinishChunk {
  run: string;
  seq: number;
  /** The run's source (RunMeta.source): its totals count the chunk. Absent: the single databases.source. */
  source?: string;
  /** The run is a repair (RunMeta.kind): its values also count as values repaired. */
  repair?: boolean;
  /** The claim released if this job holds it. */
  claim: ChunkClaim;
  outcome: 'done' | 'failed';
  values: number;
  /** The job's measurement and fields (their last success is stamped when done). */
  measurement: string;
  fieldIds: readonly string[];
  failure?: ChunkFailure;
  /** When this attempt began (ms); absent: unknown. The run's copying time starts at its earliest chunk. */
  startedMs?: number;
  /** Done jobs: the watermark inputs of each of its fields whose plan advances the checkpoint. */
  watermarks?: readonly ChunkWatermark[];
}

/**
 * What claimChunks decided for each chunk: 1 claimed (add its job), 0 followed (another
 * run's job holds it; this run counts it when it finishes), 2 counted at once (its job
 * finished already), -1 held by a job this version cannot follow (left to it, not counted).
 */
export type ClaimVerdict = 1 | 0 | 2 | -1;

/** Which of these job ids are gone from the queue (removed by hand, or the queue obliterated). */
export type JobsGone = (jobIds: readonly string[]) => Promise<ReadonlySet<string>>;

/** How often a claim that changed under a planner is tried again before the plan gives up. */
const CLAIM_ROUNDS = 5;

/**
 * The runs: what a run's jobs share (stored once), its counters, the claims on the
 * chunks its jobs copy, the jobs a failed group is split into, and the totals of
 * every source. These stay in one place because one script (finishChunk) moves them
 * together, atomically.
 */
export class RunLedger {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StoreKeys,
    private readonly scripts: Scripts,
    /** See claimChunks (tests shorten it). */
    private readonly orphanGraceMs = ORPHAN_CLAIM_GRACE_MS,
  ) {}

  /** Opens a run's record: what all its jobs share, stored once. */
  async open(run: string, meta: RunMeta): Promise<void> {
    const key = this.keys.run(run).hash;
    const multi = this.redis.multi().hsetnx(key, 'meta', JSON.stringify(meta)).hget(key, 'meta').hsetnx(key, 'started', String(Date.now()));
    const [[, created] = [], [, existing] = []] = (await multi.expire(key, PROGRESS_TTL_S).exec()) ?? [];
    if (!created && (JSON.parse(String(existing)) as RunMeta).runId !== meta.runId) {
      throw new Error(`run key ${run} of ${meta.runId} is taken by run ${(JSON.parse(String(existing)) as RunMeta).runId}; plan again`);
    }
    // The runs the metrics block and the cluster-wide alerts look at: the newest
    // one, the newest of each source, and of each source and kind (one field each:
    // bounded by the configuration).
    await this.redis
      .multi()
      .set(this.keys.newestRun, run)
      .hset(this.keys.newestRuns, meta.source ?? '', run)
      .hset(this.keys.newestRunsByKind, JSON.stringify([meta.source ?? '', meta.kind]), run)
      .exec();
  }

  /** Records the field plans of a run (position k: meta) and opens the progress records of those that advance. */
  async addFieldPlans(run: string, fields: readonly { k: number; meta: FieldPlanMeta }[]): Promise<void> {
    if (fields.length === 0) return;
    const hash = this.keys.run(run).hash;
    const multi = this.redis.multi();
    for (const f of fields) {
      multi.hset(hash, `f${f.k}`, JSON.stringify(f.meta));
      if (f.meta.advances) {
        const key = this.keys.progress(fieldPlanKey(run, f.k));
        multi.hsetnx(key, 'frontier', '0').expire(key, PROGRESS_TTL_S);
      }
    }
    await multi.exec();
  }

  /** A run's meta and one field plan's meta (JobDescriber caches them). */
  async plan(run: string, k: number): Promise<{ run: RunMeta; field: FieldPlanMeta } | undefined> {
    const [meta, field] = await this.redis.hmget(this.keys.run(run).hash, 'meta', `f${k}`);
    if (!meta || !field) return undefined;
    return { run: JSON.parse(meta) as RunMeta, field: JSON.parse(field) as FieldPlanMeta };
  }

  /**
   * Chunks added to a run's plan, with the chunks still to finish per measurement
   * (`byMeasurement`); `planned` once the plan is complete.
   */
  async addPlanned(run: string, chunks: number, planned = false, byMeasurement: ReadonlyMap<string, number> = new Map()): Promise<void> {
    const k = this.keys.run(run);
    const multi = this.redis.multi().hincrby(k.hash, 'total', chunks);
    for (const [m, n] of byMeasurement) multi.hincrby(k.byMeasurement, m, n);
    if (byMeasurement.size > 0) multi.expire(k.byMeasurement, PROGRESS_TTL_S);
    if (planned) this.scripts.runPlanned(multi, k, Date.now());
    await multi.expire(k.hash, PROGRESS_TTL_S).exec();
  }

  async counters(run: string): Promise<RunCounters> {
    const fields = ['meta', 'total', 'done', 'failed', 'values', 'planned', 'retried', 'started', 'finished', 'copying'] as const;
    const [meta, total, done, failed, values, planned, retried, started, finished, copying] = await this.redis.hmget(
      this.keys.run(run).hash,
      ...fields,
    );
    return {
      total: Number(total ?? 0),
      done: Number(done ?? 0),
      failed: Number(failed ?? 0),
      values: Number(values ?? 0),
      planned: planned === '1',
      exists: meta !== null,
      retried: Number(retried ?? 0),
      ...(meta ? runOf(JSON.parse(meta) as RunMeta) : {}),
      ...(started ? { startedAt: Number(started) } : {}),
      ...(finished ? { finishedAt: Number(finished) } : {}),
      ...(copying ? { copyingAt: Number(copying) } : {}),
    };
  }

  /** Per measurement of a run, chunks still to finish (0 or less: the measurement is complete). */
  async measurementsLeft(run: string): Promise<Record<string, number>> {
    const all = await this.redis.hgetall(this.keys.run(run).byMeasurement);
    return Object.fromEntries(Object.entries(all).map(([m, n]) => [m, Number(n)]));
  }

  /** The key of the run opened last (the one in progress, or the last one), if any. */
  async newest(): Promise<string | undefined> {
    return (await this.redis.get(this.keys.newestRun)) ?? undefined;
  }

  /** The newest run of each source, by source name ('' for the single databases.source). */
  async newestBySource(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.newestRuns)));
  }

  /** The newest run of each source and kind (source '' for the single databases.source). */
  async newestByKind(): Promise<{ source: string; kind: string; run: string }[]> {
    return Object.entries(await this.redis.hgetall(this.keys.newestRunsByKind)).map(([field, run]) => {
      const [source = '', kind = ''] = JSON.parse(field) as string[];
      return { source, kind, run };
    });
  }

  /** A failed attempt that will be tried again, in its run and in its source's totals (absent: the single source): one round trip. */
  async countRetry(run: string, source = ''): Promise<void> {
    await this.redis
      .multi()
      .hincrby(this.keys.run(run).hash, 'retried', 1)
      .hincrby(this.keys.totals, totalField('retried', source), 1)
      .exec();
  }

  /** The totals of every source that has any, and those counted before they were kept per source. */
  async totals(): Promise<TotalsBySource> {
    return readTotals(await this.redis.hgetall(this.keys.totals));
  }

  /** The newest failures of a run (at most FAILURES_KEPT). */
  async failures(run: string): Promise<ChunkFailure[]> {
    const list = await this.redis.lrange(this.keys.run(run).failures, 0, FAILURES_KEPT - 1);
    return list.map((v) => JSON.parse(v) as ChunkFailure);
  }

  /**
   * Counts a chunk of a run finished for good (finishChunk-11.lua), then in the runs
   * that follow it (countFollowers-1.lua). Returns false when this job was counted
   * before (a retry, or a stalled job finished twice); its followers are counted
   * then too if an earlier call did not get to them.
   */
  async finishChunk(f: FinishChunk): Promise<boolean> {
    const run = this.keys.run(f.run);
    const ws = f.outcome === 'done' ? (f.watermarks ?? []) : [];
    const updatedAt = new Date().toISOString();
    const failure = JSON.stringify(f.failure ?? { reason: '' });
    const nowMs = Date.now();
    const r = await this.scripts.finishChunk(
      {
        run,
        checkpoints: this.keys.checkpoints,
        meta: this.keys.checkpointMeta,
        claim: this.keys.claim(f.claim.chunk),
        totals: this.keys.totals,
        lastSuccess: this.keys.lastSuccess,
        progress: ws.map((w) => this.keys.progress(w.planKey)),
      },
      {
        position: f.seq,
        outcome: f.outcome,
        values: f.values,
        failure,
        ttlS: PROGRESS_TTL_S,
        failuresKept: FAILURES_KEPT,
        jobId: f.claim.jobId,
        nowMs,
        fieldIds: f.fieldIds,
        measurement: f.measurement,
        source: f.source ?? '',
        repair: f.repair ?? false,
        startedMs: f.startedMs,
        watermarks: ws.map((w) => ({ ...w, meta: JSON.stringify({ updatedAt, planKey: w.planKey }) })),
      },
    );
    let followers = r.followers;
    for (let round = 0; followers.length > 0; round++) {
      if (round >= CLAIM_ROUNDS)
        throw new Error(`the runs following chunk ${f.claim.jobId} keep changing; it is counted again when retried`);
      const counted = await this.scripts.countFollowers(
        { follow: run.follow, followers: followers.map((x) => this.keys.run(x)) },
        {
          position: f.seq,
          expected: followers,
          outcome: f.outcome,
          values: f.values,
          failure,
          failuresKept: FAILURES_KEPT,
          ttlS: PROGRESS_TTL_S,
          measurement: f.measurement,
          nowMs,
          startedMs: f.startedMs,
        },
      );
      followers = counted === true ? [] : counted;
    }
    return r.counted;
  }

  /** Positions for `n` new jobs of a run: the planner's and those of split groups come from one counter. */
  async allocatePositions(run: string, n: number): Promise<number> {
    return (await this.redis.hincrby(this.keys.run(run).hash, 'seq', n)) - n;
  }

  /**
   * Replaces a group job that failed for good by `n` per-field jobs (splitChunk-6.lua).
   * Returns the first of their positions, or undefined when the group was counted as
   * finished already (nothing to split).
   */
  async splitChunk(run: string, seq: number, n: number, claim: ChunkClaim, measurement: string): Promise<number | undefined> {
    const base = await this.scripts.splitChunk(
      { run: this.keys.run(run), claim: this.keys.claim(claim.chunk) },
      { position: seq, n, jobId: claim.jobId, ttlS: PROGRESS_TTL_S, measurement },
    );
    return base < 0 ? undefined : base;
  }

  /**
   * Claims chunks for `run`'s jobs before they are added, or makes the run follow the
   * jobs holding them: planning a range twice, or two planners at once, enqueue each
   * chunk once. A chunk held by another job is settled with that job's run keys
   * (settleClaims-2.lua): counted at once if it finished, followed otherwise, or, when
   * the holder's job is gone from the queue (`jobsGone`, asked only of claims older
   * than the grace: a planner adds a batch's jobs seconds after claiming them), taken
   * over so the chunk is copied again instead of waiting out the claim's day.
   */
  async claimChunks(run: string, chunks: readonly ChunkClaim[], jobsGone: JobsGone): Promise<ClaimVerdict[]> {
    const out = new Array<ClaimVerdict>(chunks.length);
    let pending = chunks.map((_, i) => i);
    for (let round = 0; pending.length > 0; round++) {
      if (round >= CLAIM_ROUNDS) throw new Error(`the claims of ${pending.length} chunks of run ${run} keep changing; plan again`);
      const seen = await this.scripts.claimChunks(
        pending.map((i) => this.keys.claim(chunks[i]!.chunk)),
        { claimTtlS: CLAIM_TTL_S, jobIds: pending.map((i) => chunks[i]!.jobId) },
      );
      const held: { i: number; holder: string; ref: { run: string; seq: number }; old: boolean }[] = [];
      seen.forEach((s, n) => {
        const i = pending[n]!;
        const ref = s && parseChunkJobId(s.holder);
        if (s === null) out[i] = 1;
        else if (!ref) out[i] = -1;
        else held.push({ i, holder: s.holder, ref, old: s.ageMs >= this.orphanGraceMs });
      });
      pending = [];
      if (held.length === 0) break;
      const old = held.filter((h) => h.old).map((h) => h.holder);
      const gone = old.length > 0 ? await jobsGone(old) : new Set<string>();
      const verdicts = await this.scripts.settleClaims(
        {
          run: this.keys.run(run),
          chunks: held.map((h) => ({ claim: this.keys.claim(chunks[h.i]!.chunk), holder: this.keys.run(h.ref.run) })),
        },
        {
          ttlS: PROGRESS_TTL_S,
          claimTtlS: CLAIM_TTL_S,
          failuresKept: FAILURES_KEPT,
          run,
          chunks: held.map((h) => ({ holder: h.holder, position: h.ref.seq, takeover: gone.has(h.holder), jobId: chunks[h.i]!.jobId })),
        },
      );
      verdicts.forEach((v, n) => {
        const i = held[n]!.i;
        if (v === 3) pending.push(i);
        else out[i] = v;
      });
    }
    return out;
  }

  /** Drops claims whose jobs were never added (the add failed); only those still held by them. */
  async releaseClaims(chunks: readonly ChunkClaim[]): Promise<void> {
    if (chunks.length === 0) return;
    const multi = this.redis.multi();
    for (const c of chunks) this.scripts.queueCompareAndDelete(multi, this.keys.claim(c.chunk), c.jobId);
    await multi.exec();
  }
}

function runOf(meta: RunMeta): Pick<RunCounters, 'runId' | 'kind' | 'source'> {
  return { runId: meta.runId, kind: meta.kind, ...(meta.source === undefined ? {} : { source: meta.source }) };
}
