// The vocabulary of the schema. A leaf says how one value is read (once, into its typed form),
// printed, defaulted and overridden; a section maps properties to leaves and sections. From one
// declaration come the typed value and its type, the convict schema and the printed view.

import { didYouMean, got, invalid, isMapping } from './issues.js';
import { at, Issue } from './environment.js';
import type { LogLevel } from './logging.js';
import { maskText } from './secrets.js';

/** What a reader may need besides the value. */
export interface Context {
  /** Where relative paths are resolved. */
  readonly cwd: string;
  /** The variables that override leaves with an `env` (empty ones removed, except secrets). */
  readonly env: Readonly<Record<string, string>>;
  /** --log-level or --verbose: the level of the logger and every handler. */
  readonly logLevel?: LogLevel;
}

export interface Format<T> {
  /** The value as written (in the file, a variable or the default) → its typed form; throws Issue. */
  read(value: unknown, ctx: Context): T;
  /** The typed form → what the effective configuration prints; the value itself when left out. */
  show?(value: T, secrets: readonly string[]): unknown;
  /** A list's item: where the secrets of its elements are found. */
  readonly items?: Section;
}

export interface Leaf<T = unknown, Optional extends boolean = boolean> extends Format<T> {
  readonly kind: 'leaf';
  readonly doc?: string;
  /** Taken when the key is left out or empty; null: the key is required. */
  readonly default: unknown;
  /** The environment variable that overrides the file. */
  readonly env?: string;
  /** Masked when printed, and never quoted in a message. */
  readonly sensitive?: boolean;
  /** Left out of the typed result when not given or empty. */
  readonly optional: Optional;
}

export interface Section<T = unknown> {
  readonly kind: 'section';
  readonly fields: Fields;
  /** Checks between keys and values derived from several; paths in its Issues are relative. */
  readonly finish: (value: never, ctx: Context) => T;
  /** An optional section: whether its read mapping (defaults filled in) was given at all; if not, it is left out. */
  readonly given?: (value: Record<string, unknown>) => boolean;
}

export type Fields = { readonly [prop: string]: Leaf | Section };

/** The typed value a leaf or section reads. */
export type TypeOf<N> = N extends Leaf<infer T> ? T : N extends Section<infer T> ? T : never;
type OptionalKeys<F> = { [K in keyof F]: F[K] extends { optional: true } ? K : never }[keyof F];

/** The typed, camelCase, readonly value of a section's fields. */
export type Typed<F extends Fields> = { readonly [K in Exclude<keyof F, OptionalKeys<F>>]: TypeOf<F[K]> } & {
  readonly [K in OptionalKeys<F>]?: TypeOf<F[K]>;
};

type LeafOptions = Partial<Pick<Leaf, 'doc' | 'default' | 'env' | 'sensitive'>>;

export function leaf<T>(format: Format<T>, options: LeafOptions = {}): Leaf<T, false> {
  return { kind: 'leaf', default: null, ...format, ...options, optional: false };
}

export function optional<T>(format: Format<T>, options: LeafOptions = {}): Leaf<T, true> {
  return { kind: 'leaf', default: null, ...format, ...options, optional: true };
}

export function section<F extends Fields>(fields: F): Section<Typed<F>>;
export function section<F extends Fields, T>(fields: F, finish: (value: Typed<F>, ctx: Context) => T): Section<T>;
export function section(fields: Fields, finish: (value: never, ctx: Context) => unknown = (value) => value): Section {
  return { kind: 'section', fields, finish };
}

/** A section left out of the typed result when `given` says its mapping was not given (`databases.source`). */
export function optionalSection<F extends Fields, T>(
  fields: F,
  given: (value: Record<string, unknown>) => boolean,
  finish: (value: Typed<F>, ctx: Context) => T,
): Section<T> & { readonly optional: true } {
  return { kind: 'section', fields, finish, given, optional: true };
}

/** The YAML key of a property: snake_case, without the unit its value carries (timeoutMs: `timeout`). */
function yamlKey(prop: string): string {
  return prop.replace(/(Ms|Mb)$/, '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function entries(section: Section): [key: string, prop: string, node: Leaf | Section][] {
  return Object.entries(section.fields).map(([prop, node]) => [yamlKey(prop), prop, node]);
}

/** `value` as a mapping of the section's keys, or an Issue naming what is wrong. */
function mappingOf(section: Section, value: unknown): Record<string, unknown> {
  const keys = entries(section).map(([key]) => key);
  if (!isMapping(value)) throw invalid(`must be a mapping of ${keys.join(', ')}, ${got(value)}`);
  const unknown = Object.keys(value).find((key) => !keys.includes(key));
  if (unknown !== undefined) throw invalid(`unknown key${didYouMean(unknown, keys)}`, [unknown]);
  return value;
}

/** Reads a mapping (a missing one is empty) into the section's typed value. */
export function readSection<T>(section: Section<T>, raw: unknown, ctx: Context): T {
  const value = mappingOf(section, raw ?? {});
  if (section.given && !section.given(value)) return undefined as T;
  const out: Record<string, unknown> = {};
  for (const [key, prop, node] of entries(section)) {
    const read = node.kind === 'section' ? () => readSection(node, value[key], ctx) : () => readLeaf(node, value[key], ctx);
    const typed = at([key], read);
    if (typed !== undefined) out[prop] = typed;
  }
  return section.finish(out as never, ctx);
}

function readLeaf(leaf: Leaf, given: unknown, ctx: Context): unknown {
  const value = given ?? leaf.default;
  if (leaf.optional && (value === null || value === undefined || value === '')) return undefined;
  try {
    return leaf.read(value, ctx);
  } catch (err) {
    if (!(err instanceof Issue) || leaf.env === undefined) throw err;
    // Environment variables override the file (convict's rule), so a variable that is set gave the value.
    if (ctx.env[leaf.env] !== undefined) throw new Issue(err.path, err.message, leaf.env);
    if (err.message === 'is required') throw new Issue(err.path, `is required (in the file or as ${leaf.env})`);
    throw err;
  }
}

/** A list of mappings, each read by `item`; no two may share the value of `unique`'s property. */
export function list<T>(
  item: Section<T>,
  what: string,
  options: { empty?: string; unique?: [prop: keyof T & string, reason: (value: string, first: number) => string] } = {},
): Format<readonly T[]> {
  return {
    read(value, ctx) {
      const items = value ?? [];
      if (!Array.isArray(items)) throw invalid(`must be a list of ${what}s, ${got(items)}`);
      if (items.length === 0 && options.empty !== undefined) throw invalid(options.empty);
      const seen = new Map<string, number>();
      return items.map((element, i) =>
        at([i], () => {
          if (!isMapping(element)) throw invalid(`must be a mapping (${what}), ${got(element)}`);
          const typed = readSection(item, element, ctx);
          const [prop, reason] = options.unique ?? [];
          if (prop === undefined || reason === undefined) return typed;
          const id = String(typed[prop]);
          const first = seen.get(id);
          if (first !== undefined) throw invalid(reason(id, first), [yamlKey(prop)]);
          seen.set(id, i);
          return typed;
        }),
      );
    },
    show: (items, secrets) => items.map((typed) => showSection(item, typed, secrets)),
    items: item,
  };
}

/** A typed value as YAML data in the file's keys; sensitive leaves go through maskText, the one place printing masks. */
export function showSection(section: Section, typed: unknown, secrets: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop, node] of entries(section)) {
    const value = (typed as Record<string, unknown>)[prop];
    if (node.kind === 'section') {
      if (value !== undefined) out[key] = showSection(node, value, secrets);
    } else if (value === undefined) {
      // An optional key that defaults to "" (a password left out) prints as ""; others are left out.
      if (node.default === '') out[key] = '';
    } else {
      const shown = node.show === undefined ? value : node.show(value, secrets);
      out[key] = node.sensitive ? maskText(String(shown), secrets) : shown;
    }
  }
  return out;
}

/** The values of the sensitive leaves in `value`: a typed value, or (`byKey`) a tree in the file's keys. */
export function sensitiveValues(section: Section, value: unknown, byKey = false): unknown[] {
  const out: unknown[] = [];
  for (const [key, prop, node] of entries(section)) {
    const child = isMapping(value) ? value[byKey ? key : prop] : undefined;
    if (node.kind === 'section') out.push(...sensitiveValues(node, child, byKey));
    else if (node.sensitive) out.push(child);
    else if (node.items && Array.isArray(child)) for (const item of child) out.push(...sensitiveValues(node.items, item, byKey));
  }
  return out;
}

/** Every leaf of a section. */
export function leaves(section: Section): Leaf[] {
  return Object.values(section.fields).flatMap((node) => (node.kind === 'leaf' ? [node] : leaves(node)));
}

/** The convict schema of a section: doc, default, env and sensitive of every leaf. */
export function convictSchema(section: Section): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, , node] of entries(section)) {
    // Any format: the leaf's reader checks the value and returns it typed, which a convict format cannot.
    if (node.kind === 'section') out[key] = convictSchema(node);
    else out[key] = { doc: node.doc ?? '', format: '*', default: node.default, env: node.env, sensitive: node.sensitive === true };
  }
  return out;
}

/** Walks a parsed file along the section (unknown keys are Issues), passing each leaf given (not empty) to `set`. */
export function eachGiven(section: Section, value: unknown, set: (key: string, value: unknown) => void, prefix = ''): void {
  const mapping = mappingOf(section, value);
  const nodes = new Map(entries(section).map(([key, , node]) => [key, node]));
  for (const [key, given] of Object.entries(mapping)) {
    const node = nodes.get(key);
    if (given === null || node === undefined) continue;
    if (node.kind === 'leaf') set(`${prefix}${key}`, given);
    else at([key], () => eachGiven(node, given, set, `${prefix}${key}.`));
  }
}
