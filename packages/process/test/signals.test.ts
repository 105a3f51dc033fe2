import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onShutdownSignals, whenAborted } from '../src/index.js';

// process.emit calls the listeners as a real signal would, without signalling the test runner.
const counts = (): [number, number] => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];

for (const [first, second, code] of [
  ['SIGINT', 'SIGINT', 130],
  ['SIGTERM', 'SIGTERM', 143],
  ['SIGTERM', 'SIGINT', 130],
] as const) {
  test(`${first} asks for a graceful stop; a second signal (${second}) exits ${code}; dispose removes every listener`, async () => {
    const before = counts();
    const exits: number[] = [];
    const shutdown = onShutdownSignals({ exit: (c) => exits.push(c) });
    assert.deepEqual(counts(), [before[0] + 1, before[1] + 1]);
    assert.equal(shutdown.signal.aborted, false);

    process.emit(first);
    assert.equal(shutdown.signal.aborted, true);
    assert.equal(await whenAborted(shutdown.signal), first);
    assert.deepEqual(exits, [], 'the first signal does not exit');
    assert.deepEqual(counts(), [before[0] + 1, before[1] + 1], 'the first listeners are replaced, not added to');

    process.emit(second);
    assert.deepEqual(exits, [code]);

    shutdown.dispose();
    shutdown.dispose();
    assert.deepEqual(counts(), before);
  });
}

test('dispose before any signal removes the listeners and leaves the signal unaborted', () => {
  const before = counts();
  const shutdown = onShutdownSignals({ exit: () => assert.fail('exited') });
  shutdown.dispose();
  assert.deepEqual(counts(), before);
  assert.equal(shutdown.signal.aborted, false);
});
