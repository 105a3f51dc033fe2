// The alert engine and the metrics block's arithmetic: pure code, tested without servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertsConfig } from '@influx-backup/config';
import { alertRules, alertText, alertTransitions, type AlertRule } from '../src/alert-engine.js';
import { errorRate, estimatedCompletion } from '../src/run-metrics.js';

const thresholds: AlertsConfig = {
  kind: 'thresholds',
  enabled: true,
  thresholds: { errorRate: 0.02, memoryUsage: 0.85, durationMs: 7_200_000 },
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
  });
  assert.deepEqual(rules, [
    { name: 'mail', metric: 'error_rate', operator: '>=', threshold: 0.1, actions: ['email'], recipients: ['a@example.org'] },
    { name: 'slow', metric: 'records_per_second', operator: '<', threshold: 10, actions: ['log'] },
  ]);
});

test('an alert starts once and ends once, whatever the number of checks; a metric not sampled keeps its state', () => {
  const rules: AlertRule[] = [
    { name: 'errors', metric: 'error_rate', operator: '>', threshold: 0.05, actions: ['log'] },
    { name: 'memory', metric: 'memory_usage', operator: '>', threshold: 0.8, actions: ['reduce_workers'] },
  ];
  const firing = new Set<string>();
  const seen: string[] = [];
  for (const sample of [
    { error_rate: 0 },
    { error_rate: 0.2 },
    { error_rate: 0.3 },
    { error_rate: 0.3, memory_usage: 0.9 },
    {},
    { error_rate: 0.01 },
    { error_rate: 0 },
  ]) {
    for (const e of alertTransitions(rules, sample, firing)) {
      seen.push(`${e.rule.name} ${e.state} ${e.value}`);
      if (e.state === 'firing') firing.add(e.rule.name);
      else firing.delete(e.rule.name);
    }
  }
  assert.deepEqual(seen, ['errors firing 0.2', 'memory firing 0.9', 'errors resolved 0.01']);
  assert.deepEqual([...firing], ['memory']);
});

test('the text names the rule, the state, the value and the threshold', () => {
  const rule: AlertRule = { name: 'high_error_rate', metric: 'error_rate', operator: '>', threshold: 0.05, actions: ['notify'] };
  assert.equal(alertText({ rule, state: 'firing', value: 0.25 }, 'plant'), '[plant] alert high_error_rate firing: error_rate 0.25 > 0.05');
  assert.equal(
    alertText({ rule, state: 'resolved', value: 0 }, 'plant'),
    '[plant] alert high_error_rate resolved: error_rate 0 no longer > 0.05',
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
