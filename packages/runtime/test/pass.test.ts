import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type SourceConfig } from '@influx-backup/config';
import { InfluxClient } from '@influx-backup/influx';
import type { PlanResult, RunResult } from '@influx-backup/queue';
import type { SourceRuntime } from '../src/connections.js';
import { passRecord, type SourcePart } from '../src/pass.js';

/** The sources of a configuration, each with a client (never connected here). */
function sources(yaml: string): SourceRuntime[] {
  const dir = mkdtempSync(join(tmpdir(), 'ib-pass-'));
  writeFileSync(join(dir, 'c.yaml'), yaml);
  const config = loadConfig({ file: 'c.yaml', cwd: dir, env: {} });
  return config.sources.map((s: SourceConfig, i) => ({
    name: s.name,
    config: s,
    key: s.listed ? `databases.sources[${i}]` : 'databases.source',
    client: new InfluxClient({ host: s.host, port: s.port }),
  }));
}

const MEASUREMENTS = `backup:
  measurements:
    - { name: "m", start_time: "2026-01-01T00:00:00Z" }
`;

function plan(runId: string, run: string, chunks: number): PlanResult {
  return { runId, run, chunks, enqueued: chunks, reused: 0, fields: [], missing: [], expectedValues: chunks * 10, overlapValues: 0 };
}

function result(completed: number, failed: number): RunResult {
  return {
    total: completed + failed,
    completed,
    failed,
    values: completed * 10,
    failures: failed ? [{ jobId: 'j', measurement: 'm', field: 'f', reason: 'type conflict' }] : [],
  };
}

test('the single source keeps the record it always had: its run key at the top, no parts', () => {
  const [one] = sources(`databases:\n  source: { host: "a.example", database: "iot" }\n  backup: { host: "b.example" }\n${MEASUREMENTS}`);
  const parts: SourcePart[] = [{ source: one!, plan: plan('run-1', 'r00000001', 3), result: result(3, 0) }];
  const r = passRecord('run-1', 'run', parts, Date.parse('2026-12-01T10:00:00Z'), Date.parse('2026-12-01T10:00:05Z'));
  assert.deepEqual(r, {
    runId: 'run-1',
    mode: 'run',
    startedAt: '2026-12-01T10:00:00.000Z',
    finishedAt: '2026-12-01T10:00:05.000Z',
    fields: 0,
    chunks: 3,
    completed: 3,
    failed: 0,
    values: 30,
    ok: true,
    failures: [],
    run: 'r00000001',
  });
});

test('several sources: one part each, a source left out fails the pass and is named among the failures', () => {
  const [a, b] = sources(`databases:
  sources:
    - { name: "a", host: "a.example", database: "iot", backup_database: "a_iot" }
    - { name: "b", host: "b.example", database: "iot", backup_database: "b_iot" }
  backup: { host: "bak.example" }
${MEASUREMENTS}`);
  const parts: SourcePart[] = [
    { source: a!, plan: plan('run-2.a', 'ra', 4), result: result(3, 1) },
    { source: b!, error: 'source "b" InfluxDB b.example:8086: connection refused' },
  ];
  const r = passRecord('run-2', 'plan', parts, 0, 1_000);
  assert.equal(r.ok, false);
  assert.equal(r.run, undefined);
  assert.deepEqual([r.chunks, r.completed, r.failed, r.values], [4, 3, 1, 30]);
  assert.deepEqual(
    r.sources?.map((p) => [p.source, p.run ?? null, p.ok, p.error ?? null]),
    [
      ['a', 'ra', false, null],
      ['b', null, false, 'source "b" InfluxDB b.example:8086: connection refused'],
    ],
  );
  assert.deepEqual(
    r.failures.map((f) => [f.source, f.reason]),
    [
      ['a', 'type conflict'],
      ['b', 'source "b" InfluxDB b.example:8086: connection refused'],
    ],
  );
});

test('at most 20 failures are kept, however many chunks failed', () => {
  const [one] = sources(`databases:\n  source: { host: "a.example", database: "iot" }\n  backup: { host: "b.example" }\n${MEASUREMENTS}`);
  const many: RunResult = {
    total: 30,
    completed: 0,
    failed: 30,
    values: 0,
    failures: Array.from({ length: 30 }, (_, i) => ({ reason: `r${i}` })),
  };
  const r = passRecord('run-3', 'run', [{ source: one!, plan: plan('run-3', 'r3', 30), result: many }], 0);
  assert.equal(r.failures.length, 20);
  assert.equal(r.failed, 30);
});
