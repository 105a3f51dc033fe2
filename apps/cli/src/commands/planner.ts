import { runPlannerProcess } from '@influx-backup/planner-app';
import { withRuntime, type CommandContext } from '../context.js';
import { EXIT_OK } from '../errors.js';

export async function plannerCommand(ctx: CommandContext): Promise<number> {
  return withRuntime(ctx, async (rt) => {
    await runPlannerProcess(rt);
    return EXIT_OK;
  });
}
