import assert from 'node:assert/strict';

/**
 * The error a promise rejects with, checked to be of `type`: for tests that go on
 * to assert what the error says. Fails the test when the promise resolves.
 */
export async function rejection<E extends Error>(p: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected a rejection with a ${type.name}`);
}
