/**
 * Every Redis key of influx-backup's own state, made in one place. Lua scripts get
 * their keys from here through KEYS, never by building names. BullMQ's keys are
 * BullMQ's: nothing here names one.
 *
 * The layout is what installations already hold (`PREFIX:state:...`): changing a
 * name here orphans what is stored under the old one.
 */
export interface RunKeys {
  /** The run's meta, field plans (f<k>) and counters. */
  readonly hash: string;
  /** Positions counted as finished for good. */
  readonly bits: string;
  /** Positions that failed for good. */
  readonly fbits: string;
  /** By position: the runs that follow that chunk (they planned it while it was in flight). */
  readonly follow: string;
  /** The newest failures, JSON. */
  readonly failures: string;
  /** Chunks left to finish, per measurement. */
  readonly byMeasurement: string;
  /** By position of a group job split into per-field jobs: the first of their positions. */
  readonly split: string;
}

export class StoreKeys {
  readonly checkpoints: string;
  readonly checkpointMeta: string;
  readonly workers: string;
  readonly lastRun: string;
  readonly lastRestore: string;
  readonly totals: string;
  readonly lastSuccess: string;
  readonly sourceNewest: string;
  readonly newestRun: string;
  readonly newestRuns: string;
  readonly newestRunsByKind: string;
  readonly alertLease: string;
  readonly alertsFiring: string;
  readonly verified: string;
  private readonly state: string;

  constructor(prefix: string) {
    if (!prefix) throw new Error('the store needs a key prefix (redis.prefix)');
    this.state = `${prefix}:state:`;
    this.checkpoints = `${this.state}checkpoints`;
    this.checkpointMeta = `${this.state}checkpoint-meta`;
    this.workers = `${this.state}workers`;
    this.lastRun = `${this.state}last-run`;
    this.lastRestore = `${this.state}last-restore`;
    this.totals = `${this.state}totals`;
    this.lastSuccess = `${this.state}last-success`;
    this.sourceNewest = `${this.state}source-newest`;
    this.newestRun = `${this.state}newest-run`;
    this.newestRuns = `${this.state}newest-runs`;
    this.newestRunsByKind = `${this.state}newest-runs-by-kind`;
    this.alertLease = `${this.state}alerts-lease`;
    // Per rule as configured, source and run kind; `alerts` held one entry per rule name before.
    this.alertsFiring = `${this.state}alerts-firing`;
    this.verified = `${this.state}verified`;
  }

  /** A run's keys, by its run key (runKey). */
  run(run: string): RunKeys {
    const hash = `${this.state}run:${run}`;
    return {
      hash,
      bits: `${hash}:bits`,
      fbits: `${hash}:fbits`,
      follow: `${hash}:follow`,
      failures: `${hash}:failures`,
      byMeasurement: `${hash}:m`,
      split: `${hash}:split`,
    };
  }

  /** A field plan's progress record (its low watermark), by fieldPlanKey. */
  progress(planKey: string): string {
    return `${this.state}progress:${planKey}`;
  }

  /** A chunk's claim, by chunkDedupeId. */
  claim(chunk: string): string {
    return `${this.state}claim:${chunk}`;
  }
}
