export * from './names.js';
export * from './catalog.js';
export { createRedis, redisEndpoint, redisHealthWarnings, type RedisSettings } from './connection.js';
export { createQueues, jobsGone, type Queues, type CopyQueue, type ScheduleQueue } from './queues.js';
export {
  createStore,
  CheckpointStore,
  RunLedger,
  copyingSeconds,
  WorkerRegistry,
  AlertState,
  type FiringAlert,
  type StoredAlert,
  LastRunStore,
  VerificationStore,
  type Store,
  type CheckpointInfo,
  type WorkerSeen,
  type RunCounters,
  type ChunkFailure,
  type ChunkClaim,
  type FinishChunk,
  type Totals,
  type TotalsBySource,
  type PassRecord,
  type PassPart,
  type PassFailure,
  type PassMode,
  type FieldVerification,
  type RepairTotals,
} from './store/index.js';
export { JobDescriber, type ChunkJob, type JobLike } from './describe.js';
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
export type { FieldCheck, RepairedChunks } from './repair-planner.js';
export { createCopyProcessor, chunkFailure, isFinalAttempt, runServers, type ProcessorContext } from './processor.js';
export { createCopyWorker, type CopyWorker, type CopyWorkerOptions } from './worker.js';
export { followRun, type FollowOptions, type RunResult, type RunSnapshot } from './run-follower.js';
export { SourceBreaker } from './source-breaker.js';
