import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { counted, formatRate, formatSeconds } from '@influx-backup/core';
import { Progress } from '../src/progress.js';

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
    assert.deepEqual(lines, ['progress: 0/66,528 values  0 values/s  chunks 0/104']);

    const tty = terminal(true);
    const bar = new Progress(66_528, 104, tty.out, () => assert.fail('a terminal gets the bar, not log lines'));
    bar.update(0, 0, 0);
    assert.match(tty.text(), /\] {3}0% 0\/66,528 values {2}0 values\/s {2}chunks 0\/104\x1b\[K$/);
    assert.doesNotMatch(tty.text(), /ETA/);

    const later = new Progress(2, 1, terminal(false).out, (l) => lines.push(l));
    later.update(1, 0, 0);
    assert.match(lines.at(-1) ?? '', /^progress: 1\/2 values {2}[\d,]+ values\/s {2}chunks 0\/1 {2}ETA \d/);
  });

  test('without a terminal the last line says where the pass ended, at its rate over the time spent copying', () => {
    const lines: string[] = [];
    const plain = new Progress(66_528, 8, terminal(false).out, (l) => lines.push(l));
    plain.update(0, 0, 0);
    // A second update within 5 s is not printed; the final figures always are.
    plain.update(30_000, 4, 0);
    plain.done({ values: 66_528, finished: 8, failed: 0, copyingSeconds: 1.9 });
    assert.deepEqual(lines, [
      'progress: 0/66,528 values  0 values/s  chunks 0/8',
      'progress: 66,528/66,528 values  35,015 values/s  chunks 8/8',
    ]);

    const tty = terminal(true);
    const bar = new Progress(66_528, 8, tty.out, () => assert.fail('a terminal gets the bar'));
    bar.done({ values: 66_528, finished: 8, failed: 0, copyingSeconds: 1.9 });
    assert.match(tty.text(), /\] 100% 66,528\/66,528 values {2}35,015 values\/s {2}chunks 8\/8\x1b\[K\n$/);
  });

  test('numbers read the same everywhere: separators, units, the singular for one', () => {
    assert.equal(counted(1, 'field'), '1 field');
    assert.equal(counted(0, 'chunk'), '0 chunks');
    assert.equal(counted(66_528, 'value'), '66,528 values');
    assert.equal(formatRate(66_528, 1.9), '35,015 values/s');
    assert.deepEqual([0.42, 42, 245, 7_380].map(formatSeconds), ['0.4 s', '42 s', '4 min 05 s', '2 h 03 min']);
  });
});
