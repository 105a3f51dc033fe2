import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger, type Logger } from '../src/index.js';

test('silentLogger satisfies Logger: every method, its children too, and it writes nothing', () => {
  const methods = ['debug', 'info', 'warn', 'error', 'child'] as const;
  const written: string[] = [];
  const { stdout, stderr } = process;
  const outWrite = stdout.write;
  const errWrite = stderr.write;
  const keep = (chunk: unknown): boolean => {
    written.push(String(chunk));
    return true;
  };
  stdout.write = keep;
  stderr.write = keep;
  let child: Logger;
  try {
    child = silentLogger.child({ component: 'x', measurement: 'cpu' });
    for (const logger of [silentLogger, child, child.child({ field: 'usage' })]) {
      for (const m of methods) assert.equal(typeof logger[m], 'function', `${m} is missing`);
      for (const m of ['debug', 'info', 'warn', 'error'] as const) {
        assert.equal(logger[m]('a message', { password: 'x', n: 1n }), undefined);
        assert.equal(logger[m]('without meta'), undefined);
      }
    }
  } finally {
    stdout.write = outWrite;
    stderr.write = errWrite;
  }
  assert.deepEqual(written, []);
  // A child is itself a Logger that logs nowhere.
  assert.equal(child.child({}), silentLogger);
  assert.ok(Object.isFrozen(silentLogger), 'silentLogger is shared: nobody may replace its methods');
});
