import { fromClause, type FieldTarget, type Logger, type SourceReader } from '@influx-backup/core';
import { quoteIdent } from '@influx-backup/influx';
import type { FieldPlanMeta } from './catalog.js';
import type { CheckpointStore } from './store/index.js';

/** One field of a measurement and policy as planned: where its overlap lies and its newest chunk. */
export interface FactsField {
  target: FieldTarget;
  /** Incremental runs: the range's start and the checkpoint, the overlap copied again; absent otherwise. */
  overlap?: { startNs: bigint; checkpointNs: bigint };
  /** The newest chunk planned that holds values of the field; absent when none does. */
  newest?: { startNs: bigint; endNs: bigint };
}

/** What planning learns of the source besides the chunks, per field in the order given. */
export interface SourceFacts {
  /** Values in the overlap (already in the backup, copied again), per field; 0 without one. */
  overlapValues: number[];
  /** The time of the field's newest value in the source (ns), per field; undefined when not asked or none. */
  newestNs: (bigint | undefined)[];
}

/**
 * For the fields of one measurement and policy, in one request of one statement per question (InfluxDB answers each
 * statement apart): how many values the overlap before each checkpoint holds (backup.time_chunks.overlap, so a
 * summary can say how much of an incremental copy was already in the backup), and the time of each field's newest
 * value, asked only inside its newest chunk (bounded whatever the range): what a field's lag is measured against to
 * tell "behind" from "the source has nothing newer".
 */
export async function sourceFacts(source: SourceReader, db: string, fields: readonly FactsField[]): Promise<SourceFacts> {
  const facts: SourceFacts = { overlapValues: fields.map(() => 0), newestNs: fields.map(() => undefined) };
  const asks: { i: number; what: 'overlap' | 'newest'; q: string }[] = [];
  fields.forEach((f, i) => {
    const from = fromClause(f.target.measurement, f.target.retentionPolicy);
    const field = `${quoteIdent(f.target.field)}::field`;
    if (f.overlap && f.overlap.startNs <= f.overlap.checkpointNs) {
      asks.push({
        i,
        what: 'overlap',
        q: `SELECT COUNT(${field}) FROM ${from} WHERE time >= ${f.overlap.startNs} AND time <= ${f.overlap.checkpointNs}`,
      });
    }
    if (f.newest) {
      asks.push({
        i,
        what: 'newest',
        q: `SELECT LAST(${field}) FROM ${from} WHERE time >= ${f.newest.startNs} AND time <= ${f.newest.endNs}`,
      });
    }
  });
  if (asks.length === 0) return facts;
  const answers = await source.query(asks.map((a) => a.q).join('; '), db);
  asks.forEach((a, n) => {
    const row = answers[n]?.[0]?.values[0];
    if (!row) return;
    if (a.what === 'overlap') facts.overlapValues[a.i] = Number(row[1]) || 0;
    else if (row[0] !== null && row[0] !== undefined) facts.newestNs[a.i] = BigInt(row[0] as string | number);
  });
  return facts;
}

/**
 * The facts of one measurement and policy as planned, with each field's newest value kept for status, the fields
 * page and /metrics (CheckpointStore.recordSourceNewest). They only describe the copy: a source that cannot answer
 * leaves them out (no overlap counted, the newest times kept from before), never the plan.
 */
export async function recordSourceFacts(
  ctx: { source: SourceReader; sourceDb: string; store: { checkpoints: Pick<CheckpointStore, 'recordSourceNewest'> }; logger: Logger },
  planned: readonly { meta: Pick<FieldPlanMeta, 'fieldId'>; facts: FactsField }[],
  nowNs: bigint,
): Promise<SourceFacts> {
  try {
    const facts = await sourceFacts(
      ctx.source,
      ctx.sourceDb,
      planned.map((p) => p.facts),
    );
    const newest = new Map<string, bigint>();
    planned.forEach((p, i) => {
      const t = facts.newestNs[i];
      if (t !== undefined) newest.set(p.meta.fieldId, t);
    });
    await ctx.store.checkpoints.recordSourceNewest(newest, nowNs);
    return facts;
  } catch (err) {
    ctx.logger.debug(`the source's newest values and overlaps were not read: ${(err as Error).message}`);
    return { overlapValues: [], newestNs: [] };
  }
}
