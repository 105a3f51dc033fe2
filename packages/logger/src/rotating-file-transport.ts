import { accessSync, closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import TransportStream from 'winston-transport';

const MESSAGE = Symbol.for('message');

export interface RotatingFileOptions {
  readonly filename: string;
  /** Rotate before a line would take the file to this size; 0 never rotates. */
  readonly maxBytes: number;
  /** Rotated files kept: FILE.1 (newest) ... FILE.N; 0 never rotates. */
  readonly backupCount: number;
  readonly level?: string;
}

/**
 * Python's RotatingFileHandler for winston: FILE, FILE.1 ... FILE.N, each at most maxBytes.
 *
 * winston's own File transport writes through an asynchronous stream, so lines logged just
 * before process.exit() are lost and the rotation point drifts past maxsize; it also names
 * rotated files FILE1.log. Here every line is written synchronously, which a CLI that exits
 * with a status needs, and the names are the ones the seed's operators know.
 */
export class RotatingFileTransport extends TransportStream {
  readonly filename: string;
  private readonly maxBytes: number;
  private readonly backupCount: number;
  private fd: number | undefined;
  private size = 0;
  private failed = false;

  constructor(options: RotatingFileOptions) {
    super(options.level === undefined ? {} : { level: options.level });
    this.filename = options.filename;
    this.maxBytes = options.maxBytes;
    this.backupCount = options.backupCount;
    // The file itself is opened by the first line written: a process that logs nothing to it (a level
    // above what it says) leaves no empty file behind. Whether it could be written is checked now.
    try {
      mkdirSync(dirname(this.filename), { recursive: true });
      accessSync(existsSync(this.filename) ? this.filename : dirname(this.filename), constants.W_OK);
    } catch (err) {
      throw new Error(`cannot open log file ${this.filename}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }

  private open(): void {
    this.fd = openSync(this.filename, 'a');
    this.size = fstatSync(this.fd).size;
  }

  private rollover(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    for (let i = this.backupCount - 1; i >= 1; i--) {
      const from = `${this.filename}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.filename}.${i + 1}`);
    }
    renameSync(this.filename, `${this.filename}.1`);
    this.open();
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    const line = Buffer.from(`${String(info[MESSAGE])}\n`);
    try {
      const rotates = this.maxBytes > 0 && this.backupCount > 0;
      if (this.fd === undefined) this.open();
      if (rotates && this.size > 0 && this.size + line.length > this.maxBytes) this.rollover();
      writeSync(this.fd as number, line);
      this.size += line.length;
    } catch (err) {
      // A full disk must not stop the backup; say so once on stderr.
      if (!this.failed) {
        this.failed = true;
        process.stderr.write(`logger: cannot write ${this.filename}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
      }
    }
    next();
  }

  override close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
