export {
  InfluxClient,
  influxAgent,
  MAX_SOCKETS_PER_SERVER,
  createDatabaseStatement,
  createRetentionPolicyStatement,
  type InfluxConnectionOptions,
  type SeriesPiece,
  type FieldKey,
} from './client.js';
export { parseGoDuration, formatInfluxDuration, describeDuration, type RetentionPolicyInfo } from './retention-policy.js';
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
