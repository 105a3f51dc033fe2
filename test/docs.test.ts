// The README and the pages under docs/: every relative link resolves to a file of the
// repository, every #anchor names a heading of its target (GitHub's slugs), and the
// README stays a front door of at most 300 lines. Pure file checks: no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Pages other people are writing now, which the docs already link to. A link to one of
// these may point at a missing file (and its anchors go unchecked) until the page lands;
// once it exists it is checked like any other. Remove an entry when its page is merged.
const COMING = new Set(['docs/containers.md']);

/** The Markdown files checked: README.md and docs/*.md, as paths relative to `root`. */
function pages(root: string): string[] {
  const docs = join(root, 'docs');
  const inDocs = existsSync(docs)
    ? readdirSync(docs)
        .filter((name) => name.endsWith('.md'))
        .map((name) => `docs/${name}`)
    : [];
  return ['README.md', ...inDocs.sort()];
}

/** The text with fenced code blocks blanked (their lines kept, so line numbers stay true). */
function withoutFences(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const open = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence === undefined && open) {
      fence = open[1]?.[0]?.repeat(3);
      return '';
    }
    if (fence !== undefined) {
      if (line.trimStart().startsWith(fence)) fence = undefined;
      return '';
    }
    return line;
  });
}

/** Blanks inline code spans (which may run over a line break), keeping every newline. */
function withoutCodeSpans(text: string): string {
  return text.replace(/(`+)[\s\S]*?\1/g, (span) => span.replace(/[^\n]/g, ' '));
}

/** GitHub's anchor for a heading: lowercase, markup and punctuation dropped, spaces to '-'. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor the headings of a Markdown text give, repeated headings numbered as GitHub numbers them. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of withoutFences(text)) {
    const m = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

interface Link {
  line: number;
  target: string;
}

/** The links of a Markdown text outside code: inline `[text](target)` and reference definitions `[id]: target`. */
function links(text: string): Link[] {
  const prose = withoutCodeSpans(withoutFences(text).join('\n'));
  const out: Link[] = [];
  const lineOf = (index: number): number => prose.slice(0, index).split('\n').length;
  for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
    out.push({ line: lineOf(m.index), target: m[1] ?? '' });
  }
  for (const m of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s|$)/gm)) {
    out.push({ line: lineOf(m.index), target: m[1] ?? '' });
  }
  return out;
}

/** One line per relative link of `file` (relative to `root`) that does not resolve, or whose anchor names no heading. */
function brokenLinks(root: string, file: string, coming: ReadonlySet<string> = COMING): string[] {
  const problems: string[] = [];
  const text = readFileSync(join(root, file), 'utf8');
  for (const { line, target } of links(text)) {
    const at = `${file}:${line}: ${target}`;
    if (target === '') {
      problems.push(`${file}:${line}: an empty link`);
      continue;
    }
    // Other sites (https:, mailto:) and protocol-relative links are not files of the repository.
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
    const hash = target.indexOf('#');
    const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const resolved = path === '' ? join(root, file) : resolve(join(root, dirname(file)), path);
    const name = relative(root, resolved).split('\\').join('/');
    if (name.startsWith('..')) {
      problems.push(`${at}: points outside the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      if (!coming.has(name)) problems.push(`${at}: ${name} does not exist`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!name.endsWith('.md')) {
      problems.push(`${at}: an anchor on ${name}, which is not a Markdown page`);
      continue;
    }
    const known = anchors(readFileSync(resolved, 'utf8'));
    if (!known.has(anchor)) problems.push(`${at}: ${name} has no heading #${anchor}`);
  }
  return problems;
}

test('README.md is the front door: at most 300 lines', () => {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\n$/, '').split('\n').length;
  assert.ok(lines <= 300, `README.md has ${lines} lines; move detail into docs/`);
});

test('docs/ holds the reference pages, each with a title', () => {
  const found = pages(ROOT);
  assert.ok(found.length > 1, 'no docs/*.md pages');
  for (const file of found) {
    const first = readFileSync(join(ROOT, file), 'utf8').split('\n')[0] ?? '';
    assert.match(first, /^# \S/, `${file} does not start with a "# Title" line`);
  }
});

test('every relative link of README.md and docs/*.md resolves, and every #anchor names a heading of its target', () => {
  const problems = pages(ROOT).flatMap((file) => brokenLinks(ROOT, file));
  assert.deepEqual(problems, []);
});

test('the pages link to one another: README.md links to every page of docs/', () => {
  const readme = links(readFileSync(join(ROOT, 'README.md'), 'utf8')).map((l) => l.target.split('#')[0]);
  const missing = pages(ROOT)
    .filter((file) => file !== 'README.md')
    .filter((file) => !readme.includes(file));
  assert.deepEqual(missing, [], 'pages of docs/ that README.md never links to');
});

test('the checker finds a missing file, a missing anchor and a link outside the repository, and spares code and other sites', () => {
  const root = mkdtempSync(join(tmpdir(), 'ib-docs-'));
  try {
    mkdirSync(join(root, 'docs'));
    writeFileSync(
      join(root, 'docs/page.md'),
      ['# A page', '', '## Whole points: `processing.fields_per_job`', '', '## Notes', '', '## Notes', ''].join('\n'),
    );
    writeFileSync(
      join(root, 'README.md'),
      [
        '# Title',
        '',
        '[ok](docs/page.md) [ok](docs/page.md#whole-points-processingfields_per_job) [ok](docs/page.md#notes-1)',
        '[ok](#title) [ok](https://example.org/missing.md) [coming](docs/later.md#any)',
        '[gone](docs/nothing.md)',
        '[bad anchor](docs/page.md#whole-points)',
        '[bad in-page](#no-such-heading)',
        '[outside](../elsewhere.md)',
        '`[code](docs/nothing.md)`',
        '```',
        '[fenced](docs/nothing.md)',
        '```',
        '[ref]: docs/also-missing.md',
        '',
      ].join('\n'),
    );
    assert.deepEqual(brokenLinks(root, 'README.md', new Set(['docs/later.md'])), [
      'README.md:5: docs/nothing.md: docs/nothing.md does not exist',
      'README.md:6: docs/page.md#whole-points: docs/page.md has no heading #whole-points',
      'README.md:7: #no-such-heading: README.md has no heading #no-such-heading',
      'README.md:8: ../elsewhere.md: points outside the repository',
      'README.md:13: docs/also-missing.md: docs/also-missing.md does not exist',
    ]);
    // Once a page that was coming exists, its anchors are checked too.
    writeFileSync(join(root, 'docs/later.md'), '# Later\n');
    assert.deepEqual(
      brokenLinks(root, 'README.md', new Set(['docs/later.md'])).filter((p) => p.includes('later')),
      ['README.md:4: docs/later.md#any: docs/later.md has no heading #any'],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("slug follows GitHub's rules: lowercase, punctuation and markup dropped, spaces to hyphens", () => {
  assert.equal(slug('Retention policies and privileges'), 'retention-policies-and-privileges');
  assert.equal(slug('What they print, and the log files'), 'what-they-print-and-the-log-files');
  assert.equal(slug('Whole points: `processing.fields_per_job`'), 'whole-points-processingfields_per_job');
  assert.equal(slug('verify reports DIFFERENT'), 'verify-reports-different');
  assert.equal(slug('[Linked](x.md) heading'), 'linked-heading');
});
