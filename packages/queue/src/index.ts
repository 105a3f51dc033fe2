export * from './names.js';
export * from './catalog.js';
export { createRedis, redisEndpoint, redisHealthWarnings, type RedisSettings } from './connection.js';
export {
  StateStore,
  type CheckpointInfo,
  type WorkerSeen,
  type RunCounters,
  type ChunkFailure,
  type FinishChunk,
  type Totals,
  type TotalsBySource,
} from './state-store.js';
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
export { createCopyProcessor, chunkFailure, isFinalAttempt, type ProcessorContext } from './processor.js';
export { createCopyWorker, type CopyWorkerOptions } from './worker.js';
export { followRun, type FollowOptions, type RunResult, type RunSnapshot } from './run-follower.js';
export { SourceBreaker } from './source-breaker.js';
