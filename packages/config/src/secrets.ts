// The one home of secret masking, for the configuration's printer and errors, the logger and the CLI.

export const MASK = '********';

/** `scheme://user:password@` → `scheme://user:********@`, whatever the password is. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

/** Replaces every one of `secrets` in `text`, and any password inside a URL, by ********. */
export function maskText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join(MASK);
  return out.replace(URL_CREDENTIALS, `$1${MASK}@`);
}

/**
 * The secrets in the values of sensitive keys: each value, or a redis:// URL's password as written and
 * decoded (a text that is no URL after all, whole); longest first, so one holding another goes whole.
 */
export function secretsOf(values: Iterable<unknown>): string[] {
  const found = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string' || value === '') continue;
    const url = /^rediss?:\/\//i.test(value);
    const secret = url && URL.canParse(value) ? new URL(value).password : value;
    if (secret !== '') found.add(secret).add(url ? decodeSafely(secret) : secret);
  }
  return [...found].sort((a, b) => b.length - a.length);
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a malformed escape: the text as written is what would leak
  }
}
