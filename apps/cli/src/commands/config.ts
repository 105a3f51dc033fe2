import { printableConfig } from '@influx-backup/config';
import { EXIT_FAILED, EXIT_OK, type ProcessContext } from '@influx-backup/process';

/**
 * Validates the configuration (loading it did) and prints the effective one,
 * secrets masked. With `check`, also tries each server it names and reports each
 * as one line; exit 1 when one of them fails.
 */
export async function configCommand(ctx: ProcessContext, opts: { check?: boolean } = {}): Promise<number> {
  process.stdout.write(printableConfig(ctx.config));
  process.stderr.write(`configuration ${ctx.config.file} is valid\n`);
  if (!opts.check) return EXIT_OK;
  const { checkServers, withRuntime } = await import('@influx-backup/runtime');
  const checks = await withRuntime(ctx, (rt) => checkServers(rt));
  const width = Math.max(...checks.map((c) => c.where.length));
  for (const c of checks) process.stderr.write(`${c.ok ? 'ok    ' : 'FAILED'}  ${c.where.padEnd(width)}  ${c.detail}\n`);
  return checks.every((c) => c.ok) ? EXIT_OK : EXIT_FAILED;
}
