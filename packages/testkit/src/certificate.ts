import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throw-away CA and a server certificate it signed for 127.0.0.1 and
 * localhost, made with openssl, for TLS tests.
 */
export function makeCertificate(): { caFile: string; certFile: string; keyFile: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ib-tls-'));
  const f = (name: string): string => join(dir, name);
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=influx-backup test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  );
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > '${f('ext.cnf')}'`]);
  run(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('server.pem'),
  );
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key'), dir };
}
