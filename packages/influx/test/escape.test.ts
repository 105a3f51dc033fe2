// Pure unit tests of the two escaping languages (InfluxQL and line protocol),
// value formatting and the retry helpers. The round trip through a real
// influxd is in client.test.ts and in the core package's copy.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Backoff,
  NO_RETRY,
  withRetry,
  quoteIdent,
  quoteString,
  escapeMeasurement,
  escapeKey,
  escapeStringValue,
  formatFieldValue,
  seriesKey,
  LineProtocolError,
  InfluxError,
  FIELD_TYPES,
} from '../src/index.js';

test('quoteIdent always double-quotes and escapes backslash, quote and newline', () => {
  assert.equal(quoteIdent('plain'), '"plain"');
  assert.equal(quoteIdent(''), '""');
  assert.equal(quoteIdent('with space, comma=eq'), '"with space, comma=eq"');
  assert.equal(quoteIdent('say "hi"'), '"say \\"hi\\""');
  assert.equal(quoteIdent('back\\slash'), '"back\\\\slash"');
  assert.equal(quoteIdent('trailing\\'), '"trailing\\\\"');
  assert.equal(quoteIdent('two\nlines'), '"two\\nlines"');
  assert.equal(quoteIdent("single 'q'"), `"single 'q'"`);
  assert.equal(quoteIdent('semi;colon'), '"semi;colon"');
  assert.equal(quoteIdent('温度 ü 🚀'), '"温度 ü 🚀"');
});

test('quoteIdent keeps a statement-shaped name inside one identifier', () => {
  const name = 'x"; DROP DATABASE "src';
  const q = quoteIdent(name);
  assert.equal(q, '"x\\"; DROP DATABASE \\"src"');
  // Every quote inside is escaped: the identifier ends only at the last character.
  const inner = q.slice(1, -1);
  assert.ok(!/(^|[^\\])"/.test(inner), `unescaped quote inside ${q}`);
  // A backslash right before a quote cannot be used to close the identifier early.
  const tricky = 'a\\"; DROP DATABASE "b';
  assert.equal(quoteIdent(tricky), '"a\\\\\\"; DROP DATABASE \\"b"');
});

test('quoteString single-quotes and escapes backslash, quote and newline', () => {
  assert.equal(quoteString('plain'), "'plain'");
  assert.equal(quoteString("it's"), "'it\\'s'");
  assert.equal(quoteString('a\\b'), "'a\\\\b'");
  assert.equal(quoteString('x\\'), "'x\\\\'");
  assert.equal(quoteString('l1\nl2'), "'l1\\nl2'");
  assert.equal(quoteString('"double" stays'), `'"double" stays'`);
  assert.equal(quoteString("'; DROP DATABASE 'x"), "'\\'; DROP DATABASE \\'x'");
});

test('escapeMeasurement escapes commas and spaces only', () => {
  assert.equal(escapeMeasurement('cpu'), 'cpu');
  assert.equal(escapeMeasurement('a b'), 'a\\ b');
  assert.equal(escapeMeasurement('a,b'), 'a\\,b');
  // '=' and quotes need no escape in a measurement.
  assert.equal(escapeMeasurement('k=v'), 'k=v');
  assert.equal(escapeMeasurement('"q"'), '"q"');
  assert.equal(escapeMeasurement('semi;colon'), 'semi;colon');
  assert.equal(escapeMeasurement('back\\slash'), 'back\\slash');
  assert.equal(escapeMeasurement('we ird,m=x "q"'), 'we\\ ird\\,m=x\\ "q"');
  assert.equal(escapeMeasurement('温度 ü🚀'), '温度\\ ü🚀');
});

test('escapeKey escapes commas, equals signs and spaces', () => {
  assert.equal(escapeKey('host'), 'host');
  assert.equal(escapeKey('a b'), 'a\\ b');
  assert.equal(escapeKey('a,b'), 'a\\,b');
  assert.equal(escapeKey('a=b'), 'a\\=b');
  assert.equal(escapeKey(' ,='), '\\ \\,\\=');
  assert.equal(escapeKey('"quoted"'), '"quoted"');
  assert.equal(escapeKey('semi;colon'), 'semi;colon');
  assert.equal(escapeKey('back\\slash'), 'back\\slash');
  assert.equal(escapeKey('ключ значение'), 'ключ\\ значение');
  assert.equal(escapeKey(''), '');
});

test('a newline in a name is refused with LineProtocolError, never written as another name', () => {
  assert.throws(() => escapeMeasurement('two\nlines'), LineProtocolError);
  assert.throws(() => escapeKey('tag\nkey'), LineProtocolError);
  assert.throws(
    () => escapeKey('\n'),
    (err: unknown) => {
      assert.ok(err instanceof LineProtocolError);
      assert.equal(err.name, 'LineProtocolError');
      assert.match(err.message, /newline/);
      return true;
    },
  );
  assert.throws(() => seriesKey('m', { t: 'v\nw' }), LineProtocolError);
  assert.throws(() => seriesKey('m\n', {}), LineProtocolError);
});

test('escapeStringValue quotes and escapes backslashes and quotes; newlines stay raw inside quotes', () => {
  assert.equal(escapeStringValue(''), '""');
  assert.equal(escapeStringValue('plain'), '"plain"');
  assert.equal(escapeStringValue('say "hi"'), '"say \\"hi\\""');
  assert.equal(escapeStringValue('C:\\dir\\'), '"C:\\\\dir\\\\"');
  assert.equal(escapeStringValue('\\"'), '"\\\\\\""');
  assert.equal(escapeStringValue('l1\nl2'), '"l1\nl2"');
  assert.equal(escapeStringValue('a, b = c'), '"a, b = c"');
  assert.equal(escapeStringValue('ü 温度 🚀'), '"ü 温度 🚀"');
});

test('formatFieldValue: integers keep every digit and get the i suffix', () => {
  assert.equal(formatFieldValue('integer', '9223372036854775807'), '9223372036854775807i');
  assert.equal(formatFieldValue('integer', '-9223372036854775807'), '-9223372036854775807i');
  assert.equal(formatFieldValue('integer', '-9223372036854775808'), '-9223372036854775808i');
  assert.equal(formatFieldValue('integer', '9007199254740993'), '9007199254740993i');
  assert.equal(formatFieldValue('integer', 9223372036854775807n), '9223372036854775807i');
  assert.equal(formatFieldValue('integer', -5), '-5i');
  assert.equal(formatFieldValue('integer', 0), '0i');
  assert.throws(() => formatFieldValue('integer', true), TypeError);
  assert.throws(() => formatFieldValue('integer', null), TypeError);
});

test('formatFieldValue: floats print their shortest round-trip form, -0 keeps its sign', () => {
  assert.equal(formatFieldValue('float', 1.5), '1.5');
  assert.equal(formatFieldValue('float', 1), '1');
  assert.equal(formatFieldValue('float', 0.1), '0.1');
  assert.equal(formatFieldValue('float', -0), '-0');
  assert.equal(formatFieldValue('float', 0), '0');
  assert.equal(formatFieldValue('float', 1e21), '1e+21');
  assert.equal(formatFieldValue('float', 5e-324), '5e-324');
  assert.equal(formatFieldValue('float', -1.7976931348623157e308), '-1.7976931348623157e+308');
  // The text parses back to the very same double.
  for (const v of [0.1 + 0.2, Math.PI, -2.5e-300, 123456789.12345679]) {
    assert.ok(Object.is(Number(formatFieldValue('float', v)), v), `${v} does not round-trip`);
  }
  assert.throws(() => formatFieldValue('float', '1.5'), TypeError);
  assert.throws(() => formatFieldValue('float', undefined), TypeError);
});

test('formatFieldValue: booleans and strings', () => {
  assert.equal(formatFieldValue('boolean', true), 'true');
  assert.equal(formatFieldValue('boolean', false), 'false');
  assert.throws(() => formatFieldValue('boolean', 'true'), TypeError);
  assert.throws(() => formatFieldValue('boolean', 1), TypeError);
  assert.equal(formatFieldValue('string', 'a "q" \\ b'), '"a \\"q\\" \\\\ b"');
  assert.equal(formatFieldValue('string', ''), '""');
  assert.throws(() => formatFieldValue('string', 5), TypeError);
  assert.deepEqual([...FIELD_TYPES].sort(), ['boolean', 'float', 'integer', 'string']);
});

test('seriesKey sorts tags by key, escapes them and leaves out empty values', () => {
  assert.equal(seriesKey('m', undefined), 'm');
  assert.equal(seriesKey('m', {}), 'm');
  assert.equal(seriesKey('m', { b: '2', a: '1' }), 'm,a=1,b=2');
  assert.equal(seriesKey('m', { a: '', b: 'x' }), 'm,b=x');
  assert.equal(seriesKey('my m', { 'k,=y': 'v =,w' }), 'my\\ m,k\\,\\=y=v\\ \\=\\,w');
  assert.equal(seriesKey('m', { ключ: 'значение' }), 'm,ключ=значение');
});

test('Backoff: delay grows by factor from base and is capped', () => {
  const b = new Backoff({ attempts: 5, baseMs: 100, factor: 2, maxMs: 500 });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => b.delay(n)),
    [100, 200, 400, 500, 500, 500],
  );
  assert.equal(b.delay(0), 100);
  const flat = new Backoff({ attempts: 3, baseMs: 50, factor: 1, maxMs: 1_000 });
  assert.deepEqual(
    [1, 2, 3].map((n) => flat.delay(n)),
    [50, 50, 50],
  );
  assert.ok(Object.isFrozen(b));
  assert.equal(NO_RETRY.attempts, 1);
});

test('Backoff refuses impossible settings at once', () => {
  const ok = { attempts: 2, baseMs: 1, factor: 2, maxMs: 10 };
  assert.throws(() => new Backoff({ ...ok, attempts: 0 }), RangeError);
  assert.throws(() => new Backoff({ ...ok, attempts: 1.5 }), RangeError);
  assert.throws(() => new Backoff({ ...ok, baseMs: -1 }), RangeError);
  assert.throws(() => new Backoff({ ...ok, baseMs: Number.NaN }), RangeError);
  assert.throws(() => new Backoff({ ...ok, factor: 0.5 }), RangeError);
  assert.throws(() => new Backoff({ ...ok, maxMs: -5 }), RangeError);
});

test('withRetry retries retriable errors until success, reporting each delay', async () => {
  const b = new Backoff({ attempts: 4, baseMs: 1, factor: 2, maxMs: 3 });
  const seen: number[] = [];
  const retries: [number, number][] = [];
  const value = await withRetry(
    b,
    async (attempt) => {
      seen.push(attempt);
      if (attempt < 3) throw new InfluxError('h:1', 'connection refused', { retriable: true });
      return 'ok';
    },
    (_err, attempt, delay) => retries.push([attempt, delay]),
  );
  assert.equal(value, 'ok');
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(retries, [
    [1, 1],
    [2, 2],
  ]);
});

test('withRetry gives up after the last attempt with the last error', async () => {
  const b = new Backoff({ attempts: 3, baseMs: 1, factor: 1, maxMs: 1 });
  let calls = 0;
  await assert.rejects(
    withRetry(b, async (attempt) => {
      calls++;
      throw new InfluxError('h:1', `fail ${attempt}`, { retriable: true });
    }),
    (err: unknown) => err instanceof InfluxError && err.message === 'h:1: fail 3',
  );
  assert.equal(calls, 3);
});

test('withRetry does not retry a permanent error, nor one that does not say it is retriable', async () => {
  const b = new Backoff({ attempts: 5, baseMs: 1, factor: 1, maxMs: 1 });
  for (const make of [
    () => new InfluxError('h:1', 'field type conflict', { retriable: false, status: 400 }),
    () => new Error('plain error'),
    () => Object.assign(new Error('truthy but not true'), { retriable: 'yes' }),
  ]) {
    let calls = 0;
    const err = make();
    await assert.rejects(
      withRetry(b, async () => {
        calls++;
        throw err;
      }),
      (e: unknown) => e === err,
    );
    assert.equal(calls, 1, `${err.message} was retried`);
  }
  let calls = 0;
  await assert.rejects(
    withRetry(NO_RETRY, async () => {
      calls++;
      throw new InfluxError('h:1', 'x', { retriable: true });
    }),
  );
  assert.equal(calls, 1);
});

test('InfluxError names its endpoint and keeps status and cause', () => {
  const cause = new Error('ECONNREFUSED');
  const e = new InfluxError('10.0.0.1:8086', 'connection refused', { retriable: true, status: 503, cause });
  assert.equal(e.name, 'InfluxError');
  assert.equal(e.endpoint, '10.0.0.1:8086');
  assert.match(e.message, /^10\.0\.0\.1:8086: connection refused$/);
  assert.equal(e.retriable, true);
  assert.equal(e.status, 503);
  assert.equal(e.cause, cause);
  assert.ok(e instanceof Error);
});
