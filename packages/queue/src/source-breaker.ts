import { InfluxError } from '@influx-backup/influx';

/**
 * The sources of databases.sources a worker found unreachable. While one is marked
 * down, its chunks fail at once (a retriable failure: BullMQ retries them after
 * backup.retry's backoff, and they fail for good after max_attempts as any chunk
 * does) instead of each holding a worker slot for the client's timeouts and
 * retries, so the other sources' chunks keep the slots. After `pauseMs` one chunk
 * tries the server again (the others still fail at once); its success ends the mark.
 */
export class SourceBreaker {
  private readonly down = new Map<string, { until: number; reason: string }>();

  constructor(
    private readonly pauseMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {
    if (!(pauseMs > 0)) throw new RangeError(`pauseMs must be > 0, got ${pauseMs}`);
  }

  /** Why `source`'s chunk must fail at once now; undefined when it may try the server. */
  refuse(source: string): string | undefined {
    const mark = this.down.get(source);
    if (!mark) return undefined;
    if (this.now() < mark.until) return mark.reason;
    // This chunk is the probe: the next ones wait for its answer (or another pause).
    mark.until = this.now() + this.pauseMs;
    return undefined;
  }

  /** A chunk of `source` failed: marks it down when the source server could not be reached at all. */
  failed(source: string, err: unknown): void {
    const unreachable = err instanceof InfluxError && err.status === undefined && err.retriable && err.role?.startsWith('source') === true;
    if (unreachable) this.down.set(source, { until: this.now() + this.pauseMs, reason: err.message });
  }

  succeeded(source: string): void {
    this.down.delete(source);
  }
}
