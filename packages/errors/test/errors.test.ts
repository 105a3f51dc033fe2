import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError, WorkFailed } from '../src/index.js';

test('a subclass of UsageError is a UsageError, keeps its own name, and is no WorkFailed', () => {
  class SelectionLike extends UsageError {
    override readonly name = 'SelectionLike';
  }
  const e = new SelectionLike('--measurement "x" matches nothing');
  assert.ok(e instanceof UsageError);
  assert.ok(!(e instanceof WorkFailed));
  assert.equal(e.name, 'SelectionLike');
  assert.equal(new UsageError('u').name, 'UsageError');
  assert.equal(new WorkFailed('w').name, 'WorkFailed');
});
