export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * Settles with `p` or rejects after `ms`. The Redis client queues commands while it
 * reconnects (BullMQ needs maxRetriesPerRequest: null), so without this a request made
 * while Redis is down would hang until Redis came back.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms / 1000} s`)), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
