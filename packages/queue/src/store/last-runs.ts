import type { Redis } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import type { ChunkFailure } from './run-ledger.js';

/** What a pass was: `run`, `plan`, `backfill`, `restore` or `repair` (verify --repair) as the command line named it, or a scheduled tick. */
export type PassMode = 'run' | 'plan' | 'backfill' | 'restore' | 'repair' | 'schedule';

/** A chunk that failed for good as its run recorded it, or a source left out, as a pass records it (the source named). */
export interface PassFailure extends ChunkFailure {
  source?: string;
}

/** One source's part of a pass. */
export interface PassPart {
  source: string;
  /** Absent when the source was left out (down, credentials refused, planning failed). */
  runId?: string;
  /** The run's key in Redis, whose live counters status reads while it goes on. */
  run?: string;
  fields: number;
  chunks: number;
  completed: number;
  failed: number;
  values: number;
  ok: boolean;
  /** Why the source was left out. */
  error?: string;
  /** Set by status while the run goes on (from its live counters). */
  inProgress?: boolean;
}

/**
 * A pass (run, plan, backfill or restore) as status and the dashboard show it: written
 * when it is planned (finishedAt and ok null), and again when it ends.
 */
export interface PassRecord {
  runId: string;
  mode: PassMode;
  startedAt: string;
  /** null while it goes on. */
  finishedAt: string | null;
  fields: number;
  chunks: number;
  completed: number;
  failed: number;
  values: number;
  /** null while it goes on. */
  ok: boolean | null;
  /**
   * Seconds spent copying: from the first chunk's start to the last one's end (or now, while it goes on), planning
   * left out. Its rate is values / copyingSeconds, the one rate of the pass wherever it is shown. Absent before a chunk
   * finished, and in records of older versions.
   */
  copyingSeconds?: number;
  /** Values of the pass that were in the backup already: from each field's checkpoint minus backup.time_chunks.overlap to its checkpoint. */
  overlapValues?: number;
  /** The newest failures (at most 20). */
  failures: PassFailure[];
  /** The single databases.source keeps the record it always had: its run key here, and no parts. */
  run?: string;
  /** With several sources: each one's part. */
  sources?: PassPart[];
  /** Set by status while it goes on. */
  inProgress?: boolean;
}

/**
 * The last backup pass and, kept apart, the last restore, so that status and the
 * last-run metrics (and alerts on them) still describe the backup.
 */
export class LastRunStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StoreKeys,
  ) {}

  async set(record: PassRecord): Promise<void> {
    await this.redis.set(this.key(record.mode === 'restore' ? 'restore' : 'backup'), JSON.stringify(record));
  }

  async get(of: 'backup' | 'restore' = 'backup'): Promise<PassRecord | undefined> {
    const v = await this.redis.get(this.key(of));
    return v === null ? undefined : (JSON.parse(v) as PassRecord);
  }

  private key(of: 'backup' | 'restore'): string {
    return of === 'restore' ? this.keys.lastRestore : this.keys.lastRun;
  }
}
