import { createRequire } from 'node:module';
import { Command } from 'commander';
import { LOG_LEVEL_NAMES } from '@influx-backup/config';
import {
  addGlobalOptions,
  DEFAULT_CONFIG_FILE,
  loadContext,
  runProgram,
  type GlobalOptions,
  type ProcessContext,
  type Role,
} from '@influx-backup/process';
import type { ConfigOptions } from './commands/config.js';
import type { CopyCommandOptions } from './commands/copy.js';
import type { RestoreOptions } from './commands/restore.js';
import type { VerifyOptions } from './commands/verify.js';

// Commands are loaded when they run: `config` and `--help` need neither BullMQ nor
// the engine, and a short run should not pay for modules it does not use.
type CommandFn = (...args: never[]) => Promise<number> | number;
function lazy<M extends Record<K, CommandFn>, K extends string>(
  load: () => Promise<M>,
  name: K,
): (...args: Parameters<M[K]>) => Promise<number> {
  return async (...args) => (await load())[name](...args);
}
const copyCommand = lazy(() => import('./commands/copy.js'), 'copyCommand');
const restoreCommand = lazy(() => import('./commands/restore.js'), 'restoreCommand');
const statusCommand = lazy(() => import('./commands/status.js'), 'statusCommand');
const verifyCommand = lazy(() => import('./commands/verify.js'), 'verifyCommand');
const configCommand = lazy(() => import('./commands/config.js'), 'configCommand');

// The long-running roles are the very code of apps/planner, apps/worker and apps/dashboard.
const role =
  (load: () => Promise<Role>) =>
  async (ctx: ProcessContext): Promise<number> =>
    (await load()).run(ctx);
const workerRole = role(async () => (await import('@influx-backup/runtime')).workerRole);
const plannerRole = role(async () => (await import('@influx-backup/runtime')).plannerRole);
const dashboardRole = role(async () => (await import('@influx-backup/dashboard')).dashboardRole);

/** Commands that only read or print: they open no log file (verify --repair copies, and opens one). */
const NO_LOG_FILE = new Set(['config', 'status', 'verify']);
const opensLogFile = (component: string, opts: object): boolean =>
  !NO_LOG_FILE.has(component) || ('repair' in opts && opts.repair === true);

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function addSource(cmd: Command): Command {
  return cmd.option('--source <name>', 'only this source of databases.sources (repeatable)', collect);
}

function addSelectors(cmd: Command): Command {
  return addSource(cmd)
    .option('--measurement <name>', 'only this measurement (repeatable)', collect)
    .option('--field <name>', 'only this field (repeatable)', collect)
    .option('--retention-policy <name>', 'only this retention policy (repeatable)', collect)
    .option('--start-time <time>', 'RFC 3339 start, inclusive')
    .option('--end-time <time>', 'RFC 3339 end, inclusive');
}

/** Builds the program; `exit` receives the status code of the command that ran. */
export function buildProgram(exit: (code: number) => void): Command {
  const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
  const program = new Command('influx-backup')
    .description('Field-by-field backup of InfluxDB 1.x, chunked into BullMQ jobs')
    .version(version)
    .exitOverride();

  const action =
    <O extends GlobalOptions>(component: string, fn: (ctx: ProcessContext, opts: O) => Promise<number> | number) =>
    async (opts: O): Promise<void> => {
      exit(await fn(loadContext(opts, { component, logFile: opensLogFile(component, opts) }), opts));
    };

  addSelectors(addGlobalOptions(program.command('run').description('plan the configured backup and copy it in this process')))
    .option('--full', 'ignore the checkpoints and copy the whole configured range')
    .action(action<GlobalOptions & CopyCommandOptions>('run', (ctx, o) => copyCommand(ctx, 'run', o)));

  addSelectors(addGlobalOptions(program.command('plan').description('enqueue the jobs of the configured backup and exit')))
    .option('--full', 'ignore the checkpoints and copy the whole configured range')
    .option('--wait', 'block until the enqueued jobs have finished')
    .action(action<GlobalOptions & CopyCommandOptions>('plan', (ctx, o) => copyCommand(ctx, 'plan', o)));

  addSelectors(addGlobalOptions(program.command('backfill').description('enqueue an ad-hoc range, whatever the checkpoints say')))
    .option('--full', 'accepted for symmetry: a backfill always ignores the checkpoints')
    .option('--wait', 'block until the enqueued jobs have finished')
    .action(action<GlobalOptions & CopyCommandOptions>('backfill', (ctx, o) => copyCommand(ctx, 'backfill', o)));

  addSelectors(
    addGlobalOptions(program.command('restore').description('copy from the backup server back into the source server, in this process')),
  )
    .option('--all', 'every measurement of the backup database')
    .option('--target-db <name>', "write into this database on the source server (created when missing) instead of the source's")
    .option('--dry-run', 'print what would be restored (fields, ranges, values in the backup) and write nothing')
    .action(action<GlobalOptions & RestoreOptions>('restore', (ctx, o) => restoreCommand(ctx, o)));

  addGlobalOptions(program.command('worker').description('process jobs until SIGINT or SIGTERM')).action(
    action<GlobalOptions>('worker', (ctx) => workerRole(ctx)),
  );

  addSource(addGlobalOptions(program.command('status').description('queues, checkpoints, workers and the last run')))
    .option('--json', 'machine-readable output')
    .action(action<GlobalOptions & { json?: boolean; source?: string[] }>('status', (ctx, o) => statusCommand(ctx, o)));

  addSelectors(addGlobalOptions(program.command('verify').description('compare source and backup per field; --repair copies what differs')))
    .option('--deep', 'compare exact values chunk by chunk, not only counts')
    .option('--repair', 'copy every chunk where the source holds a value the backup lacks or holds differently, then check again')
    .option('--enqueue', 'with --repair: leave the copies to the workers, like plan')
    .option('--wait', 'with --repair --enqueue: block until the workers copied them, then check again')
    .option('--json', 'machine-readable output')
    .action(action<GlobalOptions & VerifyOptions>('verify', (ctx, o) => verifyCommand(ctx, o)));

  addGlobalOptions(program.command('config').description('validate the configuration and print the effective one, secrets masked'))
    .option('--check', 'try Redis and each InfluxDB server instead (a line each: reachable, credentials, databases); exit 1 if one fails')
    .option('--print', 'with --check: print the configuration too, after the verdict')
    .action(action<GlobalOptions & ConfigOptions>('config', (ctx, o) => configCommand(ctx, o)));

  addGlobalOptions(program.command('planner').description('keep the cron schedules of scheduler.jobs and plan on every tick')).action(
    action<GlobalOptions>('planner', (ctx) => plannerRole(ctx)),
  );

  addGlobalOptions(
    program.command('dashboard').description('serve Bull Board at / (basic auth), /health, /metrics and /api/status'),
  ).action(action<GlobalOptions>('dashboard', (ctx) => dashboardRole(ctx)));

  program.addHelpText('after', GLOBAL_HELP);
  // A typo gets commander's "did you mean" and one line of usage, not the whole help.
  program.showHelpAfterError(`usage: influx-backup COMMAND [flags]   (influx-backup --help lists the commands)`);
  for (const cmd of program.commands) {
    cmd.showHelpAfterError(`usage: influx-backup ${cmd.name()} ${cmd.usage()}   (influx-backup ${cmd.name()} --help lists its flags)`);
  }
  return program;
}

/** The flags every command takes (commander lists a command's own under its --help), and where to start. */
const GLOBAL_HELP = `
Every command takes:
  --config <file>      the configuration file (default: "${DEFAULT_CONFIG_FILE}")
  --log-level <level>  ${LOG_LEVEL_NAMES};
                       default: logging.level of the file
  --verbose            debug logging, and stack traces on errors

Examples:
  influx-backup config --check                       try Redis and both InfluxDB servers
  influx-backup run --config /etc/influx-backup/backup.yaml
  influx-backup verify --deep --measurement weather  compare one measurement value by value

From the repository root, run it as pnpm exec influx-backup COMMAND; influx-backup COMMAND --help lists a command's flags.
`;

/** Runs the CLI and returns the exit status; expected errors are one line on stderr. */
export async function runCli(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  return runProgram(program, argv, () => code);
}
