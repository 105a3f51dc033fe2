/** A closed time interval [startNs, endNs] of one field: both ends inclusive. */
export interface Chunk {
  /** Position of the chunk in its plan's time-ordered chunk list. */
  index: number;
  startNs: bigint;
  endNs: bigint;
  /** Values the source held in this chunk when it was planned. */
  expected: number;
}

/**
 * The chunk at grid `position` when [startNs, endNs] is cut into chunks of
 * `sizeNs` aligned to startNs: [start + position * size, that + size - 1], the
 * last one clipped at endNs.
 */
export function chunkBounds(startNs: bigint, endNs: bigint, sizeNs: bigint, position: bigint): { startNs: bigint; endNs: bigint } {
  if (sizeNs <= 0n) throw new RangeError(`chunk size must be positive, got ${sizeNs} ns`);
  const s = startNs + position * sizeNs;
  const e = s + sizeNs - 1n;
  return { startNs: s, endNs: e < endNs ? e : endNs };
}

/** How many grid positions [startNs, endNs] spans. */
export function chunkCount(startNs: bigint, endNs: bigint, sizeNs: bigint): bigint {
  if (endNs < startNs) return 0n;
  return (endNs - startNs) / sizeNs + 1n;
}

/** The GROUP BY time() offset that puts bucket edges on startNs's grid. */
export function groupOffsetNs(startNs: bigint, sizeNs: bigint): bigint {
  return ((startNs % sizeNs) + sizeNs) % sizeNs;
}

/**
 * The time range a field's next run covers: from its checkpoint minus the
 * overlap (never before the configured start), up to the configured end.
 * A field with no checkpoint starts at the configured start. Each field is
 * asked on its own: one field's progress never decides another's range.
 */
export function incrementalRange(
  configStartNs: bigint,
  configEndNs: bigint,
  checkpointNs: bigint | undefined,
  overlapNs: bigint,
): { startNs: bigint; endNs: bigint } | undefined {
  let startNs = configStartNs;
  if (checkpointNs !== undefined) {
    const resume = checkpointNs - overlapNs;
    if (resume > startNs) startNs = resume;
  }
  if (startNs > configEndNs) return undefined;
  return { startNs, endNs: configEndNs };
}
