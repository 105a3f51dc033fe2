import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import cronParser from 'cron-parser';
import {
  ConfigError,
  configSecrets,
  cronPattern,
  formatDuration,
  formatTimeNs,
  loadConfig,
  MASK,
  maskSecrets,
  maskText,
  parseDuration,
  parseTime,
  type SchedulerJobConfig,
} from '../src/index.js';
import { MINIMAL, writeConfig } from './helpers.js';

describe('parseDuration', () => {
  test('the seed units', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('6h'), 21_600_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('1w'), 604_800_000);
    assert.equal(parseDuration('90m'), 5_400_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('0s'), 0);
  });

  test('anything else is a ConfigError that quotes the input', () => {
    for (const bad of ['', '1', 'h', '1H', '1.5h', '-1h', ' 1h', '1 h', '1y', '1h 30m', 'P1D']) {
      assert.throws(
        () => parseDuration(bad),
        (err: unknown) => err instanceof ConfigError && err.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
  });

  test('formatDuration writes the largest exact unit', () => {
    assert.equal(formatDuration(3_600_000), '1h');
    assert.equal(formatDuration(5_400_000), '90m');
    assert.equal(formatDuration(604_800_000), '1w');
    assert.equal(formatDuration(1500), '1500ms');
    assert.equal(formatDuration(0), '0s');
    for (const text of ['30s', '5m', '1h', '6h', '1d', '1w', '90m']) assert.equal(formatDuration(parseDuration(text)), text);
  });
});

describe('parseTime and formatTimeNs', () => {
  test('the epoch and ordinary times', () => {
    assert.equal(parseTime('1970-01-01T00:00:00Z'), 0n);
    assert.equal(parseTime('2023-01-01T00:00:00Z'), 1_672_531_200_000_000_000n);
    assert.equal(parseTime('2023-01-01T00:00:00Z'), BigInt(Date.parse('2023-01-01T00:00:00Z')) * 1_000_000n);
    assert.equal(parseTime('2024-02-29T12:34:56Z'), BigInt(Date.parse('2024-02-29T12:34:56Z')) * 1_000_000n);
  });

  test('fractions of up to nine digits are exact', () => {
    assert.equal(parseTime('2023-01-01T00:00:00.000000001Z'), 1_672_531_200_000_000_001n);
    assert.equal(parseTime('2023-01-01T00:00:00.123456789Z'), 1_672_531_200_123_456_789n);
    assert.equal(parseTime('2023-01-01T00:00:00.5Z'), 1_672_531_200_500_000_000n);
  });

  test('offsets', () => {
    assert.equal(parseTime('2023-01-01T02:00:00+02:00'), parseTime('2023-01-01T00:00:00Z'));
    assert.equal(parseTime('2022-12-31T19:30:00-04:30'), parseTime('2023-01-01T00:00:00Z'));
    assert.equal(parseTime('2023-01-01t00:00:00z'), parseTime('2023-01-01T00:00:00Z'));
  });

  test('times before 1970 are negative', () => {
    assert.equal(parseTime('1969-12-31T23:59:59Z'), -1_000_000_000n);
    assert.equal(parseTime('1969-12-31T23:59:59.999999999Z'), -1n);
    assert.equal(parseTime('1900-01-01T00:00:00Z'), BigInt(Date.parse('1900-01-01T00:00:00Z')) * 1_000_000n);
    assert.equal(parseTime('1677-09-21T00:12:43.145224194Z'), -9_223_372_036_854_775_806n);
  });

  test('round trips, with trailing zeros of the fraction trimmed', () => {
    const cases = [
      '1970-01-01T00:00:00Z',
      '2023-01-01T00:00:00Z',
      '2023-12-31T23:59:59Z',
      '2023-06-01T12:00:00.000000001Z',
      '2023-06-01T12:00:00.123456789Z',
      '2023-06-01T12:00:00.1Z',
      '1969-12-31T23:59:59.999999999Z',
      '1969-07-20T20:17:40.5Z',
      '1677-09-21T00:12:43.145224194Z',
      '2262-04-11T23:47:16.854775806Z',
      '2000-02-29T00:00:00Z',
      '0001-01-01T00:00:00Z',
    ];
    for (const text of cases) assert.equal(formatTimeNs(parseTime(text)), text);
    assert.equal(formatTimeNs(parseTime('2023-06-01T12:00:00.100000000Z')), '2023-06-01T12:00:00.1Z');
    for (const ns of [-1n, 1n, -999_999_999n, -1_000_000_001n, 86_399_999_999_999n, -86_400_000_000_001n]) {
      assert.equal(parseTime(formatTimeNs(ns)), ns);
    }
  });

  test('bad times are ConfigErrors', () => {
    for (const bad of [
      '2023-01-01',
      '2023-01-01T00:00Z',
      '2023-01-01 00:00:00Z',
      '2023-01-01T00:00:00',
      '2023-02-29T00:00:00Z',
      '2023-13-01T00:00:00Z',
      '2023-00-01T00:00:00Z',
      '2023-01-32T00:00:00Z',
      '2023-01-01T24:00:00Z',
      '2023-01-01T00:60:00Z',
      '2023-01-01T00:00:60Z',
      '2023-01-01T00:00:00.Z',
      '2023-01-01T00:00:00.1234567890Z',
      '2023-01-01T00:00:00+2:00',
      '2023-01-01T00:00:00+24:00',
      ' 2023-01-01T00:00:00Z',
      '1672531200',
    ]) {
      assert.throws(() => parseTime(bad), ConfigError, bad);
    }
  });
});

describe('cronPattern', () => {
  const job = (fields: Partial<SchedulerJobConfig>): SchedulerJobConfig => ({
    id: 'j',
    trigger: 'cron',
    enabled: true,
    full: false,
    repair: false,
    ...fields,
  });

  test("the seed's jobs", () => {
    assert.equal(cronPattern(job({ hour: 2, minute: 0 })), '0 0 2 * * *');
    assert.equal(cronPattern(job({ minute: 0 })), '0 0 * * * *');
    assert.equal(cronPattern(job({ hour: 3, minute: 0 })), '0 0 3 * * *');
    assert.equal(cronPattern(job({ dayOfWeek: 'sun', hour: 1, minute: 0 })), '0 0 1 * * sun');
  });

  test("fields below the smallest given one take APScheduler's minimum", () => {
    assert.equal(cronPattern(job({ hour: 2 })), '0 0 2 * * *');
    assert.equal(cronPattern(job({ day: 15 })), '0 0 0 15 * *');
    assert.equal(cronPattern(job({ month: 6 })), '0 0 0 1 6 *');
    assert.equal(cronPattern(job({ dayOfWeek: 'mon' })), '0 0 0 * * mon');
    assert.equal(cronPattern(job({ second: 30 })), '30 * * * * *');
    assert.equal(cronPattern(job({ minute: '*/5' })), '0 */5 * * * *');
  });

  test('expressions, names and weekday numbering', () => {
    assert.equal(cronPattern(job({ hour: '1-5', minute: '0,30' })), '0 0,30 1-5 * * *');
    assert.equal(cronPattern(job({ hour: '8-18/2', minute: 0 })), '0 0 8-18/2 * * *');
    assert.equal(cronPattern(job({ month: 'jan', day: 'last', hour: 0 })), '0 0 0 L jan *');
    // APScheduler's weekday 0 is Monday; cron's is Sunday.
    assert.equal(cronPattern(job({ dayOfWeek: 0, hour: 0 })), '0 0 0 * * 1');
    assert.equal(cronPattern(job({ dayOfWeek: 6, hour: 0 })), '0 0 0 * * 7');
    assert.equal(cronPattern(job({ dayOfWeek: 'mon-fri', hour: 0 })), '0 0 0 * * 1-5');
    assert.equal(cronPattern(job({ dayOfWeek: 'sat-sun', hour: 0 })), '0 0 0 * * 6-7');
    assert.equal(cronPattern(job({ dayOfWeek: '*/2', hour: 0 })), '0 0 0 * * 1-7/2');
    assert.equal(cronPattern(job({ dayOfWeek: 'MON,Wed', hour: 0 })), '0 0 0 * * mon,wed');
    assert.equal(cronPattern(job({ year: '*', week: '*', hour: 0 })), '0 0 0 * * *');
  });

  test('the patterns mean what APScheduler meant, by cron-parser', () => {
    const next = (pattern: string, from: string, count = 2): string[] => {
      const it = cronParser.parseExpression(pattern, { tz: 'UTC', currentDate: new Date(from) });
      return Array.from({ length: count }, () => it.next().toISOString());
    };
    // 2026-01-01 is a Thursday.
    assert.deepEqual(next(cronPattern(job({ dayOfWeek: 'sun', hour: 1, minute: 0 })), '2026-01-01T00:00:00Z'), [
      '2026-01-04T01:00:00.000Z',
      '2026-01-11T01:00:00.000Z',
    ]);
    assert.deepEqual(next(cronPattern(job({ dayOfWeek: 'sat-sun', hour: 0 })), '2026-01-01T00:00:00Z'), [
      '2026-01-03T00:00:00.000Z',
      '2026-01-04T00:00:00.000Z',
    ]);
    assert.deepEqual(next(cronPattern(job({ dayOfWeek: 4, hour: 0 })), '2026-01-01T00:00:00Z', 1), ['2026-01-02T00:00:00.000Z']);
    assert.deepEqual(next(cronPattern(job({ minute: 0 })), '2026-01-01T00:10:00Z'), [
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T02:00:00.000Z',
    ]);
    assert.deepEqual(next(cronPattern(job({ hour: 2, minute: 0 })), '2026-01-01T00:00:00Z'), [
      '2026-01-01T02:00:00.000Z',
      '2026-01-02T02:00:00.000Z',
    ]);
  });

  test('unsupported or out-of-range fields are ConfigErrors naming the field', () => {
    const bad: [Partial<SchedulerJobConfig>, string][] = [
      [{ hour: 24 }, 'hour'],
      [{ minute: 60 }, 'minute'],
      [{ second: -1 }, 'second'],
      [{ day: 0 }, 'day'],
      [{ month: 13 }, 'month'],
      [{ dayOfWeek: 7 }, 'day_of_week'],
      [{ dayOfWeek: 'fri-mon' }, 'day_of_week'],
      [{ dayOfWeek: 'last fri' }, 'day_of_week'],
      [{ hour: 1.5 }, 'hour'],
      [{ minute: '*/0' }, 'minute'],
      [{ year: 2026 }, 'year'],
      [{ week: 3 }, 'week'],
      [{}, 'trigger'],
    ];
    for (const [fields, key] of bad) {
      assert.throws(
        () => cronPattern(job(fields)),
        (err: unknown) => err instanceof ConfigError && err.key === key,
        JSON.stringify(fields),
      );
    }
  });
});

describe('secrets', () => {
  test('maskSecrets replaces every secret of a configuration', () => {
    const { dir } = writeConfig(`${MINIMAL}dashboard:\n  password: "dash-board-pw"\nredis:\n  url: "redis://:red%40is-pw@redis:6379/0"\n`);
    const c = loadConfig({ file: 'config.yaml', cwd: dir, env: { INFLUX_BACKUP_PASS: 'backup-pw' } });
    assert.deepEqual(new Set(configSecrets(c)), new Set(['s3cr3t-source-pw', 'backup-pw', 'dash-board-pw', 'red%40is-pw', 'red@is-pw']));
    const text = 'a s3cr3t-source-pw b backup-pw c dash-board-pw d red@is-pw e redis://:red%40is-pw@redis:6379/0';
    const masked = maskSecrets(text, c);
    assert.equal(masked, 'a ******** b ******** c ******** d ******** e redis://:********@redis:6379/0');
  });
});

describe('maskText', () => {
  test('masks a secret standing as a value, never inside a longer name', () => {
    const text = 'db iot_demo, demo_iot, xdemo, demo1, Démo; password demo; "demo"; (demo)';
    assert.equal(maskText(text, ['demo']), `db iot_demo, demo_iot, xdemo, demo1, Démo; password ${MASK}; "${MASK}"; (${MASK})`);
    // A password that is the prefix or the suffix of a database name leaves the name whole.
    assert.equal(maskText('database iot_demo on :8086', ['iot']), 'database iot_demo on :8086');
    assert.equal(maskText('database iot_demo on :8086', ['_demo']), 'database iot_demo on :8086');
    assert.equal(maskText('sensors_2024 and 2024', ['2024']), `sensors_2024 and ${MASK}`);
  });

  test('masks credentials in URLs, Authorization headers and secret keys, whatever the value', () => {
    const text =
      'redis://:r3d1s@h:6379/0 http://u:pw@h/x?u=u&p=q1 Authorization: Basic dXNlcjpwdw== ' +
      '{"authorization":"Bearer abc.def","password":"hunter2","db":"iot_demo"} password=zz9 token=t0k';
    assert.equal(
      maskText(text, []),
      `redis://:${MASK}@h:6379/0 http://u:${MASK}@h/x?u=u&p=${MASK} Authorization: Basic ${MASK} ` +
        `{"authorization":"Bearer ${MASK}","password":"${MASK}","db":"iot_demo"} password=${MASK} token=${MASK}`,
    );
    // The words alone are not values: configuration errors name the key.
    assert.equal(maskText('databases.source.password: must be a string', []), 'databases.source.password: must be a string');
  });

  test('takes a secret with regular-expression characters literally', () => {
    const secret = 'p.s$(x)*[a]|\\d+?';
    assert.equal(maskText(`a ${secret} b pXs$(x)*[a]|\\d+? c`, [secret]), `a ${MASK} b pXs$(x)*[a]|\\d+? c`);
    // Edges that are not word characters need no gap: the text holds the secret whole.
    assert.equal(maskText('x!pw!y', ['!pw!']), `x${MASK}y`);
  });
});
