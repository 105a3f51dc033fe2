import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface ManagedProcess {
  readonly child: ChildProcess;
  /** Sends a signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

export function spawnLogged(bin: string, args: string[], logFile: string): ManagedProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = child.exitCode !== null;
  const exitedPromise = new Promise<void>((r) => {
    child.once('exit', () => {
      exited = true;
      r();
    });
  });
  return {
    child,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
      if (exited) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}
