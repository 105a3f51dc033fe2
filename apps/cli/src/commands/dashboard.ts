import { requirePassword, runDashboard } from '@influx-backup/dashboard-app';
import { withRuntime, type CommandContext } from '../context.js';
import { EXIT_OK } from '../errors.js';

/**
 * Serves the dashboard until SIGINT or SIGTERM. No preflight: the dashboard needs
 * neither InfluxDB server, and it starts while Redis is down so that /health can
 * say so. Without dashboard.password it refuses to start (a ConfigError, exit 2).
 */
export async function dashboardCommand(ctx: CommandContext): Promise<number> {
  // Before any connection is opened, so the refusal is the only thing that happens.
  requirePassword(ctx.config.dashboard, ctx.config.file);
  return withRuntime(ctx, async (rt) => {
    await runDashboard(rt);
    return EXIT_OK;
  });
}
