export { chunkBounds, chunkCount, groupOffsetNs, incrementalRange, type Chunk } from './chunks.js';
export { countBuckets, fromClause, type BucketCounts, type CountOptions } from './counts.js';
export { advanceWatermark } from './watermark.js';
export {
  discoverFields,
  planFieldChunks,
  planMeasurementChunks,
  ChunkMerger,
  FieldTypeConflictError,
  type FieldTarget,
  type FieldRange,
  type PlannedPiece,
  type MeasurementPlanOptions,
} from './plan.js';
export { copyChunk, selectFieldQuery, selectFieldsQuery, type CopyChunkInput, type CopyChunkResult, type CopyField } from './copy.js';
export { silentLogger, type SourceReader, type BackupWriter, type Logger, type LogMeta } from './ports.js';
export {
  verifyField,
  compareChunkValues,
  backupTypeConflict,
  type VerifyResult,
  type DifferenceRange,
  type ValueDifference,
  type ChunkDifferences,
} from './verify.js';
export {
  compareCounts,
  judgeChunk,
  lastValueTime,
  type ServerPair,
  type GridBucket,
  type GridOptions,
  type ChunkVerdict,
} from './repair.js';
export {
  prepareBackupTarget,
  sourcePolicies,
  PrivilegeError,
  UnknownRetentionPolicyError,
  type BackupAdmin,
  type PolicyReader,
  type RetentionMode,
  type SourcePolicies,
} from './backup-target.js';
export { counted, formatAge, formatCount, formatRate, formatSeconds } from './numbers.js';
