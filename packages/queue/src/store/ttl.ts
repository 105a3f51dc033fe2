/** How long a run's records and a field plan's progress are kept (s). */
export const PROGRESS_TTL_S = 14 * 24 * 3600;
/** How long a claim lasts if its job never finishes (a planner that died between claiming and adding). */
export const CLAIM_TTL_S = 24 * 3600;
/** How old a claim must be before its job, gone from the queue, counts as removed rather than not added yet. */
export const ORPHAN_CLAIM_GRACE_MS = 60_000;
/** Failures kept per run (the newest); the rest are counted. */
export const FAILURES_KEPT = 20;
/** Workers not seen for this long are dropped from the list. */
export const WORKER_FORGET_MS = 7 * 24 * 3600 * 1000;
