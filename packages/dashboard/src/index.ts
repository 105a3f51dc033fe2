export { createApp, type DashboardDeps, type DashboardLogger } from './app.js';
export { runDashboard, dashboardDeps, type RunDashboardOptions } from './dashboard-process.js';
export { createMetricsRegistry, type MetricsOptions } from './metrics.js';
export { basicAuthChecker, parseBasicAuth, requirePassword, AUTH_REALM, type BasicCredentials } from './basic-auth.js';
export {
  healthHandler,
  statusHandler,
  metricsHandler,
  unauthorized,
  redisUnreachable,
  type Handler,
  type HandlerResult,
  type RedisProbe,
} from './handlers.js';
