import { whenAborted } from '@influx-backup/process';
import type { Runtime } from './connections.js';
import { reachRedis } from './preflight.js';

/**
 * For the long-running roles (worker, planner): waits for Redis however long it is
 * away, where a command gives up after 5 s (reachRedis), so a role started before
 * Redis (a host booting, Redis restarting) starts its work once Redis answers. The
 * connection itself logs each distinct error and retries. Returns false when `stop`
 * is aborted first.
 */
export async function waitForRedis(rt: Runtime, stop: AbortSignal): Promise<boolean> {
  const stopped = whenAborted(stop).then(() => false as const);
  for (let tries = 1; ; tries++) {
    const reached = await Promise.race([
      reachRedis(rt).then(
        () => true as const,
        (err: Error) => err,
      ),
      stopped,
    ]);
    if (reached === false) return false;
    if (reached === true) {
      if (tries > 1) rt.logger.info(`Redis at ${rt.redisEndpoint} answers; starting`);
      return true;
    }
    if (tries === 1) rt.logger.warn(`${reached.message}; waiting for it`);
  }
}
