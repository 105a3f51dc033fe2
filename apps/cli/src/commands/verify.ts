import { discoverFields, verifyField, type VerifyResult } from '@influx-backup/core';
import { EXIT_FAILED, EXIT_OK, UsageError, type ProcessContext } from '@influx-backup/process';
import { measurementPlans, pieceRowsFor, preflight, withRuntime } from '@influx-backup/runtime';
import { nowNs } from '@influx-backup/queue';
import { fmtInt } from '../progress.js';

export async function verifyCommand(
  ctx: ProcessContext,
  opts: { deep?: boolean; measurement?: string[]; retentionPolicy?: string[]; json?: boolean },
): Promise<number> {
  return withRuntime(ctx, async (rt) => {
    const { policies } = await preflight(rt, { prepareBackup: false });
    const names = policies.map((p) => p.name);
    for (const rp of opts.retentionPolicy ?? []) {
      if (!names.includes(rp)) {
        throw new UsageError(`--retention-policy ${JSON.stringify(rp)} is not a policy being copied (${names.map((n) => JSON.stringify(n)).join(', ')})`);
      }
    }
    const c = rt.config;
    const now = nowNs();
    const results: (VerifyResult & { retentionPolicy: string })[] = [];
    for (const rp of names.filter((n) => !opts.retentionPolicy?.length || opts.retentionPolicy.includes(n))) {
      for (const m of measurementPlans(c)) {
        if (opts.measurement?.length && !opts.measurement.includes(m.name)) continue;
        const { targets } = await discoverFields(rt.source, c.databases.source.database, m.name, m.fields, rp);
        for (const target of targets) {
          results.push(
            await verifyField({
              source: rt.source,
              backup: rt.backup,
              sourceDb: c.databases.source.database,
              backupDb: c.databases.backup.database,
              target,
              startNs: m.startNs,
              endNs: m.endNs ?? now,
              deep: opts.deep ?? false,
              chunkSizeNs: BigInt(c.backup.timeChunks.sizeMs) * 1_000_000n,
              pieceRows: pieceRowsFor(c),
            }).then((r) => ({ ...r, retentionPolicy: rp })),
          );
        }
      }
    }
    const bad = results.filter((r) => r.differences > 0);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ok: bad.length === 0, deep: opts.deep ?? false, fields: results }, null, 2)}\n`);
    } else {
      const nameW = Math.max(12, ...results.map((r) => `${r.retentionPolicy} ${r.measurement}.${r.field}`.length));
      const out = [`${'policy field'.padEnd(nameW)}  ${'source'.padStart(12)}  ${'backup'.padStart(12)}  ${'difference'.padStart(10)}`];
      for (const r of results) {
        out.push(
          `${`${r.retentionPolicy} ${r.measurement}.${r.field}`.padEnd(nameW)}  ${fmtInt(r.source).padStart(12)}  ${fmtInt(r.backup).padStart(12)}  ${fmtInt(r.differences).padStart(10)}${r.differences ? '  DIFFERENT' : ''}`,
        );
        for (const e of r.examples) out.push(`    ${e}`);
      }
      out.push(bad.length === 0 ? `verify: ${results.length} fields identical${opts.deep ? ' value by value' : ' by count'}` : `verify: ${bad.length} of ${results.length} fields differ`);
      process.stdout.write(`${out.join('\n')}\n`);
    }
    return bad.length === 0 ? EXIT_OK : EXIT_FAILED;
  });
}
