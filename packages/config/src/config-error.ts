export interface ConfigErrorLocation {
  /** Absolute path of the configuration file. */
  readonly file?: string;
  /** Full key path, e.g. `backup.measurements[1].start_time`. */
  readonly key?: string;
  /** 1-based line in the file, when the problem can be pinned to one. */
  readonly line?: number;
  readonly column?: number;
}

/**
 * A configuration the program cannot run with. The message is one line, `FILE[:LINE[:COLUMN]]: KEY: reason`, that a
 * CLI prints as it is; it never holds a secret value (callers build reasons without values of sensitive keys).
 */
export class ConfigError extends Error implements ConfigErrorLocation {
  readonly key?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** The message without its location prefix. */
  readonly reason: string;

  constructor(reason: string, where: ConfigErrorLocation = {}) {
    const oneLine = reason.replace(/\s*[\r\n]+\s*/g, ' ').trim();
    const position = where.line === undefined ? [] : where.column === undefined ? [where.line] : [where.line, where.column];
    const file = where.file === undefined ? '' : `${[where.file, ...position].join(':')}: `;
    super(`${file}${where.key === undefined ? '' : `${where.key}: `}${oneLine}`);
    this.name = 'ConfigError';
    this.reason = oneLine;
    Object.assign(this, where);
  }
}
