/** Exit statuses of every influx-backup program (the CLI and the planner, worker and dashboard apps). */
export const EXIT_OK = 0;
/** The work failed: a job failed for good, verify found a difference, a server could not be reached. */
export const EXIT_FAILED = 1;
/** Bad usage or configuration. */
export const EXIT_USAGE = 2;
/** Stopped by SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

export { UsageError, WorkFailed } from '@influx-backup/errors';
