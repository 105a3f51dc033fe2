import {
  counted,
  discoverFields,
  formatCount,
  verifyField,
  type DifferenceRange,
  type ValueDifference,
  type VerifyResult,
} from '@influx-backup/core';
import { formatTimeNs } from '@influx-backup/config';
import { EXIT_FAILED, EXIT_OK, UsageError, type ProcessContext } from '@influx-backup/process';
import {
  checkSelection,
  fieldComparator,
  measurementPlans,
  pieceRowsFor,
  preflight,
  selectSources,
  withRuntime,
} from '@influx-backup/runtime';
import { nowNs } from '@influx-backup/queue';
import { timeFlag } from '../context.js';

export interface VerifyOptions {
  deep?: boolean;
  measurement?: string[];
  field?: string[];
  retentionPolicy?: string[];
  startTime?: string;
  endTime?: string;
  source?: string[];
  json?: boolean;
  repair?: boolean;
  enqueue?: boolean;
  wait?: boolean;
}

/** `sourceName`: the name of a source of databases.sources. */
type PolicyResult = VerifyResult & { retentionPolicy: string; sourceName?: string };

/** Ranges printed per field; the JSON output has them all. */
const MAX_RANGES = 10;

export async function verifyCommand(ctx: ProcessContext, opts: VerifyOptions): Promise<number> {
  if (opts.enqueue && !opts.repair) throw new UsageError('--enqueue leaves the copies of a repair to the workers: give it with --repair');
  if (opts.wait && !opts.enqueue)
    throw new UsageError('--wait follows the copies --enqueue leaves to the workers: give it with --repair --enqueue');
  if (opts.repair) return (await import('./repair.js')).repairCommand(ctx, opts);
  const fromFlag = timeFlag('--start-time', opts.startTime);
  const toFlag = timeFlag('--end-time', opts.endTime);
  if (fromFlag !== undefined && toFlag !== undefined && toFlag < fromFlag)
    throw new UsageError(`--end-time ${opts.endTime} is before --start-time ${opts.startTime}`);
  return withRuntime(ctx, async (rt) => {
    const selected = selectSources(rt, opts.source);
    const checks = await preflight(rt, { prepareBackup: false, sources: selected });
    const several = rt.sources.some((s) => s.config.listed);
    const c = rt.config;
    const now = nowNs();
    const results: PolicyResult[] = [];
    const down: string[] = [];
    for (const check of checks) {
      if ('error' in check) {
        down.push(`source ${check.source.name}: ${check.error.message}`);
        continue;
      }
      const { source } = check;
      const names = check.policies.policies.map((p) => p.name);
      for (const rp of opts.retentionPolicy ?? []) {
        if (!names.includes(rp)) {
          throw new UsageError(
            `--retention-policy ${JSON.stringify(rp)} is not a policy being copied${several ? ` from source ${source.name}` : ''} (${names.map((n) => JSON.stringify(n)).join(', ')})`,
          );
        }
      }
      await checkSelection(source, { measurements: opts.measurement, fields: opts.field, retentionPolicies: names });
      for (const rp of names.filter((n) => !opts.retentionPolicy?.length || opts.retentionPolicy.includes(n))) {
        for (const m of measurementPlans(source.config)) {
          if (opts.measurement?.length && !opts.measurement.includes(m.name)) continue;
          const wanted = opts.field?.length ? (m.fields ?? opts.field).filter((f) => opts.field?.includes(f)) : m.fields;
          if (wanted?.length === 0) continue;
          const { targets } = await discoverFields(source.client, source.config.database, m.name, wanted, rp);
          const startNs = fromFlag !== undefined && fromFlag > m.startNs ? fromFlag : m.startNs;
          const end = m.endNs ?? now;
          const endNs = toFlag !== undefined && toFlag < end ? toFlag : end;
          if (endNs < startNs) continue;
          for (const target of targets) {
            results.push(
              await verifyField({
                source: source.client,
                backup: rt.backup,
                sourceDb: source.config.database,
                backupDb: source.config.backupDatabase,
                target,
                startNs,
                endNs,
                deep: opts.deep ?? false,
                chunkSizeNs: BigInt(c.backup.timeChunks.sizeMs) * 1_000_000n,
                pieceRows: pieceRowsFor(c),
              }).then((r) => ({ ...r, retentionPolicy: rp, ...(source.config.listed ? { sourceName: source.name } : {}) })),
            );
          }
        }
      }
    }
    // The one order of fields: status and the fields page list them alike.
    const order = fieldComparator(rt.sources.map((s) => s.name));
    const key = (r: PolicyResult): Parameters<typeof order>[0] => ({
      sourceName: r.sourceName ?? rt.sources[0]?.name ?? null,
      database: '',
      retentionPolicy: r.retentionPolicy,
      measurement: r.measurement,
      field: r.field,
    });
    results.sort((a, b) => order(key(a), key(b)));
    const bad = results.filter((r) => r.differences > 0);
    const deep = opts.deep ?? false;
    if (opts.json) {
      const fields = results.map((r) => ({
        ...r,
        examples: [...typeNote(r), ...r.ranges.flatMap((g) => g.examples.map(describe))],
        ranges: r.ranges.map((g) => ({
          ...g,
          start: formatTimeNs(g.startNs),
          end: formatTimeNs(g.endNs),
          repair: repair(r, g),
          examples: g.examples.map(describe),
        })),
      }));
      const text = JSON.stringify(
        { ok: bad.length === 0 && down.length === 0, deep, fields, ...(down.length ? { unreachable: down } : {}) },
        (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
        2,
      );
      process.stdout.write(`${text}\n`);
    } else {
      process.stdout.write(`${table(results, deep).join('\n')}\n`);
      const total = counted(results.length, 'field');
      const verdict = deep ? 'identical value by value' : 'identical by count and type';
      process.stdout.write(
        bad.length === 0
          ? `verify: ${total} ${verdict}\n`
          : `verify: ${bad.length} of ${total} ${bad.length === 1 ? 'differs' : 'differ'}\n`,
      );
      for (const d of down) process.stdout.write(`verify: not compared: ${d}\n`);
    }
    return bad.length === 0 && down.length === 0 ? EXIT_OK : EXIT_FAILED;
  });
}

/**
 * Counts on both sides and how they differ: with --deep, values missing from the backup, in the backup only and
 * changed, then each range of neighbouring differences and the backfill that repairs it; without, backup - source.
 */
function table(results: readonly PolicyResult[], deep: boolean): string[] {
  // The source's name (several sources) and the policy in columns of their own, so the fields line up.
  const named = results.some((r) => r.sourceName !== undefined);
  const sourceW = named ? Math.max('source'.length, ...results.map((r) => r.sourceName?.length ?? 0)) : 0;
  const policyW = Math.max('policy'.length, ...results.map((r) => r.retentionPolicy.length));
  const row = (source: string, policy: string, field: string): string =>
    `${named ? `${source.padEnd(sourceW)} ` : ''}${policy.padEnd(policyW)} ${field}`;
  const name = (r: PolicyResult): string => row(r.sourceName ?? '', r.retentionPolicy, `${r.measurement}.${r.field}`);
  const nameW = Math.max(12, ...results.map((r) => name(r).length));
  const cols = deep ? ['source', 'backup', 'missing', 'extra', 'changed'] : ['source', 'backup', 'difference'];
  const out = [[row('source', 'policy', 'field').padEnd(nameW), ...cols.map((h) => h.padStart(12))].join('  ')];
  for (const r of results) {
    const sum = (k: 'missing' | 'extra' | 'changed'): number => r.ranges.reduce((n, g) => n + g[k], 0);
    const delta = r.backup - r.source;
    const cells = deep
      ? [r.source, r.backup, sum('missing'), sum('extra'), sum('changed')].map(formatCount)
      : [formatCount(r.source), formatCount(r.backup), delta > 0 ? `+${formatCount(delta)}` : formatCount(delta)];
    out.push([name(r).padEnd(nameW), ...cells.map((v) => v.padStart(12))].join('  ') + (r.differences ? '  DIFFERENT' : ''));
    // InfluxDB refuses a second type in a shard: the backup's values of the other type must go before a backfill.
    for (const note of typeNote(r))
      out.push(`    ${note}: delete the backup's ${r.backupTypes.join(', ')} values of this field, then backfill`);
    for (const g of r.ranges.slice(0, MAX_RANGES)) {
      const what = [
        g.missing && `${formatCount(g.missing)} missing`,
        g.extra && `${formatCount(g.extra)} in the backup only`,
        g.changed && `${formatCount(g.changed)} changed`,
      ];
      out.push(`    ${formatTimeNs(g.startNs)} .. ${formatTimeNs(g.endNs)}  ${what.filter(Boolean).join(', ')}`);
      for (const d of g.examples) out.push(`      ${describe(d)}`);
      if (g.missing + g.changed > 0) out.push(`      repair: ${repair(r, g)}`);
    }
    if (r.ranges.length > MAX_RANGES)
      out.push(`    ... and ${counted(r.ranges.length - MAX_RANGES, 'more range')} (verify --deep --json lists them all)`);
  }
  return out;
}

function typeNote(r: VerifyResult): string[] {
  return r.backupTypes.length > 0 ? [`type: source ${r.type}, backup ${r.backupTypes.join(', ')}`] : [];
}

function describe(d: ValueDifference): string {
  const at = `${d.series} ${formatTimeNs(d.timeNs)}`;
  if (d.kind === 'missing') return `${at}: missing in the backup (source ${d.source})`;
  if (d.kind === 'extra') return `${at}: in the backup only (backup ${d.backup})`;
  return `${at}: source ${d.source}, backup ${d.backup}`;
}

/** The backfill that copies a range again (it never moves a checkpoint back), names quoted for a POSIX shell. */
function repair(r: PolicyResult, g: DifferenceRange): string {
  const range = ['--start-time', formatTimeNs(g.startNs), '--end-time', formatTimeNs(g.endNs)];
  const args = [
    ...(r.sourceName === undefined ? [] : ['--source', r.sourceName]),
    '--measurement',
    r.measurement,
    '--field',
    r.field,
    '--retention-policy',
    r.retentionPolicy,
    ...range,
  ];
  return `influx-backup backfill ${args.map(shellWord).join(' ')}`;
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
