import { counted, formatCount, formatRate, formatSeconds } from '@influx-backup/core';

/** How far a pass has got: values and chunks finished (done or failed for good), and failed. */
export interface ProgressCounts {
  values: number;
  finished: number;
  failed: number;
}

/**
 * One progress line on a terminal (values copied, values/s, ETA), or a plain line every few seconds when stderr is
 * not a terminal; done() writes the final figures either way, at the pass's own rate, so the last line says where
 * the pass ended rather than where it was a few seconds before.
 */
export class Progress {
  private readonly started = Date.now();
  private lastPlain = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly total: number,
    private readonly chunks: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  ) {}

  update(values: number, chunksDone: number, failed: number): void {
    const now = Date.now();
    const secs = Math.max(0.001, (now - this.started) / 1000);
    this.write(values, chunksDone, failed, secs, now, false);
  }

  /** The last line: the pass's final counts, at its rate over `copyingSeconds` (the time spent copying). */
  done(final?: ProgressCounts & { copyingSeconds?: number }): void {
    if (final) {
      const secs = final.copyingSeconds ?? Math.max(0.001, (Date.now() - this.started) / 1000);
      this.write(final.values, final.finished, final.failed, secs, Date.now(), true);
    }
    if (this.drawn) this.out.write('\n');
  }

  private write(values: number, chunksDone: number, failed: number, secs: number, now: number, last: boolean): void {
    const rate = values / secs;
    const pct = this.total > 0 ? Math.min(1, values / this.total) : 1;
    // No rate yet, no estimate: "ETA 0.0 s" before the first value reads as "done".
    const eta = !last && rate > 0 && this.total > values ? `  ETA ${formatSeconds((this.total - values) / rate)}` : '';
    const text =
      `${formatCount(values)}/${counted(this.total, 'value')}  ${formatRate(values, secs)}  ` +
      `chunks ${formatCount(chunksDone)}/${formatCount(this.chunks)}${failed ? `  failed ${formatCount(failed)}` : ''}${eta}`;
    if (this.out.isTTY) {
      if (!last && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = 24;
      const fill = Math.round(pct * width);
      this.out.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(pct * 100).toFixed(0).padStart(3)}% ${text}\x1b[K`);
      this.drawn = true;
    } else if (last || now - this.lastPlain >= 5_000) {
      this.lastPlain = now;
      this.log(`progress: ${text}`);
    }
  }
}
