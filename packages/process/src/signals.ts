const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type ShutdownSignal = (typeof SIGNALS)[number];

/** 128 + the signal's number: what a shell reports for a process that signal killed. */
const FORCED_EXIT: Readonly<Record<ShutdownSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

export interface ShutdownSignals {
  /** Aborted by the first SIGINT or SIGTERM; its `reason` is the signal's name. */
  readonly signal: AbortSignal;
  /** Removes every listener this added, the second-signal ones included. Idempotent. */
  dispose(): void;
}

export interface ShutdownOptions {
  /** How a second signal ends the process; process.exit by default (tests pass their own). */
  exit?: (code: number) => void;
}

/**
 * SIGINT and SIGTERM for a program that stops gracefully: the first one aborts
 * `signal` (the program finishes or hands back its work), a second one exits at once
 * with 130 or 143. Every long-running role and `run`/`plan --wait` use this, so a
 * Ctrl-C means the same everywhere. Call dispose() when the program is done.
 */
export function onShutdownSignals(options: ShutdownOptions = {}): ShutdownSignals {
  const exit = options.exit ?? ((code: number): void => process.exit(code));
  const controller = new AbortController();
  const installed: [ShutdownSignal, () => void][] = [];
  const listen = (handler: (name: ShutdownSignal) => void): void => {
    for (const name of SIGNALS) {
      const listener = (): void => handler(name);
      installed.push([name, listener]);
      process.on(name, listener);
    }
  };
  const dispose = (): void => {
    for (const [name, listener] of installed.splice(0)) process.off(name, listener);
  };
  listen((name) => {
    dispose();
    listen((again) => exit(FORCED_EXIT[again]));
    controller.abort(name);
  });
  return { signal: controller.signal, dispose };
}

/** Resolves with the abort reason (for onShutdownSignals, the signal's name) once `signal` is aborted. */
export function whenAborted(signal: AbortSignal): Promise<string> {
  if (signal.aborted) return Promise.resolve(String(signal.reason));
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(String(signal.reason)), { once: true }));
}
