#!/usr/bin/env node
// Runs the TypeScript test files with node's own test runner (through tsx).
// Node 20's `--test` takes no globs, so the files are found here.
// Usage: node scripts/run-tests.mjs [dir or file...]   (default: every package, app and test/)
// test/containers needs a container engine and runs only when named (pnpm test:containers).
import { spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function findTests(dir, out, skip = new Set()) {
  if (!existsSync(dir) || skip.has(dir)) return out;
  if (!statSync(dir).isDirectory()) {
    if (dir.endsWith('.test.ts')) out.push(dir);
    return out;
  }
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out, skip);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
let dirs = args.filter((a) => !a.startsWith('--'));
const passthrough = args.filter((a) => a.startsWith('--'));
const containers = join(root, 'test', 'containers');
const named = dirs.some((d) => resolve(d) === containers || resolve(d).startsWith(containers + sep));
const skip = new Set(named ? [] : [containers]);
if (dirs.length === 0) {
  dirs = [];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group))) dirs.push(join(root, group, name, 'test'));
  }
  dirs.push(join(root, 'test'));
}
const files = dirs.flatMap((d) => findTests(resolve(d), [], skip)).sort();
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${dirs.join(', ')}`);
  process.exit(1);
}

// Each test file starts its own InfluxDB and Redis servers on free ports, so two
// files at once is what two cores take without timing out.
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...passthrough, ...files], {
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
