import { copyJobOptions, type CopyChunkPayload } from './catalog.js';
import { chunkJobId } from './names.js';
import type { PlanContext, PlanResult } from './planner.js';
import { jobsGone } from './queues.js';

/** Jobs per addBulk: one round trip each. */
const BATCH = 1_000;
/** addBulk calls in flight at once: Redis adds one batch while the planner builds the next. */
const IN_FLIGHT_BATCHES = 2;

interface Pending {
  measurement: string;
  dedupe: string;
  data: CopyChunkPayload;
  name: string;
}

/**
 * Adds a run's jobs in batches with addBulk. Before each batch, one atomic
 * script claims its chunks (RunLedger.claimChunks): a chunk whose job is still
 * in flight for another run is followed, not enqueued again, so planning a range
 * twice, or two planners racing on it, enqueue each chunk once; a chunk whose job
 * finished is claimed afresh and copied again. Job ids are unique per run and
 * position, so an add is never a no-op because of a finished job kept for
 * Bull Board.
 */
export class Enqueuer {
  private batch: Pending[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly opts: ReturnType<typeof copyJobOptions>;

  constructor(
    private readonly ctx: PlanContext,
    private readonly run: string,
    private readonly result: PlanResult,
  ) {
    this.opts = copyJobOptions(ctx.retry);
  }

  async push(measurement: string, dedupe: string, data: CopyChunkPayload, name: string): Promise<void> {
    this.batch.push({ measurement, dedupe, data, name });
    if (this.batch.length >= BATCH) {
      const batch = this.batch;
      this.batch = [];
      // At most IN_FLIGHT_BATCHES payload batches are held at once.
      while (this.inflight.size >= IN_FLIGHT_BATCHES) await Promise.race(this.inflight);
      const p: Promise<void> = this.add(batch).finally(() => this.inflight.delete(p));
      // Its failure surfaces through race() or close(); never as an unhandled rejection.
      p.catch(() => undefined);
      this.inflight.add(p);
    }
  }

  /** Adds what is left, waits for every batch, then marks the run's plan complete. */
  async close(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    await Promise.all([...this.inflight, this.add(batch)]);
    await this.ctx.store.runs.addPlanned(this.run, 0, true);
  }

  private async add(pending: Pending[]): Promise<void> {
    if (pending.length === 0) return;
    // Positions come from the run's counter, shared with the jobs a failed group is split into.
    const base = await this.ctx.store.runs.allocatePositions(this.run, pending.length);
    const batch = pending.map((j, n) => ({ ...j, id: chunkJobId(this.run, base + n) }));
    const claims = batch.map((j) => ({ chunk: j.dedupe, jobId: j.id }));
    const verdicts = await this.ctx.store.runs.claimChunks(this.run, claims, jobsGone(this.ctx.queue));
    const toAdd = batch.filter((_, n) => verdicts[n] === 1);
    // Followed chunks count in this run when their job finishes; those finished already (2) were counted at once.
    const followed = verdicts.filter((v) => v === 0 || v === 2).length;
    const left = new Map<string, number>();
    batch.forEach((j, n) => (verdicts[n] === 1 || verdicts[n] === 0) && left.set(j.measurement, (left.get(j.measurement) ?? 0) + 1));
    const unfollowable = verdicts.filter((v) => v === -1).length;
    if (unfollowable > 0)
      this.ctx.logger.warn(`${unfollowable} chunks are queued by an earlier version's planner; left to it, not counted in this run`);
    if (toAdd.length > 0) {
      try {
        await this.ctx.queue.addBulk(toAdd.map((j) => ({ name: j.name, data: j.data, opts: { ...this.opts, jobId: j.id } })));
      } catch (err) {
        // Claims of jobs never added would hold their chunks for a day.
        await this.ctx.store.runs.releaseClaims(claims.filter((_, n) => verdicts[n] === 1)).catch(() => undefined);
        throw err;
      }
    }
    this.result.chunks += batch.length;
    this.result.enqueued += toAdd.length;
    this.result.reused += followed + unfollowable;
    await this.ctx.store.runs.addPlanned(this.run, toAdd.length + followed, false, left);
  }
}
