import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError } from './config-error.js';
import type { PathSegment } from './environment.js';

/** A parsed YAML file that can say on which line a key path sits. */
export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; a syntax error becomes a ConfigError with its line and column. */
  static parse(file: string, text: string): YamlSource {
    const lines = new LineCounter();
    // merge: the `<<: *anchor` keys people use to share settings between sections.
    const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false });
    const error = doc.errors[0];
    if (error !== undefined) {
      const pos = lines.linePos(error.pos[0]);
      // The first line only: later lines of the library's message quote the source, which
      // may hold a password.
      const reason = (error.message.split('\n')[0] ?? 'syntax error').replace(/ at line \d+, column \d+:?$/, '');
      throw new ConfigError(`YAML syntax error: ${reason}`, { file, line: pos.line, column: pos.col });
    }
    return new YamlSource(file, doc, lines);
  }

  /** The file's content as plain data (mappings as objects, sequences as arrays). */
  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 1000 });
  }

  /** The 1-based line of the key (or list item) at `path`; when only the last key is missing, its parent's. */
  lineOf(path: readonly PathSegment[]): number | undefined {
    let node: Node | null | undefined = this.doc.contents;
    let offset: number | undefined = node?.range?.[0];
    let depth = 0;
    for (const seg of path) {
      if (typeof seg === 'number' && isSeq(node)) {
        const item: unknown = node.items[seg];
        if (item === undefined || item === null || typeof item !== 'object') break;
        node = item as Node;
        offset = node.range?.[0] ?? offset;
      } else if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair === undefined) break;
        if (isScalar(pair.key)) offset = pair.key.range?.[0] ?? offset;
        node = pair.value as Node | null;
      } else {
        break;
      }
      depth++;
    }
    if (offset === undefined || depth < path.length - 1) return undefined;
    return this.lines.linePos(offset).line;
  }
}
