export { createApp, type DashboardDeps } from './app.js';
export { runDashboard, dashboardDeps, dashboardRole, type RunDashboardOptions } from './dashboard-role.js';
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
