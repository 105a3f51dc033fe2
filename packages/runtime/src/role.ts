import { EXIT_OK, onShutdownSignals, whenAborted, type ProcessContext, type Role } from '@influx-backup/process';
import { withRuntime, type Runtime } from './connections.js';

/** A role once started: what stops it. */
export interface RunningRole {
  stop(): Promise<void>;
}

export interface LongRunningRole {
  /** The CLI command's name, and %(name)s of its log lines. */
  readonly name: string;
  readonly description: string;
  /** What it logs once asked to stop, after the signal's name: "finishing active chunks, then exiting". */
  readonly stopping: string;
  /** Checks made before any connection is opened (a ConfigError there exits 2 at once). */
  readonly check?: (ctx: ProcessContext) => void;
  /** Starts the role; `stop` is aborted by SIGINT or SIGTERM, also while it starts. */
  readonly start: (rt: Runtime, stop: AbortSignal) => Promise<RunningRole>;
}

/** Waits until `stop` is aborted, says why and what the role does now, then stops it. */
export async function serveUntil(rt: Runtime, stop: AbortSignal, running: RunningRole, stopping: string): Promise<void> {
  const why = await whenAborted(stop);
  rt.logger.info(`${why}: ${stopping}`);
  await running.stop();
}

/**
 * The planner, worker and dashboard alike: open the connections, start, run until
 * the first SIGINT or SIGTERM (a second one exits at once), stop, close, exit 0. The
 * same Role runs as `influx-backup NAME` and as the program apps/NAME.
 */
export function longRunningRole(spec: LongRunningRole): Role {
  return {
    name: spec.name,
    description: spec.description,
    async run(ctx: ProcessContext) {
      spec.check?.(ctx);
      return withRuntime(ctx, async (rt) => {
        const shutdown = onShutdownSignals();
        try {
          await serveUntil(rt, shutdown.signal, await spec.start(rt, shutdown.signal), spec.stopping);
        } finally {
          shutdown.dispose();
        }
        return EXIT_OK;
      });
    },
  };
}
