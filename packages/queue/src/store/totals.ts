/** Since the installation's first run, counted once per chunk (retries per attempt): never go down. */
export interface Totals {
  values: number;
  done: number;
  failed: number;
  retried: number;
}

/**
 * What repair passes found and did, since the first one (a chunk is one field's chunk of the size grid):
 * chunks compared, chunks found different (a value missing or changed), values written by repair chunks.
 */
export interface RepairTotals {
  compared: number;
  different: number;
  repaired: number;
}

/** The totals by source, as RunLedger.totals reads them in one round trip. */
export interface TotalsBySource {
  /** By the source their runs name: its name in databases.sources, '' for the single databases.source. */
  bySource: Map<string, Totals>;
  /** The repair totals, by source as `bySource`. */
  repairs: Map<string, RepairTotals>;
  /** Counted by a version that kept one total for the installation (before an upgrade); absent when there is none. */
  before?: Totals;
}

const TOTAL_COUNTERS = ['values', 'done', 'failed', 'retried'] as const satisfies readonly (keyof Totals)[];
const REPAIR_COUNTERS = ['compared', 'different', 'repaired'] as const satisfies readonly (keyof RepairTotals)[];

/**
 * The totals hash's field of one counter of one source: `values:plant_a`, and
 * `values:` for the single databases.source, which its runs leave unnamed (source
 * names hold no ":"). Four fields per source, however many chunks, and three of
 * repairs (`compared:`, `different:`, written by VerificationStore; `repaired:`).
 * finishChunk-11.lua writes the same fields. Versions before totals were kept per source wrote the bare
 * counter (`values`): those fields are read as `before` and written no more.
 */
export function totalField(counter: keyof Totals | keyof RepairTotals, source: string): string {
  return `${counter}:${source}`;
}

export function noTotals(): Totals {
  return { values: 0, done: 0, failed: 0, retried: 0 };
}

/** The totals hash as read (HGETALL), by source. */
export function readTotals(all: Record<string, string>): TotalsBySource {
  const out: TotalsBySource = { bySource: new Map(), repairs: new Map() };
  for (const [key, v] of Object.entries(all)) {
    const at = key.indexOf(':');
    const name = at < 0 ? key : key.slice(0, at);
    if (at >= 0 && (REPAIR_COUNTERS as readonly string[]).includes(name)) {
      const source = key.slice(at + 1);
      const r = out.repairs.get(source) ?? { compared: 0, different: 0, repaired: 0 };
      r[name as keyof RepairTotals] = Number(v);
      out.repairs.set(source, r);
      continue;
    }
    const counter = name as keyof Totals;
    if (!TOTAL_COUNTERS.includes(counter)) continue;
    let t: Totals;
    if (at < 0) t = out.before ??= noTotals();
    else {
      const source = key.slice(at + 1);
      t = out.bySource.get(source) ?? noTotals();
      out.bySource.set(source, t);
    }
    t[counter] = Number(v);
  }
  return out;
}
