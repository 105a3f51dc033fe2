import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { ConfigError } from './config-error.js';

export type PathSegment = string | number;

/** A problem found at a place in the YAML tree, before it becomes a ConfigError. */
export class Issue extends Error {
  constructor(
    readonly path: readonly PathSegment[],
    reason: string,
    /** The environment variable that overrode the file's value, when the bad value came from it. */
    readonly variable?: string,
  ) {
    super(reason);
    this.name = 'Issue';
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
  let text = '';
  for (const seg of path) {
    if (typeof seg === 'number') text += `[${seg}]`;
    else text += text === '' ? seg : `.${seg}`;
  }
  return text;
}

/**
 * The variables the configuration sees: the real environment, over the `.env` file in the
 * working directory (the real environment wins, as dotenv does; neither is modified).
 */
export function readEnvironment(env: NodeJS.ProcessEnv, cwd: string): Record<string, string> {
  const merged: Record<string, string> = {};
  const dotenvFile = join(cwd, '.env');
  if (existsSync(dotenvFile)) {
    let text: string;
    try {
      text = readFileSync(dotenvFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: dotenvFile });
    }
    Object.assign(merged, dotenv.parse(text));
  }
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

/**
 * Replaces every `${VAR}` in a string from `env`; `$${` stands for a literal `${`.
 * Throws Issue (at `path`) for an unset variable or a malformed reference.
 */
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
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteTree(v, env, [...path, k]);
    return out;
  }
  return value;
}
