import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@influx-backup/config';

export interface BasicCredentials {
  username: string;
  password: string;
}

export const AUTH_REALM = 'influx-backup';

/**
 * Throws unless the dashboard has a password: an open dashboard would hand anyone on
 * the network the power to empty or retry queues, so there is no "no auth" mode.
 */
export function requirePassword(auth: { username?: string; password?: string | undefined }, file?: string): BasicCredentials {
  if (typeof auth.password !== 'string' || auth.password === '') {
    throw new ConfigError(
      'must be set to serve the dashboard (e.g. password: "${DASHBOARD_PASSWORD}"); the dashboard is never served without authentication',
      { key: 'dashboard.password', ...(file ? { file } : {}) },
    );
  }
  if (typeof auth.username !== 'string' || auth.username === '') {
    throw new ConfigError('must be set to serve the dashboard', { key: 'dashboard.username', ...(file ? { file } : {}) });
  }
  return { username: auth.username, password: auth.password };
}

/** The user and password of an `Authorization: Basic ...` header, or undefined. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  // RFC 7617: the user name cannot hold a colon; the password can.
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * A checker of Basic credentials against the configured ones. Both sides are hashed
 * first, so timingSafeEqual always compares 32 bytes and the time taken says nothing
 * about the length or the prefix of the expected values.
 */
export function basicAuthChecker(expected: BasicCredentials): (header: string | undefined) => boolean {
  const user = digest(expected.username);
  const pass = digest(expected.password);
  return (header) => {
    const given = parseBasicAuth(header);
    const userOk = timingSafeEqual(digest(given?.username ?? ''), user);
    const passOk = timingSafeEqual(digest(given?.password ?? ''), pass);
    // Both comparisons always run; no short cut tells which one failed.
    return given !== undefined && (Number(userOk) & Number(passOk)) === 1;
  };
}
