/** The shape of an exponential backoff: the first delay, its growth and its cap. */
export interface BackoffCurve {
  readonly baseMs: number;
  readonly factor: number;
  readonly maxMs: number;
}

/**
 * The retry delay formula, for a request (Backoff below) and for a whole chunk
 * (the queue's `backup.retry`): after `attempt` failures (1-based), wait
 * base * factor^(attempt-1), at most max.
 */
export function backoffDelay(curve: BackoffCurve, attempt: number): number {
  return Math.min(curve.maxMs, curve.baseMs * curve.factor ** Math.max(0, attempt - 1));
}

/**
 * An immutable exponential backoff: delay(n) = base * factor^(n-1), capped.
 * `attempts` counts every try, the first included.
 */
export class Backoff implements BackoffCurve {
  readonly attempts: number;
  readonly baseMs: number;
  readonly factor: number;
  readonly maxMs: number;

  constructor({ attempts, baseMs, factor, maxMs }: { attempts: number; baseMs: number; factor: number; maxMs: number }) {
    if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be a whole number >= 1, got ${attempts}`);
    if (!(baseMs >= 0)) throw new RangeError(`baseMs must be >= 0, got ${baseMs}`);
    if (!(factor >= 1)) throw new RangeError(`factor must be >= 1, got ${factor}`);
    if (!(maxMs >= 0)) throw new RangeError(`maxMs must be >= 0, got ${maxMs}`);
    this.attempts = attempts;
    this.baseMs = baseMs;
    this.factor = factor;
    this.maxMs = maxMs;
    Object.freeze(this);
  }

  /** Delay before try number `attempt + 1`, after `attempt` failures (1-based). */
  delay(attempt: number): number {
    return backoffDelay(this, attempt);
  }
}

export const NO_RETRY = new Backoff({ attempts: 1, baseMs: 0, factor: 1, maxMs: 0 });

/**
 * Runs `fn` until it succeeds, it throws an error that is not retriable, or the
 * attempts run out. Only errors with `retriable === true` are retried.
 */
export async function withRetry<T>(
  backoff: Backoff,
  fn: (attempt: number) => Promise<T>,
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const retriable = (err as { retriable?: boolean } | undefined)?.retriable === true;
      if (!retriable || attempt >= backoff.attempts) throw err;
      const delay = backoff.delay(attempt);
      onRetry?.(err, attempt, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
