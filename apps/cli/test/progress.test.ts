import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { counted, Progress } from '../src/progress.js';

/** A stream that is (or is not) a terminal and keeps what is written. */
function terminal(isTTY: boolean): { out: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const out = { isTTY, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { out, text: () => text };
}

describe('progress', () => {
  test('shows no ETA before there is a rate, then one', () => {
    const lines: string[] = [];
    const plain = new Progress(66_528, 104, terminal(false).out, (l) => lines.push(l));
    plain.update(0, 0, 0);
    assert.deepEqual(lines, ['progress: 0/66,528 values  0/s  chunks 0/104']);

    const tty = terminal(true);
    const bar = new Progress(66_528, 104, tty.out, () => assert.fail('a terminal gets the bar, not log lines'));
    bar.update(0, 0, 0);
    assert.match(tty.text(), /\] {3}0% 0\/66,528 values {2}0\/s {2}chunks 0\/104\x1b\[K$/);
    assert.doesNotMatch(tty.text(), /ETA/);

    const later = new Progress(2, 1, terminal(false).out, (l) => lines.push(l));
    later.update(1, 0, 0);
    assert.match(lines.at(-1) ?? '', /^progress: 1\/2 values {2}[\d,]+\/s {2}chunks 0\/1 {2}ETA \d/);
  });

  test('counts in the singular for one', () => {
    assert.equal(counted(1, 'field'), '1 field');
    assert.equal(counted(0, 'chunk'), '0 chunks');
    assert.equal(counted(66_528, 'value'), '66,528 values');
  });
});
