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
