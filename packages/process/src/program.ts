import { Command, CommanderError } from 'commander';
import { ConfigError, LOG_LEVEL_NAMES, maskText } from '@influx-backup/config';
import { DEFAULT_CONFIG_FILE, loadContext, loadedSecrets, type GlobalOptions, type ProcessContext } from './context.js';
import { EXIT_FAILED, EXIT_USAGE, UsageError, WorkFailed } from './exit.js';

/** --config, --log-level and --verbose, as every program and command takes them. */
export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG_FILE)
    .option('--log-level <level>', `${LOG_LEVEL_NAMES}; default: logging.level of the file`)
    .option('--verbose', 'debug logging, and stack traces on errors');
}

/**
 * Prints an error as one line on stderr (with the stack only under --verbose) and
 * returns its exit status: 2 for bad usage or configuration, 1 for anything else.
 */
export function reportError(err: unknown, verbose: boolean, stderr: NodeJS.WritableStream = process.stderr): number {
  const e = err instanceof Error ? err : new Error(String(err));
  // UsageError lives in a leaf package: its subclasses (SelectionError, an unknown
  // retention policy) are recognised without loading the packages that throw them.
  const usage = e instanceof ConfigError || e instanceof UsageError;
  // Masked like every log line: a server's message could quote a credential.
  stderr.write(`error: ${maskText(e.message, loadedSecrets())}\n`);
  if (verbose && e.stack) stderr.write(`${maskText(e.stack, loadedSecrets())}\n`);
  if (usage) return EXIT_USAGE;
  // Anything else is unexpected enough to be worth the hint.
  if (!(e instanceof WorkFailed) && !verbose) stderr.write('(run again with --verbose for details)\n');
  return EXIT_FAILED;
}

/**
 * Parses `argv` with `program` (built with exitOverride) and returns the exit status:
 * what the action passed to `setCode`, 2 for a usage error commander reported, or
 * the status of the error the action threw (see reportError).
 */
export async function runProgram(program: Command, argv: readonly string[], result: () => number): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result();
  } catch (err) {
    // commander has already printed its message (and help) to stderr.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    return reportError(err, argv.includes('--verbose'));
  }
}

/** A long-running role (planner, worker, dashboard): the same code as a program of its own and as a CLI command. */
export interface Role {
  /** The CLI command's name, and %(name)s of its log lines. */
  readonly name: string;
  readonly description: string;
  /** Runs until the role is stopped (SIGINT, SIGTERM) and returns the exit status. */
  run(ctx: ProcessContext): Promise<number>;
}

/**
 * The whole of a role's own program (`node apps/worker/dist/main.js --config FILE`):
 * its flags, its configuration and logger, and its exit status.
 */
export async function runRole(role: Role, argv: readonly string[]): Promise<number> {
  let code = 0;
  const name = `influx-backup-${role.name}`;
  const program = addGlobalOptions(new Command(name).description(role.description))
    .showHelpAfterError(`usage: ${name} [--config FILE] [--log-level LEVEL] [--verbose]   (--help says more)`)
    .exitOverride()
    .action(async (opts: GlobalOptions) => {
      code = await role.run(loadContext(opts, { component: role.name }));
    });
  return runProgram(program, argv, () => code);
}
