/** Bad usage: a flag's value is wrong. Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The work itself failed (a job failed for good, verify found a difference). Exit 1. */
export class WorkFailed extends Error {
  override readonly name = 'WorkFailed';
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** Stopped by SIGINT or SIGTERM, as shells report it. */
export const EXIT_INTERRUPTED = 130;
