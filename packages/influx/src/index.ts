export { InfluxClient, influxAgent, MAX_SOCKETS_PER_SERVER, type InfluxConnectionOptions, type FieldKey } from './client.js';
export type { SeriesPiece } from './message-decoder.js';
export {
  parseGoDuration,
  formatInfluxDuration,
  describeDuration,
  createDatabaseStatement,
  createRetentionPolicyStatement,
  type RetentionPolicyInfo,
} from './retention-policy.js';
export { InfluxError, networkError, isTransientServerMessage } from './errors.js';
export { Backoff, NO_RETRY, withRetry, backoffDelay, type BackoffCurve } from './backoff.js';
export {
  quoteIdent,
  quoteString,
  escapeMeasurement,
  escapeKey,
  escapeFieldKey,
  escapeStringValue,
  formatFieldValue,
  seriesKey,
  LineProtocolError,
  FIELD_TYPES,
  type FieldType,
} from './escape.js';
export { InfluxPool } from './pool.js';
