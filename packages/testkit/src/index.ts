export { freePort, waitFor } from './ports.js';
export { ensureBinary } from './install.js';
export { spawnLogged, type ManagedProcess } from './process.js';
export { startInflux, type InfluxServer, type InfluxServerOptions } from './influx-server.js';
export { startRedis, type RedisServer, type RedisServerOptions } from './redis-server.js';
export { makeCertificate } from './certificate.js';
export {
  repr,
  snapshot,
  assertSameField,
  ALL_TIME,
  type FieldReader,
  type FieldSide,
  type FieldSnapshot,
  type FieldTypeName,
} from './compare.js';
export { rejection } from './rejection.js';
