import type { Redis } from 'ioredis';
import { StoreKeys } from '../keys.js';
import { Scripts } from '../scripts.js';
import { AlertState } from './alert-state.js';
import { CheckpointStore } from './checkpoints.js';
import { LastRunStore } from './last-runs.js';
import { RunLedger } from './run-ledger.js';
import { VerificationStore } from './verifications.js';
import { WorkerRegistry } from './workers.js';

/** influx-backup's own state in Redis, beside BullMQ's queues: one store per concept, on one connection. */
export interface Store {
  readonly checkpoints: CheckpointStore;
  readonly runs: RunLedger;
  readonly workers: WorkerRegistry;
  readonly alerts: AlertState;
  readonly lastRuns: LastRunStore;
  readonly verifications: VerificationStore;
}

/** The stores under `prefix` (redis.prefix). `orphanGraceMs`: see RunLedger.claimChunks (tests shorten it). */
export function createStore(redis: Redis, prefix: string, { orphanGraceMs }: { orphanGraceMs?: number } = {}): Store {
  const keys = new StoreKeys(prefix);
  const scripts = new Scripts(redis);
  return {
    checkpoints: new CheckpointStore(redis, keys, scripts),
    runs: new RunLedger(redis, keys, scripts, orphanGraceMs),
    workers: new WorkerRegistry(redis, keys),
    alerts: new AlertState(redis, keys, scripts),
    lastRuns: new LastRunStore(redis, keys),
    verifications: new VerificationStore(redis, keys),
  };
}

export { CheckpointStore, type CheckpointInfo } from './checkpoints.js';
export {
  RunLedger,
  copyingSeconds,
  type RunCounters,
  type ChunkFailure,
  type ChunkClaim,
  type ChunkWatermark,
  type FinishChunk,
  type ClaimVerdict,
  type JobsGone,
} from './run-ledger.js';
export { WorkerRegistry, type WorkerSeen } from './workers.js';
export { AlertState, type FiringAlert, type StoredAlert } from './alert-state.js';
export { LastRunStore, type PassRecord, type PassPart, type PassFailure, type PassMode } from './last-runs.js';
export { VerificationStore, type FieldVerification } from './verifications.js';
export type { Totals, TotalsBySource, RepairTotals } from './totals.js';
