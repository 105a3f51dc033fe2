import { quoteIdent } from '@influx-backup/influx';
import { selectFieldQuery } from './copy.js';
import { fromClause, planFieldChunks, type FieldTarget } from './plan.js';
import type { SourceReader } from './ports.js';

export interface VerifyResult {
  measurement: string;
  field: string;
  source: number;
  backup: number;
  /** Values that differ or are missing on one side (deep mode); otherwise |source - backup|. */
  differences: number;
  /** First differences found, for the operator. */
  examples: string[];
}

async function countField(reader: SourceReader, db: string, t: FieldTarget, startNs: bigint, endNs: bigint): Promise<number> {
  const q = `SELECT COUNT(${quoteIdent(t.field)}::field) FROM ${fromClause(t.measurement, t.retentionPolicy)} WHERE time >= ${startNs} AND time <= ${endNs}`;
  const [series = []] = await reader.query(q, db);
  let n = 0;
  for (const s of series) for (const row of s.values) n += Number(row[1] ?? 0);
  return n;
}

/**
 * Compares one field on both servers over [startNs, endNs]. Counts always; with
 * `deep`, every value chunk by chunk: both answers come ordered by series and
 * time, so they are walked side by side without holding a chunk in memory.
 */
export async function verifyField(opts: {
  source: SourceReader;
  backup: SourceReader;
  sourceDb: string;
  backupDb: string;
  target: FieldTarget;
  startNs: bigint;
  endNs: bigint;
  deep: boolean;
  chunkSizeNs: bigint;
  pieceRows: number;
  maxExamples?: number;
}): Promise<VerifyResult> {
  const { source, backup, target: t } = opts;
  if (!opts.deep) {
    const [s, b] = await Promise.all([
      countField(source, opts.sourceDb, t, opts.startNs, opts.endNs),
      countField(backup, opts.backupDb, t, opts.startNs, opts.endNs),
    ]);
    return { measurement: t.measurement, field: t.field, source: s, backup: b, differences: Math.abs(s - b), examples: [] };
  }
  // The per-chunk counts give the totals too, and say which chunks to read.
  const [inSource, inBackup] = await Promise.all([
    planFieldChunks(source, opts.sourceDb, t, opts.startNs, opts.endNs, opts.chunkSizeNs),
    planFieldChunks(backup, opts.backupDb, t, opts.startNs, opts.endNs, opts.chunkSizeNs),
  ]);
  const total = (chunks: { expected: number }[]): number => chunks.reduce((n, c) => n + c.expected, 0);
  const result: VerifyResult = { measurement: t.measurement, field: t.field, source: total(inSource), backup: total(inBackup), differences: 0, examples: [] };
  const maxExamples = opts.maxExamples ?? 5;
  let differences = 0;
  const note = (text: string): void => {
    differences++;
    if (result.examples.length < maxExamples) result.examples.push(text);
  };
  // Values compare equal across types (5 and 5.0 decode alike), so compare the
  // stored type too.
  const backupTypes = (await backup.fieldKeys(opts.backupDb, t.measurement, t.retentionPolicy)).filter((k) => k.field === t.field).map((k) => k.type);
  if (backupTypes.length > 0 && (backupTypes.length > 1 || backupTypes[0] !== t.type)) {
    note(`type: source ${t.type}, backup ${backupTypes.join(', ')}`);
  }
  // Only chunks that hold values on either side are read.
  const chunks = new Map<bigint, bigint>();
  for (const c of [...inSource, ...inBackup]) chunks.set(c.startNs, c.endNs);
  for (const [lo, hi] of [...chunks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const q = selectFieldQuery(t.measurement, t.field, lo, hi, t.retentionPolicy);
    const a = rows(source.select(q, opts.sourceDb, opts.pieceRows));
    const z = rows(backup.select(q, opts.backupDb, opts.pieceRows));
    let x = await a.next();
    let y = await z.next();
    while (!x.done || !y.done) {
      const cmp = x.done ? 1 : y.done ? -1 : compareRows(x.value, y.value);
      if (cmp === 0) {
        if (x.value!.value !== y.value!.value) note(`${x.value!.key} @${x.value!.time}: source ${x.value!.value}, backup ${y.value!.value}`);
        x = await a.next();
        y = await z.next();
      } else if (cmp < 0) {
        note(`${x.value!.key} @${x.value!.time}: missing in backup`);
        x = await a.next();
      } else {
        note(`${y.value!.key} @${y.value!.time}: in backup only`);
        y = await z.next();
      }
    }
  }
  result.differences = differences;
  return result;
}

interface Row {
  key: string;
  time: bigint;
  value: string;
}

async function* rows(pieces: AsyncIterable<{ name: string; tags: Record<string, string> | undefined; values: unknown[][] }>): AsyncGenerator<Row> {
  for await (const p of pieces) {
    const key = p.name + JSON.stringify(Object.entries(p.tags ?? {}).filter(([, v]) => v !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    for (const r of p.values) {
      if (r[1] === null || r[1] === undefined) continue;
      yield { key, time: BigInt(r[0] as string | number), value: typeof r[1] === 'number' && Object.is(r[1], -0) ? '-0' : JSON.stringify(r[1]) };
    }
  }
}

function compareRows(a: Row, b: Row): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.time === b.time ? 0 : a.time < b.time ? -1 : 1;
}
