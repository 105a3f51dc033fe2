// What the benchmarks read of a running process from /proc (Linux).
import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds `pid` has used so far: utime + stime from /proc/PID/stat. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

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
