import { formatTimeNs } from '@influx-backup/config';
import type { Runtime, SourceRuntime } from './connections.js';

/** Which field a row of `status` or the fields page is about: its source, policy, measurement and name. */
export interface FieldIdentity {
  /** The configured source's name; null: none of this configuration's (left from an older one). */
  sourceName: string | null;
  /** host:port of the source server. */
  source: string;
  database: string;
  /** null: saved by an older version, before policies were copied one by one; the default policy's. */
  retentionPolicy: string | null;
  measurement: string;
  field: string;
}

/** A field's newest value in the source, as a plan found it (CheckpointStore.sourceNewest). */
export interface SourceNewest {
  readonly timeNs: bigint;
  /** When the plan asked (ms). */
  readonly seenAt: number;
}

/** How far a field's backup is behind its source, which tells "behind" from "the source has nothing newer". */
export interface SourceLag {
  /** The time of the field's newest value in the source as the last plan found it; null: not known (no plan since). */
  sourceNewest: string | null;
  /** When that plan asked. */
  sourceNewestSeenAt: string | null;
  /**
   * Seconds from the checkpoint to the source's newest value: 0 when the backup holds everything the source held at
   * that plan, however old the checkpoint is; null when either is not known.
   */
  behindSourceSeconds: number | null;
}

/** A field's SourceLag from its checkpoint and the source's newest value. */
export function sourceLag(checkpointNs: bigint | undefined, newest: SourceNewest | undefined): SourceLag {
  if (!newest) return { sourceNewest: null, sourceNewestSeenAt: null, behindSourceSeconds: null };
  const behind = checkpointNs === undefined ? null : Math.max(0, Number((newest.timeNs - checkpointNs) / 1_000_000n) / 1000);
  return {
    sourceNewest: formatTimeNs(newest.timeNs),
    sourceNewestSeenAt: new Date(newest.seenAt).toISOString(),
    behindSourceSeconds: behind,
  };
}

/** What the one order of fields reads of a row. */
export type FieldOrderKey = Pick<FieldIdentity, 'sourceName' | 'database' | 'measurement' | 'field'> & {
  retentionPolicy?: string | null | undefined;
};

/**
 * The one order of fields wherever they are listed (status, /api/status, the fields page, verify): by source in the
 * configuration's order (a field of no configured source last), then database, retention policy, measurement and
 * field, each by its characters (the same on every machine, whatever its locale).
 */
export function fieldComparator(sourceNames: readonly string[]): (a: FieldOrderKey, b: FieldOrderKey) => number {
  // A source of another configuration (named, not listed here) after the listed ones; a field of none last.
  const rank = (name: string | null): number => {
    if (name === null) return sourceNames.length + 1;
    const i = sourceNames.indexOf(name);
    return i < 0 ? sourceNames.length : i;
  };
  const text = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return (a, b) =>
    rank(a.sourceName) - rank(b.sourceName) ||
    text(a.sourceName ?? '', b.sourceName ?? '') ||
    text(a.database, b.database) ||
    text(a.retentionPolicy ?? '', b.retentionPolicy ?? '') ||
    text(a.measurement, b.measurement) ||
    text(a.field, b.field);
}

/** The configured source a checkpoint belongs to, by its server (host:port) and database; undefined: none of them. */
export function sourceOfField(rt: Runtime): (endpoint: string, database: string) => SourceRuntime | undefined {
  const byKey = new Map(rt.sources.map((s) => [JSON.stringify([s.client.endpoint, s.config.database]), s]));
  return (endpoint, database) => byKey.get(JSON.stringify([endpoint, database]));
}

/**
 * Which source's runs and totals Redis keeps a source's under: its name in
 * databases.sources, '' for the single databases.source (whose runs name none,
 * as before several sources).
 */
export function storedSourceName(source: SourceRuntime): string {
  return source.config.listed ? source.name : '';
}

/** The newest run of each configured source, by its name (one left out of the configuration is not looked at). */
export async function newestRunBySource(rt: Runtime): Promise<Map<string, string>> {
  const newest = await rt.store.runs.newestBySource();
  const out = new Map<string, string>();
  for (const s of rt.sources) {
    const run = newest.get(storedSourceName(s));
    if (run !== undefined) out.set(s.name, run);
  }
  return out;
}

/** A source's own run id in a pass: the pass's, followed by the name of a source of databases.sources. */
export function sourceRunId(passId: string, source: SourceRuntime): string {
  return source.config.listed ? `${passId}.${source.name}` : passId;
}
