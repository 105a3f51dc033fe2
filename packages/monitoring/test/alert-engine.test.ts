// The alert engine (when an alert is sent, repeated and resolved) and the metrics block's arithmetic: pure code, tested without servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertsConfig } from '@influx-backup/config';
import type { FiringAlert } from '@influx-backup/queue';
import {
  alertKey,
  alertRules,
  alertText,
  decideAlerts,
  ruleId,
  type AlertDecision,
  type AlertRule,
  type AlertSubject,
} from '../src/alert-engine.js';
import { errorRate, estimatedCompletion } from '../src/run-metrics.js';

const thresholds: AlertsConfig = {
  kind: 'thresholds',
  enabled: true,
  thresholds: { errorRate: 0.02, memoryUsage: 0.85, durationMs: 7_200_000 },
  repeatIntervalMs: 0,
};

test('the thresholds form gives the seed three alerts; disabled, none', () => {
  assert.deepEqual(
    alertRules(thresholds).map((r) => [r.name, r.metric, r.operator, r.threshold, r.actions]),
    [
      ['high_error_rate', 'error_rate', '>', 0.02, ['notify']],
      ['memory_pressure', 'memory_usage', '>', 0.85, ['reduce_workers', 'notify']],
      ['long_running_job', 'duration', '>', 7200, ['notify']],
    ],
  );
  assert.deepEqual(alertRules({ ...thresholds, enabled: false }), []);
  assert.deepEqual(alertRules(undefined), []);
});

test('the list form keeps its names, conditions, actions and recipients', () => {
  const rules = alertRules({
    kind: 'rules',
    rules: [
      {
        name: 'mail',
        condition: 'error_rate >= 0.1',
        metric: 'error_rate',
        operator: '>=',
        value: 0.1,
        action: 'email',
        recipients: ['a@example.org'],
      },
      { name: 'slow', condition: 'records_per_second < 10', metric: 'records_per_second', operator: '<', value: 10, action: 'log' },
    ],
    repeatIntervalMs: 0,
  });
  assert.deepEqual(rules, [
    { name: 'mail', metric: 'error_rate', operator: '>=', threshold: 0.1, actions: ['email'], recipients: ['a@example.org'] },
    { name: 'slow', metric: 'records_per_second', operator: '<', threshold: 10, actions: ['log'] },
  ]);
});

/** A check loop over the pure engine: applies each decision to `firing`, and keeps what was sent as one line each. */
function engine(rules: readonly AlertRule[], repeatMs = 0) {
  const firing = new Map<string, FiringAlert | undefined>();
  const sent: string[] = [];
  return {
    firing,
    sent,
    check(now: number, ...subjects: AlertSubject[]): AlertDecision[] {
      const decisions = decideAlerts({ rules, subjects, firing, now, repeatMs });
      for (const d of decisions) {
        if (d.after) firing.set(d.key, d.after);
        else firing.delete(d.key);
        const e = d.event;
        if (e)
          sent.push(`${e.rule.name} ${e.repeat ? 'repeat' : e.state} ${e.run ?? 'process'}${e.source ? ` ${e.source}` : ''} ${e.value}`);
      }
      return decisions;
    },
  };
}

const errors: AlertRule = { name: 'errors', metric: 'error_rate', operator: '>', threshold: 0.05, actions: ['notification'] };
const run = (
  id: string,
  startedAt: number,
  error_rate: number | undefined,
  ended = true,
  more: Partial<AlertSubject> = {},
): AlertSubject => ({
  source: '',
  kind: 'copy',
  run: id,
  startedAt,
  ended,
  values: error_rate === undefined ? {} : { error_rate },
  ...more,
});

test('each failing run fires its own alert, though the last one never resolved; a later run ending below resolves it once', () => {
  const e = engine([errors]);
  // Night 1 fails: sent once, however many checks see it.
  for (const t of [10, 20, 30]) e.check(t, run('night-1', 0, 0.25, t === 30));
  // Night 2 fails too: a second alert, naming night 2.
  e.check(100, run('night-2', 90, 0.5, false));
  e.check(110, run('night-2', 90, 0.5));
  // Night 3: healthy while it runs (and before its first attempt), which resolves nothing until it ends.
  e.check(200, run('night-3', 190, undefined, false));
  e.check(210, run('night-3', 190, 0, false));
  e.check(220, run('night-3', 190, 0));
  e.check(230, run('night-3', 190, 0));
  assert.deepEqual(e.sent, ['errors firing night-1 0.25', 'errors firing night-2 0.5', 'errors resolved night-3 0']);
  assert.equal(e.firing.size, 0);
});

test('the run that fired an alert does not resolve it by dipping below, nor does a run that started before it', () => {
  const e = engine([errors]);
  e.check(10, run('b', 5, 0.5, false));
  e.check(20, run('b', 5, 0.01));
  // A run that started before b (and ends after it) is not a later run.
  e.check(30, run('a', 1, 0));
  assert.deepEqual(e.sent, ['errors firing b 0.5']);
  const [entry] = e.firing.values();
  assert.deepEqual([entry?.run, entry?.since, entry?.sentAt], ['b', 10, 10]);
});

test('a firing alert is sent again every repeat interval and never sooner, naming its run; 0 never repeats', () => {
  const e = engine([errors], 2_000);
  e.check(1_000, run('r', 0, 0.5, false));
  for (let t = 1_250; t < 7_000; t += 250) e.check(t, run('r', 0, 0.5, false));
  assert.deepEqual(e.sent, ['errors firing r 0.5', 'errors repeat r 0.5', 'errors repeat r 0.5']);
  const [entry] = e.firing.values();
  // Sent at 1000, 3000, 5000: the next is due at 7000.
  assert.deepEqual([entry?.since, entry?.sentAt], [1_000, 5_000]);
  e.check(7_000, run('r', 0, 0.5));
  assert.equal(e.sent.at(-1), 'errors repeat r 0.5');
  // Repeats go on after the run ended (nobody fixed it), until a later run resolves it.
  e.check(9_100);
  assert.equal(e.sent.length, 5);

  const never = engine([errors], 0);
  never.check(0, run('r', 0, 0.5, false));
  for (let t = 1; t < 100; t++) never.check(t * 3_600_000, run('r', 0, 0.5, false));
  assert.deepEqual(never.sent, ['errors firing r 0.5']);
});

test('a rule changed in the file starts fresh: the old entry is dropped without a word, the new one fires on the same run', () => {
  const before = engine([errors]);
  before.check(10, run('r', 0, 0.5));
  const mail: AlertRule = { ...errors, actions: ['email'], recipients: ['dba@example.org'] };
  const after = engine([mail]);
  for (const [k, v] of before.firing) after.firing.set(k, v);
  const decisions = after.check(20, run('r', 0, 0.5));
  assert.deepEqual(
    decisions.map((d) => [d.dropped === true, d.event?.state, d.event?.rule.actions]),
    [
      [false, 'firing', ['email']],
      [true, undefined, undefined],
    ],
  );
  assert.deepEqual(
    [...after.firing.values()].map((a) => a?.rule),
    [ruleId(mail)],
  );
  // An entry that cannot be read (an older version's) is dropped too.
  const old = engine([errors]);
  old.firing.set('errors', undefined);
  assert.deepEqual(
    old.check(5).map((d) => [d.key, d.dropped]),
    [['errors', true]],
  );
});

test('each source and each kind of run has its own alert of a rule', () => {
  const e = engine([errors]);
  const a = (id: string, start: number, rate: number, kind = 'copy'): AlertSubject => run(id, start, rate, true, { source: 'a', kind });
  e.check(10, a('copy-1', 0, 0.5), a('restore-1', 0, 0.5, 'restore'), run('copy-1.b', 0, 0));
  // A healthy copy of a resolves a's copy alert only; its restore alert stays.
  e.check(20, a('copy-2', 15, 0));
  assert.deepEqual(e.sent, ['errors firing copy-1 a 0.5', 'errors firing restore-1 a 0.5', 'errors resolved copy-2 a 0']);
  assert.deepEqual(
    [...e.firing.values()].map((f) => [f?.source, f?.kind, f?.run]),
    [['a', 'restore', 'restore-1']],
  );
});

test("a process's own metric fires once while it holds and resolves as soon as it drops", () => {
  const memory: AlertRule = { name: 'memory', metric: 'memory_usage', operator: '>', threshold: 0.8, actions: ['reduce_workers'] };
  const e = engine([memory]);
  const me = (memory_usage?: number): AlertSubject => ({
    source: '',
    kind: 'process',
    startedAt: 0,
    ended: false,
    values: memory_usage === undefined ? {} : { memory_usage },
  });
  for (const [t, v] of [
    [1, 0.5],
    [2, 0.9],
    [3, 0.95],
    [4, undefined],
    [5, 0.7],
    [6, 0.6],
    [7, 0.85],
  ] as const)
    e.check(t, me(v));
  assert.deepEqual(e.sent, ['memory firing process 0.9', 'memory resolved process 0.7', 'memory firing process 0.85']);
});

test('a rule as configured: another condition, action or recipients is another rule', () => {
  const id = ruleId(errors);
  assert.equal(ruleId({ ...errors }), id);
  assert.match(id, /^errors#[0-9a-f]{12}$/);
  for (const changed of [
    { ...errors, threshold: 0.1 },
    { ...errors, operator: '>=' as const },
    { ...errors, actions: ['email' as const] },
    { ...errors, recipients: ['a@example.org'] },
    { ...errors, name: 'errors2' },
  ])
    assert.notEqual(ruleId(changed), id);
  assert.notEqual(alertKey(id, 'a', 'copy'), alertKey(id, 'a', 'restore'));
});

test('the text names the rule, the state, the value, the threshold and the run', () => {
  const rule: AlertRule = { name: 'high_error_rate', metric: 'error_rate', operator: '>', threshold: 0.05, actions: ['notify'] };
  const base = { rule, repeat: false, kind: 'copy', since: Date.parse('2024-01-01T02:00:00Z'), at: 0 };
  assert.equal(
    alertText({ ...base, state: 'firing', value: 0.25, run: 'run-1' }, 'plant'),
    '[plant] alert high_error_rate firing: error_rate 0.25 > 0.05 in run run-1',
  );
  assert.equal(
    alertText({ ...base, state: 'firing', repeat: true, value: 0.25, run: 'run-1', source: 'a' }, 'plant'),
    '[plant] alert high_error_rate still firing since 2024-01-01T02:00:00.000Z (source a): error_rate 0.25 > 0.05 in run run-1',
  );
  assert.equal(
    alertText({ ...base, state: 'resolved', value: 0, run: 'run-2' }, 'plant'),
    '[plant] alert high_error_rate resolved: error_rate 0 no longer > 0.05 in run run-2',
  );
  assert.equal(
    alertText({ ...base, state: 'resolved', value: 0.5, kind: 'process' }, 'w'),
    '[w] alert high_error_rate resolved: error_rate 0.5 no longer > 0.05',
  );
});

test('error rate: failed attempts (retried and failed for good) over every attempt', () => {
  assert.equal(errorRate({ done: 0, failed: 0, retried: 0 }), 0);
  assert.equal(errorRate({ done: 8, failed: 1, retried: 1 }), 0.2);
});

test('estimated completion: the pace so far times the chunks left; the finish once finished; unknown while planning', () => {
  const base = { total: 100, done: 20, failed: 5, values: 0, retried: 0, planned: true, exists: true, startedAt: 1_000_000 };
  // 25 chunks in 50 s: 2 s a chunk, 75 left.
  assert.equal(estimatedCompletion(base, 1_050_000), 1_050_000 + 150_000);
  assert.equal(estimatedCompletion({ ...base, planned: false }, 1_050_000), null);
  assert.equal(estimatedCompletion({ ...base, done: 0, failed: 0 }, 1_050_000), null);
  assert.equal(estimatedCompletion({ ...base, done: 95, finishedAt: 1_200_000 }, 1_300_000), 1_200_000);
});
