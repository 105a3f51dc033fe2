import { UnrecoverableError } from 'bullmq';
import { chunkRange, jobFields, type CopyChunkPayload, type FieldPlanMeta, type JobField, type RunMeta } from './catalog.js';
import { chunkDedupeId, fieldPlanKey, parseChunkJobId } from './names.js';
import type { ChunkClaim, RunLedger } from './store/index.js';

/** A copy job as the run that planned it knows it: what every reader of a job wants. */
export interface ChunkJob {
  /** Its run key and position (chunkJobId). */
  readonly ref: { readonly run: string; readonly seq: number };
  readonly run: RunMeta;
  /** Each of its fields' position in the run and chunk position in that field's plan, the first one first. */
  readonly members: readonly JobField[];
  /** Each member's field plan, in the same order. */
  readonly fields: readonly FieldPlanMeta[];
  readonly startNs: bigint;
  readonly endNs: bigint;
  /** The chunk's claim this job holds while it is in flight. */
  readonly claim: ChunkClaim;
}

/** A job as BullMQ hands it to a reader: its id and payload (any shape: Bull Board lets one edit it). */
export interface JobLike {
  readonly id?: string | undefined;
  readonly data?: unknown;
}

/** Field plans remembered; a run has one per field, so this is many runs' worth. */
const DEFAULT_CACHE = 5_000;

/**
 * Reads what a copy job is about: its payload names its fields by their position in
 * its run, and the run's record in Redis has the rest, stored once per run. A run's
 * plan never changes, so the field plans read are kept in a bounded cache (the least
 * recently used go first) and a reader of many jobs costs one read per field plan.
 */
export class JobDescriber {
  private readonly cache = new Map<string, { run: RunMeta; field: FieldPlanMeta }>();

  constructor(
    private readonly runs: Pick<RunLedger, 'plan'>,
    private readonly max = DEFAULT_CACHE,
  ) {
    if (!(max >= 1)) throw new RangeError(`the describer's cache needs room for at least one plan, got ${max}`);
  }

  /** The job, or undefined when it was not made by this version's planner or its run's plan is gone from Redis. */
  async describe(job: JobLike): Promise<ChunkJob | undefined> {
    const found = await this.read(job);
    return typeof found === 'string' ? undefined : found;
  }

  /** The job, or an UnrecoverableError that says why a worker cannot copy it. */
  async require(job: JobLike): Promise<ChunkJob> {
    const found = await this.read(job);
    if (found === 'foreign') throw new UnrecoverableError(`job ${job.id} was not made by this version's planner; plan again`);
    if (found === 'gone') {
      const run = parseChunkJobId(job.id ?? '')?.run ?? '?';
      throw new UnrecoverableError(`the plan of run ${run} is gone from Redis (expired, or Redis lost its data); plan again`);
    }
    return found;
  }

  private async read(job: JobLike): Promise<ChunkJob | 'foreign' | 'gone'> {
    const ref = parseChunkJobId(job.id ?? '');
    const data = job.data as Partial<CopyChunkPayload> | undefined;
    if (!ref || typeof data?.k !== 'number' || typeof data.i !== 'number' || typeof data.s !== 'string' || typeof data.d !== 'string') {
      return 'foreign';
    }
    const payload = data as CopyChunkPayload;
    let members: JobField[];
    let range: { startNs: bigint; endNs: bigint };
    try {
      members = jobFields(payload);
      range = chunkRange(payload);
    } catch {
      return 'foreign';
    }
    const plans = await Promise.all(members.map((m) => this.plan(ref.run, m.k)));
    if (plans.some((p) => p === undefined)) return 'gone';
    const found = plans as { run: RunMeta; field: FieldPlanMeta }[];
    const run = found[0]!.run;
    const fields = found.map((p) => p.field);
    const claim = {
      chunk: chunkDedupeId(
        run.kind,
        fields.map((f) => f.fieldId),
        range.startNs,
        range.endNs,
      ),
      jobId: job.id ?? '',
    };
    return { ref, run, members, fields, ...range, claim };
  }

  private async plan(run: string, k: number): Promise<{ run: RunMeta; field: FieldPlanMeta } | undefined> {
    const key = fieldPlanKey(run, k);
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const p = await this.runs.plan(run, k);
    if (p) {
      if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, p);
    }
    return p;
  }
}
