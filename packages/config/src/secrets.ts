import type { BackupConfig } from './types.js';

export const MASK = '********';

function urlPasswords(url: string): string[] {
  try {
    const password = new URL(url).password;
    if (password === '') return [];
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {
      // A malformed escape: the raw text is what would leak.
    }
    return [password, decoded];
  } catch {
    return [];
  }
}

function unique(secrets: Iterable<string | undefined>): string[] {
  const set = new Set<string>();
  for (const s of secrets) if (s !== undefined && s !== '') set.add(s);
  // Longest first, so a secret that contains another is replaced whole.
  return [...set].sort((a, b) => b.length - a.length);
}

/** Every secret value of a configuration: its passwords and the password in redis.url. */
export function configSecrets(config: BackupConfig): string[] {
  return unique([
    config.databases.source.password,
    config.databases.backup.password,
    config.dashboard.password,
    ...urlPasswords(config.redis.url),
  ]);
}

/** `scheme://user:password@` → `scheme://user:********@`, whatever the password is. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

/** Replaces every one of `secrets` in `text`, and any password inside a URL, by ********. */
export function maskText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join(MASK);
  return out.replace(URL_CREDENTIALS, `$1${MASK}@`);
}

/** Replaces every secret value of `config` found in `text` by ********. */
export function maskSecrets(text: string, config: BackupConfig): string {
  return maskText(text, configSecrets(config));
}

const SECRET_VARIABLES = ['INFLUX_SOURCE_PASS', 'INFLUX_BACKUP_PASS'];
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Secrets in a file that has not been validated yet, for masking error messages: values of
 * `password` keys, URL passwords, and the variables such values name or that set them.
 */
export function collectSecrets(parsed: unknown, env: Readonly<Record<string, string>>): string[] {
  const found: (string | undefined)[] = SECRET_VARIABLES.map((name) => env[name]);
  found.push(...urlPasswords(env.REDIS_URL ?? ''));
  const visit = (value: unknown, key: string): void => {
    if (typeof value === 'string') {
      if (key !== 'password' && key !== 'url') return;
      const names = [...value.matchAll(REFERENCE)].map((m) => m[1] ?? '');
      const substituted = value.replace(REFERENCE, (_, name: string) => env[name] ?? '');
      if (key === 'password') found.push(substituted, ...names.map((name) => env[name]));
      found.push(...urlPasswords(substituted));
    } else if (Array.isArray(value)) {
      value.forEach((item) => visit(item, key));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, k);
    }
  };
  visit(parsed, '');
  return unique(found);
}
