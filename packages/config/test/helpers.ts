import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const examplesDir = join(repoRoot, 'config', 'examples');
export const templateFile = join(repoRoot, 'config', 'backup_config.yaml.template');

/** A fresh working directory, so no .env of the repository is read. */
export function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'influx-backup-config-'));
}

/** Writes `text` as config.yaml in a fresh working directory; returns both. */
export function writeConfig(text: string, name = 'config.yaml'): { dir: string; file: string } {
  const dir = workDir();
  const file = join(dir, name);
  writeFileSync(file, text);
  return { dir, file };
}

/** A small valid file; tests append or replace parts of it. Line numbers matter below. */
export const MINIMAL = `databases:
  source:
    host: "source.example"
    database: "metrics"
    password: "s3cr3t-source-pw"
  backup:
    host: "backup.example"
backup:
  measurements:
    - name: "cpu"
      fields: ["usage", "idle"]
      start_time: "2023-01-01T00:00:00Z"
    - name: "mem"
      start_time: "2023-01-01T00:00:00Z"
`;
