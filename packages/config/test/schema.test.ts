// The schema is the one description of the keys; the template documents them for people.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { convictSchema } from '../src/nodes.js';
import { configSchema } from '../src/schema.js';
import { join } from 'node:path';
import { examplesDir, templateFile } from './helpers.js';

interface ConvictLeaf {
  doc: string;
  env?: string;
}

/** Every key path of a nested mapping down to the nodes `isLeaf` accepts. */
function keyPaths(tree: Record<string, unknown>, isLeaf: (node: unknown) => boolean, prefix = ''): [string, unknown][] {
  return Object.entries(tree).flatMap(([key, node]) =>
    isLeaf(node) ? [[`${prefix}${key}`, node]] : keyPaths(node as Record<string, unknown>, isLeaf, `${prefix}${key}.`),
  );
}

const schemaLeaves = keyPaths(convictSchema(configSchema), (node) => typeof node === 'object' && node !== null && 'default' in node);

test('the template shows every key of the schema, and no other', () => {
  const isValue = (node: unknown): boolean => typeof node !== 'object' || node === null || Array.isArray(node);
  // databases.sources excludes databases.source, so the template names it and its example shows it.
  const example = (file: string): string[] =>
    keyPaths(parse(readFileSync(file, 'utf8')) as Record<string, unknown>, isValue).map(([key]) => key);
  const template = [...example(templateFile), ...example(join(examplesDir, 'several-sources.yaml'))];
  // Lists, and the two forms of monitoring.alerts, are single keys of the schema; the template shows examples.
  const within = (key: string, leaf: string): boolean => key === leaf || key.startsWith(`${leaf}.`);
  const missing = schemaLeaves.filter(([leaf]) => !template.some((key) => within(key, leaf)));
  assert.deepEqual(
    missing.map(([leaf]) => leaf),
    [],
    'keys of the schema missing from the template',
  );
  const unknown = template.filter((key) => !schemaLeaves.some(([leaf]) => within(key, leaf)));
  assert.deepEqual(unknown, [], 'keys in the template that the schema does not know');
});

test('each environment variable overrides one key, which has a doc', () => {
  const withVariables = schemaLeaves.filter(([, leaf]) => (leaf as ConvictLeaf).env !== undefined);
  const variables = withVariables.map(([, leaf]) => (leaf as ConvictLeaf).env);
  assert.equal(new Set(variables).size, variables.length);
  for (const [key, leaf] of withVariables) assert.notEqual((leaf as ConvictLeaf).doc, '', `${key} has no doc`);
});
