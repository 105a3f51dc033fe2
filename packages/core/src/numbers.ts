// Numbers as every program prints them (the CLI, the worker's log, status, the dashboard): one way to write a
// count, a rate, a duration and an age, so that one run's figures read the same wherever they are shown.

/** `66528` → `66,528`: thousands separators, rounded to a whole number. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `1 field`, `2 fields`, `66,528 values`. */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : plural}`;
}

/** Values per second over `seconds`: `35,015 values/s` (the time is at least a millisecond). */
export function formatRate(values: number, seconds: number): string {
  return `${formatCount(values / Math.max(seconds, 0.001))} values/s`;
}

/** How long something took: `0.4 s`, `42 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatSeconds(s: number): string {
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const whole = Math.round(s);
  const m = Math.floor(whole / 60);
  if (m < 60) return `${m} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** How old something is, as a person reads it: `42 s`, `7 min`, `2.5 h`, `1.2 d`. */
export function formatAge(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3_600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}
