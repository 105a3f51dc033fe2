// The MessagePack stream splitter: whatever the socket reads' boundaries, every
// message comes out once, whole, in order; an unfinished one is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr, Unpackr } from 'msgpackr';
import { MessageDecoder, type RawMessage } from '../src/message-decoder.js';

const packr = new Packr({ useRecords: false });
const unpackr = () => new Unpackr({ int64AsType: 'string', useRecords: false, mapsAsObjects: true });

function messages(count: number, rows: number): RawMessage[] {
  return Array.from({ length: count }, (_, m) => ({
    results: [
      {
        statement_id: 0,
        series: [
          {
            name: `m${m}`,
            tags: { t: `v${m}` },
            columns: ['time', 'f'],
            values: Array.from({ length: rows }, (_, r) => [m * 1000 + r, `s${r}`]),
          },
        ],
        partial: m < count - 1,
      },
    ],
  }));
}

function decodeAll(parts: Buffer[]): { out: RawMessage[]; leftover: number } {
  const d = new MessageDecoder(unpackr(), '127.0.0.1:1');
  const out: RawMessage[] = [];
  for (const p of parts) out.push(...d.push(p));
  out.push(...d.end());
  return { out, leftover: d.leftover };
}

test('every split point of a three-message stream gives the three messages', () => {
  const msgs = messages(3, 20);
  const bytes = Buffer.concat(msgs.map((m) => packr.pack(m)));
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { out, leftover } = decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.equal(leftover, 0, `cut at ${cut}`);
    assert.deepEqual(out, msgs, `cut at ${cut}`);
  }
});

test('many small reads of large messages (each message spans many reads)', () => {
  const msgs = messages(12, 3000);
  const bytes = Buffer.concat(msgs.map((m) => packr.pack(m)));
  let seed = 7;
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length;) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const len = 1 + (seed % 9000);
    parts.push(bytes.subarray(i, i + len));
    i += len;
  }
  const { out, leftover } = decodeAll(parts);
  assert.equal(leftover, 0);
  assert.equal(out.length, 12);
  assert.deepEqual(out, msgs);
});

test('a stream that stops inside a message leaves bytes over, and yields only whole messages', () => {
  const msgs = messages(2, 50);
  const bytes = Buffer.concat(msgs.map((m) => packr.pack(m)));
  const firstLength = packr.pack(msgs[0]).length;
  const { out, leftover } = decodeAll([bytes.subarray(0, bytes.length - 5)]);
  assert.deepEqual(out, [msgs[0]]);
  assert.equal(leftover, bytes.length - 5 - firstLength);
});

test('bytes that are not MessagePack fail as a retriable error naming the server', () => {
  const d = new MessageDecoder(unpackr(), '127.0.0.1:1');
  assert.throws(
    () => d.push(Buffer.from([0xc1, 0xc1, 0xc1])),
    (err: Error & { retriable?: boolean }) => err.retriable === true && err.message.includes('127.0.0.1:1'),
  );
});
