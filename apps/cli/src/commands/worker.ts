import { preflight } from '@influx-backup/runtime';
import { runWorkerProcess } from '@influx-backup/worker-app';
import { withRuntime, type CommandContext } from '../context.js';
import { EXIT_OK } from '../errors.js';

export async function workerCommand(ctx: CommandContext): Promise<number> {
  return withRuntime(ctx, async (rt) => {
    await preflight(rt);
    await runWorkerProcess(rt);
    return EXIT_OK;
  });
}
