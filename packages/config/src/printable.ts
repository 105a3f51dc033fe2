import { stringify } from 'yaml';
import { sensitiveValues, showSection } from './nodes.js';
import { configSchema } from './schema.js';
import { maskText, secretsOf } from './secrets.js';
import type { BackupConfig } from './types.js';

/** Every secret of a configuration (its sensitive keys: passwords, the password in redis.url), longest first. */
export function configSecrets(config: BackupConfig): string[] {
  return secretsOf(sensitiveValues(configSchema, config));
}

/** `text` with every secret of `config` replaced by ********. */
export function maskSecrets(text: string, config: BackupConfig): string {
  return maskText(text, configSecrets(config));
}

/**
 * The effective configuration as YAML in the seed's format (defaults filled in, durations as "1h", times in UTC),
 * secrets as "********" and unset passwords as "": loading it again gives the same configuration but the passwords.
 */
export function printableConfig(config: BackupConfig): string {
  const header = `# Effective configuration from ${config.file} (secrets masked)\n`;
  return header + stringify(showSection(configSchema, config, configSecrets(config)), { lineWidth: 0 });
}
