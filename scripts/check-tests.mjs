#!/usr/bin/env node
// Fails when a test file asserts nothing: a test that cannot fail is a defect.
//
// The rule, kept simple: every *.test.ts under packages/*/test, apps/*/test and test/
// (the files scripts/run-tests.mjs runs) must call, outside comments, at least one of
//   assert.<anything>(  or  assert(          node:assert, and t.assert.<anything>( too
//   assert<Name>(                            a helper of this repository that asserts:
//                                            assertSameField, assertAllDone, assertExact, ...
//   rejection(                               testkit's: asserts that a promise rejects
// A helper that asserts gets a name starting with "assert" (or is added to HELPERS below).
// The check reads the text; it does not prove that every test in a file asserts.
// Usage: node scripts/check-tests.mjs [dir or file...]   (default: every test directory)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HELPERS = ['rejection'];
const ASSERTS = new RegExp(`\\b(?:assert\\w*\\s*[.(]|(?:${HELPERS.join('|')})\\s*\\()`);

function findTests(path, out) {
  if (!existsSync(path)) return out;
  if (!statSync(path).isDirectory()) {
    if (path.endsWith('.test.ts')) out.push(path);
    return out;
  }
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'dist') continue;
    findTests(join(path, name), out);
  }
  return out;
}

/** The text without its comments (block and line), so a comment that mentions assert counts for nothing. */
function code(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

let dirs = process.argv.slice(2);
if (dirs.length === 0) {
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group))) dirs.push(join(root, group, name, 'test'));
  }
  dirs.push(join(root, 'test'));
}
const files = dirs.flatMap((d) => findTests(resolve(d), [])).sort();
if (files.length === 0) {
  console.error(`check-tests: no *.test.ts files under ${dirs.join(', ')}`);
  process.exit(1);
}
const silent = files.filter((f) => !ASSERTS.test(code(readFileSync(f, 'utf8'))));
if (silent.length > 0) {
  for (const f of silent) console.error(`check-tests: ${relative(root, f)} asserts nothing (no assert call; see scripts/check-tests.mjs)`);
  process.exit(1);
}
console.log(`check-tests: ${files.length} test files, each with an assertion`);
