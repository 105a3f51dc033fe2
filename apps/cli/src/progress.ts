/**
 * One progress line on a terminal (values copied, values/s, ETA), or a plain log
 * line every few seconds when stderr is not a terminal.
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
    const rate = values / secs;
    const pct = this.total > 0 ? Math.min(1, values / this.total) : 1;
    // No rate yet, no estimate: "ETA 0.0s" before the first value reads as "done".
    const eta = rate > 0 && this.total > values ? `  ETA ${fmtSecs((this.total - values) / rate)}` : '';
    const text =
      `${fmtInt(values)}/${counted(this.total, 'value')}  ${fmtInt(Math.round(rate))}/s  ` +
      `chunks ${chunksDone}/${this.chunks}${failed ? `  failed ${failed}` : ''}${eta}`;
    if (this.out.isTTY) {
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = 24;
      const fill = Math.round(pct * width);
      this.out.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(pct * 100).toFixed(0).padStart(3)}% ${text}\x1b[K`);
      this.drawn = true;
    } else if (now - this.lastPlain >= 5_000) {
      this.lastPlain = now;
      this.log(`progress: ${text}`);
    }
  }

  done(): void {
    if (this.drawn) this.out.write('\n');
  }
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `1 field`, `2 fields`, `1,000 values`. */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${fmtInt(n)} ${n === 1 ? noun : plural}`;
}

export function fmtSecs(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
