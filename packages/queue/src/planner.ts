import { UsageError } from '@influx-backup/errors';
import {
  discoverFields,
  incrementalRange,
  planMeasurementChunks,
  type Logger,
  type FieldRange,
  type FieldTarget,
  type SourceReader,
} from '@influx-backup/core';
import { chunkPayload, type FieldPlanMeta, type RetryPolicy } from './catalog.js';
import { Enqueuer } from './enqueuer.js';
import { chunkDedupeId, chunkJobName, fieldId, restoreFieldId, runKey, type CopyKind } from './names.js';
import type { CopyQueue } from './queues.js';
import { planRepairMeasurement, type FieldCheck, type RepairedChunks } from './repair-planner.js';
import { recordSourceFacts, type FactsField } from './source-facts.js';
import type { Store } from './store/index.js';

export interface MeasurementPlanConfig {
  name: string;
  fields?: readonly string[] | undefined;
  startNs: bigint;
  /** Absent: up to the time of planning. */
  endNs?: bigint | undefined;
}

export interface PlanSelection {
  kind: CopyKind;
  /** Only these measurements (default: all configured). */
  measurements?: readonly string[];
  /** Only these fields (default: configured, or every field). */
  fields?: readonly string[];
  /** Only these retention policies (default: every one of the context's). */
  retentionPolicies?: readonly string[];
  startNs?: bigint;
  endNs?: bigint;
  /** Copy the whole configured range, ignoring checkpoints. */
  full?: boolean;
  /** Count only: what would be planned, with nothing recorded in Redis and nothing enqueued. */
  dryRun?: boolean;
  /** A repair: compare values chunk by chunk, not counts alone (verify --deep --repair). */
  deep?: boolean;
  /** A repair of the newest part of each range only (scheduler.jobs[].window), in ns. */
  windowNs?: bigint;
  runId: string;
}

/**
 * `source` and `sourceDb` are what is read, `backupDb` what is written (the
 * backup server and the source's database for a restore: see restoreRoute).
 */
export interface PlanContext {
  source: SourceReader;
  /** The source's name in databases.sources (in its run record and job names); absent: the single databases.source. */
  sourceName?: string;
  queue: CopyQueue;
  store: Pick<Store, 'checkpoints' | 'runs'>;
  sourceDb: string;
  backupDb: string;
  measurements: readonly MeasurementPlanConfig[];
  /**
   * The source's retention policies to copy, each into its namesake; absent: the
   * database's default policy, unnamed (reads and writes name no policy).
   */
  retentionPolicies?: readonly string[];
  /** The source's default policy: checkpoints saved before policies were named become its own. */
  defaultPolicy?: string;
  chunkSizeNs: bigint;
  /** backup.time_chunks.max_values: merge neighbouring grid chunks up to this many values; 1: no merging. */
  maxValues: number;
  /** processing.fields_per_job: fields of one measurement and policy per job (Infinity: all); default 1. */
  fieldsPerJob?: number;
  overlapNs: bigint;
  retry: RetryPolicy;
  logger: Logger;
  now?: () => bigint;
  /** The backup server, read by a repair to compare with (`backupDb` on it). */
  backup?: SourceReader;
  /** Rows per streamed piece when a repair reads values (see pieceRowsFor). */
  pieceRows?: number;
}

export interface PlannedField {
  retentionPolicy?: string;
  measurement: string;
  field: string;
  type: FieldTarget['type'];
  startNs: bigint;
  endNs: bigint;
  chunks: number;
  expected: number;
  /** Whether finishing these chunks may move the field's checkpoint. */
  advancesCheckpoint: boolean;
  /** A repair's findings; `chunks` and `expected` are then those of the chunks copied again. */
  check?: FieldCheck;
}

export interface PlanResult {
  runId: string;
  /** The run's key in Redis (its counters; its jobs' ids start with it). */
  run: string;
  /** Chunk jobs planned (one per chunk of a field, or of a group of fields): enqueued plus reused. */
  chunks: number;
  enqueued: number;
  /** Chunks already in flight for another run (BullMQ deduplicated them): followed, not enqueued again. */
  reused: number;
  fields: PlannedField[];
  /** `measurement.field` named in the configuration but absent from the source. */
  missing: string[];
  expectedValues: number;
  /** A repair: the chunks it copies again, to be checked once copied. */
  repaired?: RepairedChunks[];
  /** Of expectedValues, those in the overlaps (backup.time_chunks.overlap before each field's checkpoint): already in the backup. */
  overlapValues: number;
}

/** A --measurement, --field or --retention-policy that selects nothing: bad usage (exit 2). */
export class SelectionError extends UsageError {
  override readonly name = 'SelectionError';
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * Plans a backup: for every selected field, its own range (from its own
 * checkpoint for incremental runs), the chunks of that range that hold data, and
 * one job per chunk. Job ids are deterministic, so a chunk already waiting or
 * running is not enqueued twice, by this planner or any other.
 */
export async function planBackup(ctx: PlanContext, sel: PlanSelection): Promise<PlanResult> {
  const now = (ctx.now ?? nowNs)();
  const known = new Set(ctx.measurements.map((m) => m.name));
  // A backfill or a restore takes any measurement and field it is given; a copy and a repair, configured ones.
  const adHoc = sel.kind === 'backfill' || sel.kind === 'restore';
  if (sel.kind === 'repair' && sel.dryRun) throw new RangeError('a repair has no dry run: its comparison is what it plans');
  for (const name of sel.measurements ?? []) {
    if (!known.has(name) && !adHoc) {
      throw new SelectionError(`--measurement ${JSON.stringify(name)} is not in backup.measurements`);
    }
  }
  let selected: MeasurementPlanConfig[] = ctx.measurements.filter((m) => !sel.measurements || sel.measurements.includes(m.name));
  if (adHoc) {
    // A backfill or a restore may name a measurement the configuration does not list.
    for (const name of sel.measurements ?? []) {
      if (!known.has(name)) selected.push({ name, startNs: sel.startNs ?? 0n });
    }
    selected = selected.filter((m, i, all) => all.findIndex((x) => x.name === m.name) === i);
  }

  const run = runKey(sel.runId, sel.kind);
  const result: PlanResult = {
    runId: sel.runId,
    run,
    chunks: 0,
    enqueued: 0,
    reused: 0,
    fields: [],
    missing: [],
    expectedValues: 0,
    overlapValues: 0,
  };
  const restore = sel.kind === 'restore';
  const enqueuer = sel.dryRun ? undefined : new Enqueuer(ctx, run, result);
  const source = ctx.sourceName === undefined ? {} : { source: ctx.sourceName };
  const reads = restore ? { reads: 'backup' as const } : {};
  if (enqueuer)
    await ctx.store.runs.open(run, {
      runId: sel.runId,
      kind: sel.kind,
      ...source,
      sourceDb: ctx.sourceDb,
      backupDb: ctx.backupDb,
      ...reads,
    });
  const findsNewest = sel.kind === 'copy' && sel.endNs === undefined;
  let matchedField = false;
  let fieldSeq = 0;

  const available: readonly (string | undefined)[] = ctx.retentionPolicies ?? [undefined];
  for (const name of sel.retentionPolicies ?? []) {
    if (!available.includes(name)) {
      const known = available.filter((p) => p !== undefined).map((p) => JSON.stringify(p));
      throw new SelectionError(
        `--retention-policy ${JSON.stringify(name)} is not a policy being copied (${known.join(', ') || 'none named'})`,
      );
    }
  }
  const policies = available.filter((p) => !sel.retentionPolicies || (p !== undefined && sel.retentionPolicies.includes(p)));

  for (const m of selected) {
    let wanted: readonly string[] | undefined = m.fields;
    if (sel.fields) {
      // A backfill or a restore takes the fields it is given, configured or not.
      wanted = adHoc || !m.fields ? sel.fields : m.fields.filter((f) => sel.fields?.includes(f));
    }
    if (wanted && wanted.length === 0) continue;
    // A measurement may live in some policies only; it is reported when no policy has it.
    let missingEverywhere: Set<string> | undefined;
    let foundAny = false;
    for (const rp of policies) {
      const { targets, missing } = await discoverFields(ctx.source, ctx.sourceDb, m.name, wanted, rp);
      missingEverywhere = new Set(missingEverywhere === undefined ? missing : missing.filter((f) => missingEverywhere?.has(f)));
      if (targets.length > 0) foundAny = true;
      if (targets.length > 0) matchedField = true;
      const configStart = m.startNs;
      const configEnd = m.endNs ?? now;

      const ranges: FieldRange[] = [];
      const planned: { k: number; meta: FieldPlanMeta; field: PlannedField; range: FieldRange; facts: FactsField }[] = [];
      for (const target of targets) {
        // A restore reads no checkpoint (nor adopts one): it moves none.
        const fid = restore
          ? restoreFieldId(ctx.source.endpoint, ctx.sourceDb, target.measurement, target.field, rp, ctx.backupDb)
          : fieldId(ctx.source.endpoint, ctx.sourceDb, target.measurement, target.field, rp);
        const checkpoint = restore
          ? undefined
          : rp !== undefined && rp === ctx.defaultPolicy
            ? await ctx.store.checkpoints.adopt(fieldId(ctx.source.endpoint, ctx.sourceDb, target.measurement, target.field), fid)
            : await ctx.store.checkpoints.get(fid);
        let range: { startNs: bigint; endNs: bigint } | undefined;
        if (adHoc) {
          range = { startNs: sel.startNs ?? configStart, endNs: sel.endNs ?? configEnd };
          if (range.endNs < range.startNs) range = undefined;
        } else {
          let lo = sel.startNs !== undefined && sel.startNs > configStart ? sel.startNs : configStart;
          const hi = sel.endNs !== undefined && sel.endNs < configEnd ? sel.endNs : configEnd;
          // A repair's window: the newest part of the range only.
          if (sel.kind === 'repair' && sel.windowNs !== undefined && hi - sel.windowNs + 1n > lo) lo = hi - sel.windowNs + 1n;
          if (sel.kind === 'repair') range = hi >= lo ? { startNs: lo, endNs: hi } : undefined;
          else range = sel.full ? (hi >= lo ? { startNs: lo, endNs: hi } : undefined) : incrementalRange(lo, hi, checkpoint, ctx.overlapNs);
        }
        if (!range) continue;
        // A plan may move the checkpoint only if it starts where every older value
        // is already known to be in the backup; otherwise it would jump a gap. A
        // repair compares its whole range, so it also may when it starts at the start.
        const advances =
          sel.kind === 'repair'
            ? range.startNs <= configStart || (checkpoint !== undefined && range.startNs <= checkpoint + 1n)
            : sel.kind === 'copy' && (checkpoint === undefined ? range.startNs <= configStart : range.startNs <= checkpoint + 1n);
        const fieldRange = { target, ...range };
        ranges.push(fieldRange);
        const field: PlannedField = { ...target, ...range, chunks: 0, expected: 0, advancesCheckpoint: advances };
        result.fields.push(field);
        const meta: FieldPlanMeta = { fieldId: fid, measurement: target.measurement, field: target.field, type: target.type, advances };
        if (rp !== undefined) meta.retentionPolicy = rp;
        const overlap =
          sel.kind === 'copy' && !sel.full && checkpoint !== undefined ? { startNs: range.startNs, checkpointNs: checkpoint } : undefined;
        planned.push({ k: fieldSeq++, meta, field, range: fieldRange, facts: { target, ...(overlap ? { overlap } : {}) } });
      }
      if (ranges.length === 0) continue;
      // A repair records its field plans itself, once it knows which may move their checkpoint.
      if (enqueuer && sel.kind !== 'repair')
        await ctx.store.runs.addFieldPlans(
          run,
          planned.map(({ k, meta }) => ({ k, meta })),
        );
      // Fields in the order found, cut into groups of fields_per_job: a group's
      // buckets merge while each of its fields stays within max_values, so their
      // chunks coincide and one job copies them with one query wherever their
      // ranges do.
      const size = ctx.fieldsPerJob ?? 1;
      if (!(size >= 1)) throw new RangeError(`fieldsPerJob must be at least 1, got ${size}`);
      const groups: number[][] = [];
      for (let n = 0; n < planned.length; n += size) groups.push(planned.slice(n, n + size).map((_, j) => n + j));
      if (sel.kind === 'repair') {
        if (!enqueuer) continue;
        await planRepairMeasurement({
          ctx,
          run,
          measurement: m.name,
          originNs: configStart,
          retentionPolicy: rp,
          fields: planned,
          groups,
          deep: sel.deep ?? false,
          enqueuer,
          result,
        });
        continue;
      }
      // One COUNT per piece of the measurement's range for all its fields; chunks
      // are enqueued as each piece is counted, so no plan is ever held whole.
      const opts = { sizeNs: ctx.chunkSizeNs, maxValues: ctx.maxValues, groups };
      for await (const piece of planMeasurementChunks(ctx.source, ctx.sourceDb, m.name, ranges, opts)) {
        const all = piece.chunks;
        for (let a = 0; a < all.length;) {
          let b = a + 1;
          while (b < all.length && all[b]!.job === all[a]!.job) b++;
          const members = all.slice(a, b).map(({ field: f, chunk }) => ({ p: planned[f]!, chunk }));
          a = b;
          for (const { p, chunk } of members) {
            p.field.chunks++;
            p.field.expected += chunk.expected;
            result.expectedValues += chunk.expected;
            // The field's newest value is asked only of a plan that reaches the range's end: a backfill's or an
            // --end-time's newest chunk is not the field's.
            if (findsNewest && (!p.facts.newest || chunk.startNs > p.facts.newest.startNs)) {
              p.facts.newest = { startNs: chunk.startNs, endNs: chunk.endNs };
            }
          }
          const { startNs, endNs } = members[0]!.chunk;
          const fids = members.map(({ p }) => p.meta.fieldId);
          const name = chunkJobName(sel.kind, { measurement: m.name, fields: members.map(({ p }) => p.meta.field) }, ctx.sourceName);
          const data = chunkPayload(
            members.map(({ p, chunk }) => ({ k: p.k, i: chunk.index })),
            startNs,
            endNs,
          );
          if (enqueuer) await enqueuer.push(m.name, chunkDedupeId(sel.kind, fids, startNs, endNs), data, name);
          else result.chunks++;
        }
      }
      if (sel.kind === 'copy' && !sel.dryRun) {
        const facts = await recordSourceFacts(ctx, planned, now);
        result.overlapValues += facts.overlapValues.reduce((n, v) => n + v, 0);
      }
    }
    result.missing.push(...[...(missingEverywhere ?? [])].map((f) => `${m.name}.${f}`));
    if (!foundAny && (missingEverywhere?.size ?? 0) === 0) {
      ctx.logger.warn(
        `measurement ${JSON.stringify(m.name)} has no fields in ${ctx.sourceDb} on ${ctx.source.endpoint} (yet); nothing to copy`,
      );
    }
  }
  if (sel.fields && !matchedField && result.missing.length === 0) {
    throw new SelectionError(
      `--field ${sel.fields.map((f) => JSON.stringify(f)).join(', ')} matches no configured field of the selected measurements`,
    );
  }
  await enqueuer?.close();
  ctx.logger.info(sel.dryRun ? 'counted' : 'planned', {
    run: sel.runId,
    fields: result.fields.length,
    chunks: result.chunks,
    enqueued: result.enqueued,
    reused: result.reused,
    expectedValues: result.expectedValues,
  });
  return result;
}
