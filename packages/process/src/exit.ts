/** Exit statuses of every influx-backup program (the CLI and the planner, worker and dashboard apps). */
export const EXIT_OK = 0;
/** The work failed: a job failed for good, verify found a difference, a server could not be reached. */
export const EXIT_FAILED = 1;
/** Bad usage or configuration. */
export const EXIT_USAGE = 2;
/** Stopped by SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** Bad usage: a flag's value is wrong. Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The work itself failed (a job failed for good, verify found a difference). Exit 1. */
export class WorkFailed extends Error {
  override readonly name = 'WorkFailed';
}
