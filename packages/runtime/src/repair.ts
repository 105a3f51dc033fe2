import { compareCounts, judgeChunk, type ServerPair } from '@influx-backup/core';
import { fieldId, type FieldCheck, type FieldVerification, type PlannedField, type RepairedChunks } from '@influx-backup/queue';
import type { Runtime } from './connections.js';
import type { SourcePart } from './pass.js';
import { pieceRowsFor } from './settings.js';
import { storedSourceName } from './sources.js';

/** A range where a field still differs after its repair: the chunk, and what it still lacks. */
export interface StillDifferent {
  startNs: bigint;
  endNs: bigint;
  /** Values still missing or changed (counts alone: at least this many). */
  values: number;
}

/** One field of a repair pass: what the comparison found, what was copied again, and what the check after found. */
export interface RepairField {
  /** The source's name in databases.sources; absent: the single databases.source. */
  sourceName?: string;
  /** The policy compared; absent: the database's default, unnamed. */
  retentionPolicy?: string;
  measurement: string;
  field: string;
  check: FieldCheck;
  /** Chunks copied again, and the source's values in them. */
  chunks: number;
  copied: number;
  /** After the copies, checked again: values still missing or changed (null: not checked again). */
  stillMissing: number | null;
  /** Where (the first few). */
  still: StillDifferent[];
  /** The backup holds every value the source holds in range (values only in the backup allowed); null: not known yet. */
  ok: boolean | null;
}

export interface RepairReport {
  fields: RepairField[];
  /** Every field is ok (and every source was reached); null: some copies are left to the workers. */
  ok: boolean | null;
}

const STILL_SHOWN = 10;

/**
 * Ends a repair pass once its copies are done (`recheck`: they were copied here, or
 * followed): checks the chunks copied again, with both servers' counts as the pass did
 * (with `deep`, values), and records each field's check for status, the fields page
 * and /metrics, with the source's repair totals. Without `recheck` (the copies left to
 * the workers: --enqueue, a scheduled check) the fields are recorded as found, and
 * the next check confirms what the workers copied.
 */
export async function concludeRepair(
  rt: Runtime,
  parts: readonly SourcePart[],
  { deep, recheck }: { deep: boolean; recheck: boolean },
): Promise<RepairReport> {
  const at = new Date().toISOString();
  const fields: RepairField[] = [];
  for (const part of parts) {
    const { plan, source } = part;
    if (!plan) continue;
    const servers: ServerPair = {
      source: source.client,
      backup: rt.backup,
      sourceDb: source.config.database,
      backupDb: source.config.backupDatabase,
    };
    const still = recheck ? await checkAgain(rt, servers, plan.repaired ?? [], deep) : new Map<PlannedField, StillDifferent[]>();
    const mine: RepairField[] = [];
    const checks: { fieldId: string; verification: FieldVerification }[] = [];
    for (const f of plan.fields) {
      const check = f.check;
      if (!check) continue;
      const left = still.get(f) ?? [];
      const stillMissing = recheck || f.chunks === 0 ? left.reduce((n, x) => n + x.values, 0) : null;
      const typed = check.backupTypes.length === 0;
      const ok = !typed ? false : stillMissing === null ? null : stillMissing === 0;
      mine.push({
        ...(source.config.listed ? { sourceName: source.name } : {}),
        ...(f.retentionPolicy === undefined ? {} : { retentionPolicy: f.retentionPolicy }),
        measurement: f.measurement,
        field: f.field,
        check,
        chunks: f.chunks,
        copied: f.expected,
        stillMissing,
        still: left.slice(0, STILL_SHOWN),
        ok,
      });
      checks.push({
        fieldId: fieldId(source.client.endpoint, source.config.database, f.measurement, f.field, f.retentionPolicy),
        verification: {
          at,
          deep,
          startNs: f.startNs.toString(),
          endNs: f.endNs.toString(),
          compared: check.compared,
          different: check.different,
          missing: check.missing,
          changed: check.changed,
          extra: check.extra,
          copied: f.expected,
          ...(f.chunks > 0 ? { run: plan.run } : {}),
          backupTypes: check.backupTypes,
          stillMissing,
          ok,
        },
      });
    }
    await rt.store.verifications.record(checks, {
      source: storedSourceName(source),
      compared: mine.reduce((n, f) => n + f.check.compared, 0),
      different: mine.reduce((n, f) => n + f.check.different, 0),
    });
    fields.push(...mine);
  }
  const reached = parts.every((p) => p.error === undefined && (p.result?.failed ?? 0) === 0);
  const ok = !reached || fields.some((f) => f.ok === false) ? false : fields.some((f) => f.ok === null) ? null : true;
  return { fields, ok };
}

/** The chunks copied again, compared once more: per field, where it still differs. */
async function checkAgain(
  rt: Runtime,
  servers: ServerPair,
  repaired: readonly RepairedChunks[],
  deep: boolean,
): Promise<Map<PlannedField, StillDifferent[]>> {
  const out = new Map<PlannedField, StillDifferent[]>();
  const sizeNs = BigInt(rt.config.backup.timeChunks.sizeMs) * 1_000_000n;
  const pieceRows = pieceRowsFor(rt.config);
  for (const r of repaired) {
    const names = r.fields.map((f) => f.field);
    for (const span of r.spans) {
      const buckets = compareCounts(servers, r.measurement, names, r.retentionPolicy, { originNs: r.originNs, ...span, sizeNs });
      for await (const b of buckets) {
        for (let j = 0; j < r.fields.length; j++) {
          if (b.source[j] === 0 && b.backup[j] === 0) continue;
          const f = r.fields[j]!;
          const v = await judgeChunk(servers, f, { ...b, source: b.source[j]!, backup: b.backup[j]! }, { deep, pieceRows });
          if (!v.repair) continue;
          const list = out.get(f) ?? [];
          list.push({ startNs: b.startNs, endNs: b.endNs, values: v.missing + v.changed });
          out.set(f, list);
        }
      }
    }
  }
  return out;
}
