import { compareCounts, judgeChunk, lastValueTime, type FieldRange, type ServerPair, type ValueDifference } from '@influx-backup/core';
import type { FieldType } from '@influx-backup/influx';
import { chunkPayload, type FieldPlanMeta } from './catalog.js';
import type { Enqueuer } from './enqueuer.js';
import { chunkDedupeId, chunkJobName, fieldPlanKey } from './names.js';
import type { PlanContext, PlannedField, PlanResult } from './planner.js';

/** What a repair pass found of one field (a chunk is one field's bucket of the `time_chunks.size` grid). */
export interface FieldCheck {
  /** Chunks holding a value of the field on either server. */
  compared: number;
  /** Chunks where the source holds a value the backup lacks or holds differently: each is copied again. */
  different: number;
  /** Values missing from the backup (where only counts were compared: at least this many). */
  missing: number;
  /** Values the backup holds with another value at the same time (read value by value only). */
  changed: number;
  /** Values only in the backup, read value by value: kept, never deleted. */
  extra: number;
  /** The field's types in the backup when they are not the source's (a type conflict, which no copy mends); empty otherwise. */
  backupTypes: FieldType[];
  /** The first few differences read value by value. */
  examples: ValueDifference[];
}

/** The chunks a repair pass copied again, per measurement and policy: what it checks again once they are copied. */
export interface RepairedChunks {
  retentionPolicy?: string;
  measurement: string;
  /** The grid's origin (the measurement's configured start). */
  originNs: bigint;
  /** The fields with a chunk copied again. */
  fields: PlannedField[];
  /** Their ranges, neighbours joined. */
  spans: { startNs: bigint; endNs: bigint }[];
}

/** One field of a measurement being repaired: its plan, and where its unbroken run of complete chunks stands. */
interface FieldState {
  readonly plan: { k: number; meta: FieldPlanMeta; field: PlannedField };
  readonly range: FieldRange;
  /** The next position in the field's plan: equal spans and repaired chunks take them in time order. */
  next: number;
  /** Chunks found complete since the last repaired chunk (or the start). */
  span: number;
  /** The newest of them that holds source values, and whether both servers counted it alike. */
  last?: { startNs: bigint; endNs: bigint; alike: boolean };
}

const EXAMPLES = 3;

/**
 * Plans the repair of one measurement in one policy: compares each field on both
 * servers on the grid of `time_chunks.size` (not on merged chunks: a late point costs
 * one grid chunk, not the field), and enqueues a repair-chunk job for every chunk
 * where the source holds a value the backup lacks or holds differently, the fields of
 * one chunk grouped as processing.fields_per_job says.
 *
 * A field whose plan advances its checkpoint has its chunks in time order as positions
 * of its plan's low watermark: each run of chunks found complete (equal, or holding
 * extra values only) is one position, recorded here at once; each repaired chunk is
 * one, recorded by the worker that copies it. So the checkpoint moves over the unbroken
 * run of complete chunks from the start, and never backwards (completeChunk-3.lua,
 * finishChunk-11.lua). A span before a repaired chunk is recorded with a lower bound of
 * its newest value (the start of its newest bucket holding values): the repaired chunk's
 * newest value is later and wins, and should it fail the checkpoint rests a little early,
 * never late. The last span gets its exact newest value, read from the backup where both
 * servers counted its newest bucket alike (the source spends nothing more on it).
 */
export async function planRepairMeasurement(a: {
  ctx: PlanContext;
  run: string;
  measurement: string;
  originNs: bigint;
  retentionPolicy: string | undefined;
  fields: readonly { k: number; meta: FieldPlanMeta; field: PlannedField; range: FieldRange }[];
  /** Indexes into `fields`, as processing.fields_per_job groups them. */
  groups: readonly (readonly number[])[];
  deep: boolean;
  enqueuer: Enqueuer;
  result: PlanResult;
}): Promise<void> {
  const { ctx, run, measurement } = a;
  if (!ctx.backup) throw new Error('a repair plan needs the backup server to compare with (PlanContext.backup)');
  const servers: ServerPair = { source: ctx.source, backup: ctx.backup, sourceDb: ctx.sourceDb, backupDb: ctx.backupDb };
  const pieceRows = ctx.pieceRows ?? 5_000;
  const first = a.fields[0];
  if (!first) return;
  const { startNs, endNs } = first.range;
  const backupKeys = await ctx.backup.fieldKeys(ctx.backupDb, measurement, a.retentionPolicy);
  const states: FieldState[] = a.fields.map((f) => {
    const types = backupKeys.filter((k) => k.field === f.meta.field).map((k) => k.type);
    f.field.check = {
      compared: 0,
      different: 0,
      missing: 0,
      changed: 0,
      extra: 0,
      backupTypes: types.length > 1 || (types.length === 1 && types[0] !== f.meta.type) ? types : [],
      examples: [],
    };
    // Counts cannot tell the backup's values of another type from the source's: such a field's chunks prove nothing complete.
    if (f.field.check.backupTypes.length > 0) {
      f.meta.advances = false;
      f.field.advancesCheckpoint = false;
    }
    return { plan: f, range: f.range, next: 0, span: 0 };
  });
  await ctx.store.runs.addFieldPlans(
    run,
    a.fields.map(({ k, meta }) => ({ k, meta })),
  );
  const groupOf = new Array<number>(a.fields.length).fill(0);
  a.groups.forEach((g, n) => g.forEach((j) => (groupOf[j] = n)));
  const repaired: RepairedChunks = {
    ...(a.retentionPolicy === undefined ? {} : { retentionPolicy: a.retentionPolicy }),
    measurement,
    originNs: a.originNs,
    fields: [],
    spans: [],
  };

  /** Records the field's complete chunks since its last repaired one as one position of its plan. */
  const closeSpan = async (st: FieldState, lastTimeNs: bigint | null): Promise<void> => {
    if (st.span === 0) return;
    const index = st.next++;
    st.span = 0;
    st.last = undefined;
    if (st.plan.meta.advances) await ctx.store.checkpoints.complete(fieldPlanKey(run, st.plan.k), st.plan.meta.fieldId, index, lastTimeNs);
  };

  const names = a.fields.map((f) => f.meta.field);
  for await (const bucket of compareCounts(servers, measurement, names, a.retentionPolicy, {
    originNs: a.originNs,
    startNs,
    endNs,
    sizeNs: ctx.chunkSizeNs,
  })) {
    const due: number[] = [];
    for (let j = 0; j < states.length; j++) {
      const s = bucket.source[j]!;
      const b = bucket.backup[j]!;
      if (s === 0 && b === 0) continue;
      const st = states[j]!;
      const check = st.plan.field.check!;
      check.compared++;
      const v = await judgeChunk(
        servers,
        st.range.target,
        { startNs: bucket.startNs, endNs: bucket.endNs, source: s, backup: b },
        { deep: a.deep, pieceRows, onDifference: (d) => void (check.examples.length < EXAMPLES && check.examples.push(d)) },
      );
      check.missing += v.missing;
      check.changed += v.changed;
      check.extra += v.extra;
      if (v.repair) {
        check.different++;
        due.push(j);
      } else {
        st.span++;
        if (s > 0) st.last = { startNs: bucket.startNs, endNs: bucket.endNs, alike: s === b };
      }
    }
    if (due.length === 0) continue;
    const index = new Map<number, number>();
    for (const j of due) {
      const st = states[j]!;
      await closeSpan(st, st.last?.startNs ?? null);
      index.set(j, st.next++);
      const f = st.plan.field;
      if (f.chunks === 0) repaired.fields.push(f);
      f.chunks++;
      f.expected += bucket.source[j]!;
      a.result.expectedValues += bucket.source[j]!;
    }
    const last = repaired.spans.at(-1);
    if (last && last.endNs + 1n === bucket.startNs) last.endNs = bucket.endNs;
    else repaired.spans.push({ startNs: bucket.startNs, endNs: bucket.endNs });
    // One job per group of fields_per_job, holding the group's fields that differ here.
    const byGroup = new Map<number, number[]>();
    for (const j of due) byGroup.set(groupOf[j]!, [...(byGroup.get(groupOf[j]!) ?? []), j]);
    for (const members of byGroup.values()) {
      const metas = members.map((j) => states[j]!.plan);
      await a.enqueuer.push(
        measurement,
        chunkDedupeId(
          'repair',
          metas.map((p) => p.meta.fieldId),
          bucket.startNs,
          bucket.endNs,
        ),
        chunkPayload(
          members.map((j) => ({ k: states[j]!.plan.k, i: index.get(j)! })),
          bucket.startNs,
          bucket.endNs,
        ),
        chunkJobName('repair', { measurement, fields: metas.map((p) => p.meta.field) }, ctx.sourceName),
      );
    }
  }
  for (const st of states) {
    if (st.span === 0) continue;
    let newest: bigint | null = null;
    if (st.plan.meta.advances && st.last) {
      // Counted alike, the backup's newest value there is the source's: asked of the backup, which the repair's cost spares.
      const reader = st.last.alike ? servers.backup : servers.source;
      const db = st.last.alike ? servers.backupDb : servers.sourceDb;
      newest = await lastValueTime(reader, db, st.range.target, st.last.startNs, st.last.endNs);
    }
    await closeSpan(st, newest);
  }
  if (repaired.fields.length > 0) (a.result.repaired ??= []).push(repaired);
}
