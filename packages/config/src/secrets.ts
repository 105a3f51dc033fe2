// The one home of secret masking, for the configuration's printer and errors, the logger and the CLI.

export const MASK = '********';

// Masked where they stand as values, never inside longer names (password "demo": iot_demo stays): a URL's password, an
// Authorization header's credentials, password=/"token": values, each of `secrets` where no letter, digit or _ goes on.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+(?=@)/gi;
const KEY_VALUE =
  /(\bauthorization["']?\s*[:=]\s*["']?(?:(?:basic|bearer|token)\s+)?|(?:\b\w*(?:pass(?:wd|word)?|secret|token)|[?&]p)=|"\w*(?:pass(?:wd|word)?|secret|token)"\s*:\s*")[^\s"',;&]+/gi;
const edge = (c = '', look: string): string => (/[\p{L}\p{N}_]/u.test(c) ? `(?${look}[\\p{L}\\p{N}_])` : '');
const token = (s: string): RegExp => new RegExp(edge(s[0], '<!') + s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&') + edge(s.at(-1), '!'), 'gu');
export function maskText(text: string, secrets: readonly string[]): string {
  const out = secrets.reduce((t, s) => (s === '' ? t : t.replace(token(s), MASK)), text);
  return out.replace(URL_PASSWORD, `$1${MASK}`).replace(KEY_VALUE, `$1${MASK}`);
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
