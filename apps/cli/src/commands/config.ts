import { printableConfig } from '@influx-backup/config';
import { EXIT_FAILED, EXIT_OK, type ProcessContext } from '@influx-backup/process';

export interface ConfigOptions {
  check?: boolean;
  print?: boolean;
}

/**
 * Validates the configuration (loading it did) and prints the effective one,
 * secrets masked. With `check`, the verdict comes first: the file is valid, then one
 * line per server it names (Redis, each source, the backup), and the configuration
 * follows only with `print`; exit 1 when a server fails.
 */
export async function configCommand(ctx: ProcessContext, opts: ConfigOptions = {}): Promise<number> {
  if (!opts.check) {
    process.stdout.write(printableConfig(ctx.config));
    process.stderr.write(`configuration ${ctx.config.file} is valid\n`);
    return EXIT_OK;
  }
  const { checkServers, withRuntime } = await import('@influx-backup/runtime');
  const checks = await withRuntime(ctx, (rt) => checkServers(rt));
  const width = Math.max(...checks.map((c) => c.where.length));
  const failed = checks.filter((c) => !c.ok).length;
  const lines = [
    `configuration ${ctx.config.file} is valid`,
    ...checks.map((c) => `${c.ok ? 'ok    ' : 'FAILED'}  ${c.where.padEnd(width)}  ${c.detail}`),
    failed === 0 ? `every server answered (${checks.length})` : `${failed} of ${checks.length} servers FAILED`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (opts.print) process.stdout.write(`\n${printableConfig(ctx.config)}`);
  return failed === 0 ? EXIT_OK : EXIT_FAILED;
}
