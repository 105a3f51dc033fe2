export const MASK = '********';

/** `scheme://user:password@` → `scheme://user:********@`, whatever the password is. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

/**
 * `line` with every secret replaced by ********, and any password inside a URL too.
 * `secrets` should be sorted longest first, so a secret holding another goes whole.
 */
export function maskLine(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const secret of secrets) if (secret !== '' && out.includes(secret)) out = out.split(secret).join(MASK);
  return out.replace(URL_CREDENTIALS, `$1${MASK}@`);
}
