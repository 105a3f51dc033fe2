// The memory governor with V8's real heap: its budget is a fifth of
// processing.worker_memory_limit (at least 32 MB); past it, it asks for a full
// collection, so garbage does not sit in the heap until V8 gets round to it, and live
// data over the budget is logged with what to change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from '@influx-backup/core';
import { startMemoryGovernor } from '../src/memory-governor.js';

const MB = 1024 * 1024;

/** Polls `check` until it gives a value, failing after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => T | undefined | false, { timeoutMs = 10_000, intervalMs = 50 } = {}): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
const heapUsed = (): number => getHeapStatistics().used_heap_size;

function keptLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (m) => void warnings.push(m),
    error: (m) => void warnings.push(m),
    child: () => logger,
  };
  return { logger, warnings };
}

/** About `mb` MB in V8's heap (arrays of 128 doubles, 1 KB each), held by the array returned. */
function ballast(mb: number): number[][] {
  return Array.from({ length: mb * 1024 }, (_, i) => new Array<number>(128).fill(i + 0.5));
}

test('past its budget of a fifth of worker_memory_limit, the governor collects: live data over it is logged with the budget, and garbage left in the heap is gone within a few checks', async () => {
  // A budget 40 MB above what this process holds now, in whole MB.
  const budgetMb = Math.ceil(heapUsed() / MB) + 40;
  const { logger, warnings } = keptLogger();
  let held: number[][] | undefined = ballast(100);
  assert.ok(heapUsed() > budgetMb * MB, `${Math.round(heapUsed() / MB)} MB in the heap, budget ${budgetMb} MB`);
  const governor = startMemoryGovernor(budgetMb * 5, logger);
  try {
    // Live: collecting cannot bring it under, so the governor says so, naming the budget it derived.
    const warning = await waitFor('the over-budget warning', () => warnings.find((w) => /over the \d+ MB budget/.test(w)), {
      timeoutMs: 10_000,
    });
    assert.match(
      warning,
      new RegExp(
        `^live heap \\d+ MB is over the ${budgetMb} MB budget of processing\\.worker_memory_limit; lower processing\\.max_workers or batch_size, or raise the limit$`,
      ),
    );
    assert.ok(governor.collections >= 1);
    assert.equal(held.length, 100 * 1024);

    // Dropped, it is garbage; nothing allocates enough to make V8 collect it, the governor does.
    held = undefined;
    const before = governor.collections;
    await waitFor('the heap back under the budget', () => heapUsed() <= budgetMb * MB, { timeoutMs: 3_000, intervalMs: 20 });
    assert.ok(governor.collections > before, 'the governor collected');
  } finally {
    governor.stop();
  }
});

test('a small worker_memory_limit gives the 32 MB floor, not a fifth of it', async () => {
  const { logger, warnings } = keptLogger();
  const held = ballast(60);
  const governor = startMemoryGovernor(100, logger);
  try {
    const warning = await waitFor('the over-budget warning', () => warnings.find((w) => /over the \d+ MB budget/.test(w)), {
      timeoutMs: 10_000,
    });
    assert.match(warning, /^live heap \d+ MB is over the 32 MB budget of processing\.worker_memory_limit;/);
    assert.equal(held.length, 60 * 1024);
  } finally {
    governor.stop();
  }
});
