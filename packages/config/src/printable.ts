import { stringify } from 'yaml';
import { showSection } from './nodes.js';
import { configSchema } from './schema.js';
import { configSecrets } from './secrets.js';
import type { BackupConfig } from './types.js';

/**
 * The effective configuration as YAML in the seed's format (defaults filled in, durations
 * as "1h", times normalised to UTC), with every secret replaced by "********"; an unset
 * password prints as "". Loading the output again gives the same configuration, apart
 * from the passwords.
 */
export function printableConfig(config: BackupConfig): string {
  const header = `# Effective configuration from ${config.file} (secrets masked)\n`;
  return header + stringify(showSection(configSchema, config, configSecrets(config)), { lineWidth: 0 });
}
