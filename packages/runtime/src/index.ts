export {
  createRuntime,
  withRuntime,
  preflight,
  reachRedis,
  influxOptions,
  retryPolicy,
  measurementPlans,
  planContext,
  policiesToCopy,
  pieceRowsFor,
  processorContext,
  workerIdentity,
  ConnectError,
  serverHint,
  sourceRunId,
  storedSourceName,
  newestRunBySource,
  sourceOfField,
  type Runtime,
  type SourceRuntime,
  type SourceCheck,
} from './runtime.js';
export { collectStatus, type StatusReport } from './status.js';
export { checkSelection, selectSources, type SelectionFlags } from './selection.js';
export { startMemoryGovernor, type MemoryGovernor } from './memory-governor.js';
export { withTimeout, TimeoutError } from './timeout.js';
export { startWorker, runWorker, workerRole, type RunningWorker } from './worker-role.js';
export { syncSchedules, startPlanner, runPlanner, plannerRole, type ScheduleSync, type RunningPlanner } from './planner-role.js';
export { checkServers, type ServerCheck } from './check.js';
export { collectFields, type FieldsReport, type FieldRow } from './fields.js';
export {
  restoreRoute,
  restoreRedisCheck,
  restorePreflight,
  prepareRestoreTarget,
  restorePlanContext,
  type RestoreRoute,
} from './restore.js';
export {
  alertRules,
  alertTransitions,
  alertText,
  holds,
  PROCESS_METRICS,
  type AlertRule,
  type AlertEvent,
  type AlertSample,
  type AlertAction,
} from './alert-engine.js';
export {
  startAlertMonitor,
  monitorAlerts,
  rulesFor,
  sharedAlerts,
  processSample,
  clusterSampler,
  type AlertMonitor,
  type AlertMonitorOptions,
  type AlertScope,
} from './alert-monitor.js';
export { Notifier, type Notification, type Delivery, type NotifierOptions } from './notifier.js';
export { metricsBlock, sampleRun, sampleRuns, errorRate, estimatedCompletion, type MetricsBlock, type RunSample } from './run-metrics.js';
