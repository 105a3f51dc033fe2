export * from './names.js';
export * from './catalog.js';
export { createRedis, redisEndpoint, redisHealthWarnings, type RedisSettings } from './connection.js';
export { StateStore, type CheckpointInfo, type WorkerSeen } from './state-store.js';
export {
  planBackup,
  nowNs,
  SelectionError,
  type PlanContext,
  type PlanSelection,
  type PlanResult,
  type PlannedField,
  type MeasurementPlanConfig,
} from './planner.js';
export { createCopyProcessor, type ProcessorContext } from './processor.js';
export { createCopyWorker, type CopyWorkerOptions } from './worker.js';
export { waitForJobs, type JobFailure, type TrackResult, type TrackSnapshot } from './tracker.js';
