import { printableConfig } from '@influx-backup/config';
import type { CommandContext } from '../context.js';
import { EXIT_OK } from '../errors.js';

/** Validates the configuration (loading it did) and prints the effective one, secrets masked. */
export function configCommand(ctx: CommandContext): number {
  process.stdout.write(printableConfig(ctx.config));
  process.stderr.write(`configuration ${ctx.config.file} is valid\n`);
  return EXIT_OK;
}
