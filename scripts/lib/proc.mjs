// What the benchmarks read of a running process from /proc (Linux).
import { readFileSync } from 'node:fs';

/** Samples `pid`'s resident set every 20 ms, calling `sample(bytes)`; returns the function that stops it. */
export function peakRss(pid, sample) {
  const timer = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) sample(Number(m[1]) * 1024);
    } catch {
      // the process has exited
    }
  }, 20);
  return () => clearInterval(timer);
}
