import { ConfigError } from './config-error.js';

const UNIT_MS = { w: 7 * 24 * 3_600_000, d: 24 * 3_600_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;

type Unit = keyof typeof UNIT_MS;

const WHOLE = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+)(ms|s|m|h|d|w)/g;

/**
 * Milliseconds of a duration such as `30s`, `5m`, `90m`, `1h`, `6h`, `1d`, `1w` (`1h30m` and `ms` too; a bare `0` is
 * zero). Throws ConfigError (without a key) on anything else.
 */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  if (!WHOLE.test(text)) {
    const shown = text.length > 32 ? `${text.slice(0, 32)}...` : text;
    const expected = 'expected a whole number and a unit (ms, s, m, h, d, w), e.g. 30s, 5m, 1h, 1d, 1w';
    throw new ConfigError(`invalid duration ${JSON.stringify(shown)}: ${expected}`);
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as Unit];
  }
  if (!Number.isSafeInteger(total)) throw new ConfigError(`invalid duration ${JSON.stringify(text)}: too long`);
  return total;
}

/** A duration in the largest unit that divides it exactly: 3600000 → "1h", 5400000 → "90m". */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`cannot format duration ${ms}ms`);
  if (ms === 0) return '0s';
  for (const unit of Object.keys(UNIT_MS) as Unit[]) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
