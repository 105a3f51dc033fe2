import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError } from '@influx-backup/config';
import { basicAuthChecker, parseBasicAuth, requirePassword } from '../src/index.js';

const header = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;

describe('basic auth', () => {
  it('parses user and password; the password may hold colons and any Unicode', () => {
    assert.deepEqual(parseBasicAuth(header('admin', 'a:b:c')), { username: 'admin', password: 'a:b:c' });
    assert.deepEqual(parseBasicAuth(header('ädmin', 'pä ss✓')), { username: 'ädmin', password: 'pä ss✓' });
    assert.deepEqual(parseBasicAuth(`basic   ${Buffer.from('u:').toString('base64')}`), { username: 'u', password: '' });
  });

  it('rejects other schemes, no colon and garbage', () => {
    assert.equal(parseBasicAuth(undefined), undefined);
    assert.equal(parseBasicAuth(''), undefined);
    assert.equal(parseBasicAuth('Bearer abc'), undefined);
    assert.equal(parseBasicAuth(`Basic ${Buffer.from('nocolon').toString('base64')}`), undefined);
    assert.equal(parseBasicAuth('Basic not base64!'), undefined);
  });

  it('accepts exactly the configured user and password', () => {
    const ok = basicAuthChecker({ username: 'admin', password: 's3cret:pw' });
    assert.equal(ok(header('admin', 's3cret:pw')), true);
    assert.equal(ok(header('admin', 's3cret:pW')), false);
    assert.equal(ok(header('admin', 's3cret:pw ')), false);
    assert.equal(ok(header('admin', 's3cret')), false);
    assert.equal(ok(header('Admin', 's3cret:pw')), false);
    assert.equal(ok(header('', '')), false);
    assert.equal(ok(undefined), false);
  });

  it('refuses to run without a password, naming dashboard.password', () => {
    for (const password of ['', undefined]) {
      assert.throws(
        () => requirePassword({ username: 'admin', password }, '/etc/ib.yaml'),
        (err: unknown) =>
          err instanceof ConfigError && err.key === 'dashboard.password' && err.message.startsWith('/etc/ib.yaml: dashboard.password: '),
      );
    }
    assert.deepEqual(requirePassword({ username: 'admin', password: 'x' }), { username: 'admin', password: 'x' });
  });
});
