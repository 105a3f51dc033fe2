import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { ConfigError } from './config-error.js';

export type PathSegment = string | number;

/**
 * A problem found at a place in the YAML tree, before it becomes a ConfigError; `variable` is the environment
 * variable that gave the bad value, if one did.
 */
export class Issue extends Error {
  override readonly name = 'Issue';
  constructor(
    readonly path: readonly PathSegment[],
    reason: string,
    readonly variable?: string,
  ) {
    super(reason);
  }
}

/** Runs a reader on one value, placing any Issue it throws under `path`. */
export function at<T>(path: readonly PathSegment[], read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof Issue) throw new Issue([...path, ...err.path], err.message, err.variable);
    throw err;
  }
}

/** `backup.measurements[1].start_time` */
export function formatPath(path: readonly PathSegment[]): string {
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('');
}

/** The variables the configuration sees: the real environment over the working directory's `.env`, as dotenv does. */
export function readEnvironment(env: NodeJS.ProcessEnv, cwd: string): Record<string, string> {
  const file = join(cwd, '.env');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new ConfigError(`cannot read: ${code ?? String(err)}`, { file });
  }
  const set = Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined);
  return { ...dotenv.parse(text), ...Object.fromEntries(set) };
}

/** `text` with each `${VAR}` taken from `env` (`$${` is a literal `${`); an unset or malformed one is an Issue. */
export function substituteString(text: string, env: Readonly<Record<string, string>>, path: readonly PathSegment[]): string {
  return text.replace(/\$\$\{|\$\{([^}]*)(\}?)/g, (whole, name: string | undefined, close: string) => {
    if (name === undefined) return '${';
    if (close === '') throw new Issue(path, 'unclosed "${" (write "$${" for a literal "${")');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Issue(path, `bad variable reference "\${${name.slice(0, 40)}}" (a name is letters, digits and _)`);
    }
    const value = env[name];
    if (value === undefined) throw new Issue(path, `environment variable ${name} is not set`);
    return value;
  });
}

/** A copy of a parsed YAML tree with `${VAR}` replaced in every string value (not in keys). */
export function substituteTree(value: unknown, env: Readonly<Record<string, string>>, path: PathSegment[] = []): unknown {
  if (typeof value === 'string') return substituteString(value, env, path);
  if (Array.isArray(value)) return value.map((item, i) => substituteTree(item, env, [...path, i]));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteTree(v, env, [...path, k])]));
}
