// The errors that decide a program's exit status. They live in a leaf, so that the
// program's error report (packages/process) tells them apart with instanceof without
// loading the packages that throw them (BullMQ among them).

/**
 * Bad usage: a flag's value is wrong, or names what does not exist (a measurement,
 * field, source or retention policy). Exit 2. Subclass it for a more specific kind.
 */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
}

/** The work itself failed (a job failed for good, verify found a difference). Exit 1. */
export class WorkFailed extends Error {
  override readonly name: string = 'WorkFailed';
}
