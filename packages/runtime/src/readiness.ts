import { InfluxError } from '@influx-backup/influx';
import { whenAborted } from '@influx-backup/process';
import type { Runtime } from './connections.js';
import { ConnectError } from './preflight.js';
import { TimeoutError } from './timeout.js';

/** The longest wait between two tries. */
const MAX_DELAY_MS = 15_000;

/** What a long-running role waits out: a server not up yet, or a database not made yet. Bad configuration is not. */
function waitable(err: unknown): err is Error {
  return err instanceof ConnectError || err instanceof InfluxError || err instanceof TimeoutError;
}

/**
 * For the long-running roles (worker, planner): tries `attempt` (their preflight) until
 * it succeeds, however long Redis, a server or the source database is away, where a
 * command gives up at once: a role started before its servers (a host booting, a
 * compose stack coming up, a database not created yet) starts its work once they
 * answer. Each distinct reason is logged once at WARNING, and the start at INFO; tries
 * come 1 s apart, doubling up to 15 s. Returns undefined when `stop` is aborted first;
 * anything else than a server or a database away (bad configuration) is thrown.
 */
export async function untilReady<T>(rt: Runtime, stop: AbortSignal, attempt: () => Promise<T>): Promise<T | undefined> {
  const stopped = whenAborted(stop).then(() => ({ stopped: true }) as const);
  let said = '';
  for (let tries = 1; ; tries++) {
    const got = await Promise.race([
      attempt().then(
        (value) => ({ ok: true, value }) as const,
        (error: unknown) => ({ ok: false, error }) as const,
      ),
      stopped,
    ]);
    if ('stopped' in got) return undefined;
    if (got.ok) {
      if (said) rt.logger.info('the servers answer; starting');
      return got.value;
    }
    if (!waitable(got.error)) throw got.error;
    if (got.error.message !== said) {
      said = got.error.message;
      rt.logger.warn(`${said}; waiting for it`);
    }
    const delay = Math.min(1_000 * 2 ** (tries - 1), MAX_DELAY_MS);
    const slept = await Promise.race([new Promise<{ slept: true }>((r) => setTimeout(() => r({ slept: true }), delay).unref()), stopped]);
    if ('stopped' in slept) return undefined;
  }
}
