export { chunkBounds, chunkCount, groupOffsetNs, incrementalRange, type Chunk } from './chunks.js';
export { advanceWatermark } from './watermark.js';
export {
  discoverFields,
  fromClause,
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
export { verifyField, type VerifyResult, type DifferenceRange, type ValueDifference } from './verify.js';
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
