export {
  alertRules,
  alertTransitions,
  alertText,
  holds,
  PROCESS_METRICS,
  type AlertRule,
  type AlertEvent,
  type AlertSample,
  type AlertAction,
} from './alert-engine.js';
export {
  startAlertMonitor,
  monitorAlerts,
  rulesFor,
  processSample,
  clusterSampler,
  sharedAlerts,
  type AlertMonitor,
  type AlertMonitorOptions,
  type AlertScope,
  type ClusterSources,
  type MonitorSettings,
  type SharedAlerts,
} from './alert-monitor.js';
export { Notifier, type Notification, type Delivery, type NotifierOptions } from './notifier.js';
export {
  metricsBlock,
  sampleRun,
  sampleRuns,
  errorRate,
  estimatedCompletion,
  type MetricsBlock,
  type RunSample,
  type RunSources,
} from './run-metrics.js';
