import { didYouMean } from '@influx-backup/config';
import { UsageError } from '@influx-backup/errors';
import type { InfluxClient } from '@influx-backup/influx';
import type { Runtime, SourceRuntime } from './connections.js';

/**
 * The sources --source names (repeatable), in the configuration's order; all without it.
 * A name no source has is bad usage (exit 2), named, with the closest configured name.
 */
export function selectSources(rt: Runtime, names: readonly string[] | undefined): SourceRuntime[] {
  const known = rt.sources.map((s) => s.name);
  for (const name of names ?? []) {
    if (!known.includes(name))
      throw new UsageError(
        `--source ${JSON.stringify(name)} is not a configured source${didYouMean(name, known)}; the sources: ${known.join(', ')}`,
      );
  }
  return rt.sources.filter((s) => !names?.length || names.includes(s.name));
}

export interface SelectionFlags {
  readonly measurements?: readonly string[] | undefined;
  readonly fields?: readonly string[] | undefined;
  /** Whether a --measurement may be one that backup.measurements does not list (backfill). */
  readonly anyMeasurement?: boolean;
  /** The retention policies being copied: a field counts when any of them holds it. */
  readonly retentionPolicies?: readonly string[];
  /** The database the names must be in (a restore: the backup's); default the source's. */
  readonly on?: { server: InfluxClient; db: string; what: string };
}

/**
 * Checks --measurement and --field against the source before anything is planned or
 * compared: a name the source does not have is bad usage (exit 2), named, with the
 * closest name the source does have. Without this a misspelt name plans nothing and
 * reads as "every field is up to date".
 */
export async function checkSelection(source: SourceRuntime, flags: SelectionFlags): Promise<void> {
  const { config } = source;
  const { server, db, what } = flags.on ?? { server: source.client, db: config.database, what: 'source' };
  const where = `the ${what} database ${JSON.stringify(db)} on ${server.endpoint}${config.listed ? ` (source ${source.name})` : ''}`;
  const configured = config.measurements.map((m) => m.name);
  const existing = await server.measurements(db);
  for (const name of flags.measurements ?? []) {
    if (!existing.includes(name)) {
      const names = flags.anyMeasurement ? existing : configured.filter((m) => existing.includes(m));
      throw new UsageError(`--measurement ${JSON.stringify(name)}: ${where} has no such measurement${didYouMean(name, names)}`);
    }
    if (!flags.anyMeasurement && !configured.includes(name)) {
      const list = config.listed ? `the measurements of source ${source.name}` : 'backup.measurements';
      throw new UsageError(`--measurement ${JSON.stringify(name)} is not in ${list}${didYouMean(name, configured)}`);
    }
  }
  if (!flags.fields?.length) return;
  const selected = flags.measurements?.length ? flags.measurements : configured.filter((m) => existing.includes(m));
  const fields = new Set<string>();
  for (const m of selected) {
    for (const rp of flags.retentionPolicies ?? [undefined]) for (const k of await server.fieldKeys(db, m, rp)) fields.add(k.field);
  }
  for (const name of flags.fields) {
    if (fields.has(name)) continue;
    const of = selected.length === 1 ? `measurement ${JSON.stringify(selected[0])}` : 'no selected measurement';
    const has = selected.length === 1 ? 'has no such field' : 'has such a field';
    throw new UsageError(`--field ${JSON.stringify(name)}: ${of} in ${where} ${has}${didYouMean(name, [...fields])}`);
  }
}
