export { EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, UsageError, WorkFailed } from './exit.js';
export { onShutdownSignals, whenAborted, type ShutdownSignals, type ShutdownOptions } from './signals.js';
export { loadContext, DEFAULT_CONFIG_FILE, type GlobalOptions, type LoadContextOptions, type ProcessContext } from './context.js';
export { addGlobalOptions, reportError, runProgram, runRole, type Role } from './program.js';
