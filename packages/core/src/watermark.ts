/**
 * The low watermark of one field's plan, as pure logic. Its twin in Lua, the same
 * rule run atomically in Redis, is packages/queue/src/commands/includes/watermark.lua.
 * Chunks finish in any order; the checkpoint may
 * only move to the newest value of the unbroken run of finished chunks from the
 * plan's first chunk, and never backwards.
 *
 * `done` maps chunk index to the newest value time the chunk copied (null: it
 * held nothing when it ran).
 */
export function advanceWatermark(
  frontier: number,
  done: ReadonlyMap<number, bigint | null>,
  checkpoint: bigint | undefined,
): { frontier: number; checkpoint: bigint | undefined } {
  let next = frontier;
  let best = checkpoint;
  while (done.has(next)) {
    const last = done.get(next);
    if (last !== null && last !== undefined && (best === undefined || last > best)) best = last;
    next++;
  }
  return { frontier: next, checkpoint: best };
}
