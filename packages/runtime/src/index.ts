// The runtime: the connections a configuration names, and the work every program does
// with them (passes, status, the long-running roles). Its exports are the programs'
// whole vocabulary; what only the runtime needs stays inside.
export { createRuntime, withRuntime, type Runtime, type SourceRuntime } from './connections.js';
export { preflight, reachRedis, ConnectError } from './preflight.js';
export { checkSelection, selectSources } from './selection.js';
export { fieldComparator } from './sources.js';
export { measurementPlans, pieceRowsFor } from './settings.js';
export { withTimeout, TimeoutError } from './timeout.js';
export { checkServers, type ServerCheck } from './check.js';
export { collectStatus, type StatusReport } from './status.js';
export { collectFields, type FieldsReport, type FieldRow } from './fields.js';
export { planPass, followPass, passRecord, type SourcePart, type PassOutcome, type PassProgress } from './pass.js';
export { previewRestore, planRestore, type RestorePlan, type RestoreRoute } from './restore.js';
export { concludeRepair, type RepairReport } from './repair.js';
export { longRunningRole, serveUntil, type RunningRole } from './role.js';
export { startWorker, workerRole, type RunningWorker } from './worker-role.js';
export { plannerRole } from './planner-role.js';
