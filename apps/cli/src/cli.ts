import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '@influx-backup/config';
import { loadContext, type GlobalOptions } from './context.js';
import { EXIT_FAILED, EXIT_USAGE, UsageError, WorkFailed } from './errors.js';
import type { CopyCommandOptions } from './commands/copy.js';

// Commands are loaded when they run: `config` and `--help` need neither BullMQ nor
// the engine, and a short run should not pay for modules it does not use.
type CommandFn = (...args: never[]) => Promise<number> | number;
function lazy<M extends Record<K, CommandFn>, K extends string>(load: () => Promise<M>, name: K): (...args: Parameters<M[K]>) => Promise<number> {
  return async (...args) => (await load())[name](...args);
}
const copyCommand = lazy(() => import('./commands/copy.js'), 'copyCommand');
const statusCommand = lazy(() => import('./commands/status.js'), 'statusCommand');
const verifyCommand = lazy(() => import('./commands/verify.js'), 'verifyCommand');
const configCommand = lazy(() => import('./commands/config.js'), 'configCommand');
const plannerCommand = lazy(() => import('./commands/planner.js'), 'plannerCommand');
const dashboardCommand = lazy(() => import('./commands/dashboard.js'), 'dashboardCommand');
const workerCommand = lazy(() => import('./commands/worker.js'), 'workerCommand');

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function addGlobal(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'configuration file', 'config/backup_config.yaml')
    .option('--log-level <level>', 'DEBUG, INFO, WARNING, ERROR (or debug, info, warn, error)')
    .option('--verbose', 'debug logging, and stack traces on errors');
}

function addSelectors(cmd: Command): Command {
  return cmd
    .option('--measurement <name>', 'only this measurement (repeatable)', collect)
    .option('--field <name>', 'only this field (repeatable)', collect)
    .option('--start-time <time>', 'RFC 3339 start, inclusive')
    .option('--end-time <time>', 'RFC 3339 end, inclusive');
}

/** Builds the program; `exit` receives the status code of the command that ran. */
export function buildProgram(exit: (code: number) => void): Command {
  const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
  const program = new Command('influx-backup')
    .description('Field-by-field backup of InfluxDB 1.x, chunked into BullMQ jobs')
    .version(version)
    .showHelpAfterError()
    .exitOverride();

  const action =
    <O extends GlobalOptions>(component: string, fn: (ctx: ReturnType<typeof loadContext>, opts: O) => Promise<number> | number) =>
    async (opts: O): Promise<void> => {
      exit(await fn(loadContext(opts, component), opts));
    };

  addSelectors(addGlobal(program.command('run').description('plan the configured backup and copy it in this process')))
    .option('--full', 'ignore the checkpoints and copy the whole configured range')
    .action(action<GlobalOptions & CopyCommandOptions>('run', (ctx, o) => copyCommand(ctx, 'run', o)));

  addSelectors(addGlobal(program.command('plan').description('enqueue the jobs of the configured backup and exit')))
    .option('--full', 'ignore the checkpoints and copy the whole configured range')
    .option('--wait', 'block until the enqueued jobs have finished')
    .action(action<GlobalOptions & CopyCommandOptions>('plan', (ctx, o) => copyCommand(ctx, 'plan', o)));

  addSelectors(addGlobal(program.command('backfill').description('enqueue an ad-hoc range, whatever the checkpoints say')))
    .option('--full', 'accepted for symmetry: a backfill always ignores the checkpoints')
    .option('--wait', 'block until the enqueued jobs have finished')
    .action(action<GlobalOptions & CopyCommandOptions>('backfill', (ctx, o) => copyCommand(ctx, 'backfill', o)));

  addGlobal(program.command('worker').description('process jobs until SIGINT or SIGTERM')).action(
    action<GlobalOptions>('worker', (ctx) => workerCommand(ctx)),
  );

  addGlobal(program.command('status').description('queues, checkpoints, workers and the last run'))
    .option('--json', 'machine-readable output')
    .action(action<GlobalOptions & { json?: boolean }>('status', (ctx, o) => statusCommand(ctx, o)));

  addGlobal(program.command('verify').description('compare source and backup per field'))
    .option('--deep', 'compare exact values chunk by chunk, not only counts')
    .option('--measurement <name>', 'only this measurement (repeatable)', collect)
    .option('--json', 'machine-readable output')
    .action(action<GlobalOptions & { deep?: boolean; measurement?: string[]; json?: boolean }>('verify', (ctx, o) => verifyCommand(ctx, o)));

  addGlobal(program.command('config').description('validate the configuration and print the effective one, secrets masked')).action(
    action<GlobalOptions>('config', (ctx) => configCommand(ctx)),
  );

  addGlobal(program.command('planner').description('keep the cron schedules of scheduler.jobs and plan on every tick')).action(
    action<GlobalOptions>('planner', (ctx) => plannerCommand(ctx)),
  );

  addGlobal(program.command('dashboard').description('serve Bull Board at / (basic auth), /health, /metrics and /api/status')).action(
    action<GlobalOptions>('dashboard', (ctx) => dashboardCommand(ctx)),
  );
  return program;
}

/** Runs the CLI and returns the exit status; expected errors are one line on stderr. */
export async function runCli(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (and help) to stderr.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    // SelectionError (a --measurement or --field that matches nothing) comes from the
    // queue package, matched by name so that loading the CLI does not load BullMQ.
    const usage = e instanceof ConfigError || e instanceof UsageError || e.name === 'SelectionError';
    process.stderr.write(`error: ${e.message}\n`);
    if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    if (usage) return EXIT_USAGE;
    if (!(e instanceof WorkFailed) && !verbose) {
      // Anything else is unexpected enough to be worth the hint.
      process.stderr.write('(run again with --verbose for details)\n');
    }
    return EXIT_FAILED;
  }
}
