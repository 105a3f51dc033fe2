import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function onPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  }
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    if (existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  }
  return undefined;
}

/**
 * Finds a server binary, installing its Debian package when it is missing and we
 * are root (CI and fresh machines); otherwise says what to install.
 */
export function ensureBinary(bin: string, debianPackage: string): string {
  const found = onPath(bin);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(`${bin} is not installed: run 'sudo apt-get install -y ${debianPackage}'`);
  }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
  execFileSync('apt-get', ['install', '-y', '-qq', debianPackage], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const installed = onPath(bin);
  if (!installed) throw new Error(`installed ${debianPackage} but ${bin} is still not on PATH`);
  return installed;
}
