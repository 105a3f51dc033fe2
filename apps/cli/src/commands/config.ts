import { printableConfig } from '@influx-backup/config';
import { EXIT_OK, type ProcessContext } from '@influx-backup/process';

/** Validates the configuration (loading it did) and prints the effective one, secrets masked. */
export function configCommand(ctx: ProcessContext): number {
  process.stdout.write(printableConfig(ctx.config));
  process.stderr.write(`configuration ${ctx.config.file} is valid\n`);
  return EXIT_OK;
}
