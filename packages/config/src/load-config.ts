import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import convict from 'convict';
import { got, invalid, isMapping } from './issues.js';
import { ConfigError } from './config-error.js';
import { formatPath, Issue, readEnvironment, substituteTree } from './environment.js';
import { LOG_LEVEL_NAMES, normalizeLogLevel, type LogLevel } from './logging.js';
import { convictSchema, eachGiven, leaves, readSection, sensitiveValues, type Context } from './nodes.js';
import { configSchema } from './schema.js';
import { maskText, secretsOf } from './secrets.js';
import type { BackupConfig } from './types.js';
import { YamlSource } from './yaml-source.js';

export interface LoadConfigOptions {
  /** The YAML file, relative to `cwd`. */
  file: string;
  /** Variables for `${VAR}` and the overrides; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where relative paths and the `.env` file are found; default process.cwd(). */
  cwd?: string;
  overrides?: {
    /** From `--log-level`/`--verbose`: the logger's level and every handler's. */
    logLevel?: string;
  };
}

/** The configuration, checked and deeply frozen; a problem is a ConfigError naming the file, key path and line. */
export function loadConfig(options: LoadConfigOptions): BackupConfig {
  const cwd = resolve(options.cwd ?? process.cwd());
  const file = resolve(cwd, options.file);
  const source = YamlSource.parse(file, readConfigFile(file));
  const env = readEnvironment(options.env ?? process.env, cwd);
  const overrides = overrideVariables(env);
  const logLevel = overrideLevel(options.overrides?.logLevel, file);
  let tree = source.toJS();
  try {
    tree = substituteTree(tree ?? {}, env);
    return deepFreeze({ file, ...readConfig(tree, { cwd, env: overrides, ...(logLevel ? { logLevel } : {}) }) });
  } catch (err) {
    if (!(err instanceof Issue)) throw err;
    const line = err.variable === undefined ? source.lineOf(err.path) : undefined;
    const reason = err.variable === undefined ? err.message : `${err.message} (set by environment variable ${err.variable})`;
    // What the sensitive keys hold, in the file and in their variables.
    const variables = leaves(configSchema).map(({ env, sensitive }) => (sensitive && env !== undefined ? overrides[env] : ''));
    const secrets = secretsOf([...sensitiveValues(configSchema, tree, true), ...variables]);
    throw new ConfigError(maskText(reason, secrets), {
      file,
      ...(err.path.length > 0 ? { key: formatPath(err.path) } : {}),
      ...(line === undefined ? {} : { line }),
    });
  }
}

/** convict gives the defaults and the environment over the file; one walk of the schema then reads it all, typed. */
function readConfig(tree: unknown, ctx: Context): Omit<BackupConfig, 'file'> {
  if (!isMapping(tree)) throw invalid(`the file must be a YAML mapping of sections (logging, databases, ...), ${got(tree)}`);
  const conf = convict(convictSchema(configSchema) as convict.Schema<unknown>, { env: ctx.env, args: [] });
  eachGiven(configSchema, tree, (key, value) => conf.set(key, value));
  conf.load({}); // the environment wins over the file
  return readSection(configSchema, conf.getProperties(), ctx);
}

function readConfigFile(file: string): string {
  try {
    if (statSync(file).isDirectory()) throw new ConfigError('is a directory, not a configuration file', { file });
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // The first thing a new user meets: say where a configuration comes from.
      throw new ConfigError(
        'no such file; start from the template: cp config/backup_config.yaml.template config/backup_config.yaml, then edit it ' +
          '(each key is explained there), or pass another file with --config (bash scripts/demo.sh writes .demo/demo.yaml)',
        { file },
      );
    }
    const reason = code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? String(err)})`;
    throw new ConfigError(`${reason}; pass an existing YAML file with --config`, { file });
  }
}

function overrideLevel(text: string | undefined, file: string): LogLevel | undefined {
  const level = text === undefined ? undefined : normalizeLogLevel(text.trim());
  if (text === undefined || level !== undefined) return level;
  throw new ConfigError(`--log-level must be one of ${LOG_LEVEL_NAMES}, ${got(text)}`, { file, key: 'logging.level' });
}

/** The variables convict reads overrides from: an empty one (`MAX_WORKERS=`) is unset, except for a password. */
function overrideVariables(env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  for (const { env: name, sensitive } of leaves(configSchema)) {
    if (name !== undefined && out[name] === '' && !sensitive) delete out[name];
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
