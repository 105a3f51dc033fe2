import type http from 'node:http';
import type { Unpackr } from 'msgpackr';
import { InfluxError, networkError } from './errors.js';

/** One piece of one series of an InfluxQL answer, as InfluxDB sent it. */
export interface SeriesPiece {
  name: string;
  tags: Record<string, string> | undefined;
  columns: string[];
  /** Rows; with epoch=ns the time column is a decimal string of nanoseconds (or a safe integer). */
  values: unknown[][];
  /** More rows of this series follow in the next piece. */
  partial?: boolean;
}

interface RawResult {
  statement_id?: number;
  series?: SeriesPiece[];
  error?: string;
  partial?: boolean;
}

export interface RawMessage {
  results?: RawResult[];
  error?: string;
}

export function errorText(body: Buffer | string): string {
  const text = body.toString().trim();
  try {
    const json = JSON.parse(text) as RawMessage;
    if (json.error) return json.error;
  } catch {
    // not JSON
  }
  return text.slice(0, 500);
}

export async function readBody(res: http.IncomingMessage, endpoint: string, role: string | undefined): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      // An error answer is small; cap what we keep of a runaway one.
      if (size < 64 * 1024) parts.push(chunk);
      size += chunk.length;
    }
  } catch (err) {
    throw networkError(endpoint, err, role);
  }
  return Buffer.concat(parts);
}

/**
 * Splits a byte stream into MessagePack messages. A message larger than one
 * socket read is decoded again from its start when more bytes come; waiting
 * until the buffered bytes have doubled since the last incomplete try keeps that
 * linear in the message size instead of quadratic.
 */
export class MessageDecoder {
  private parts: Buffer[] = [];
  private size = 0;
  private retryAt = 0;

  constructor(
    private readonly unpackr: Unpackr,
    private readonly endpoint: string,
    private readonly role?: string,
  ) {}

  push(chunk: Buffer): RawMessage[] {
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size < this.retryAt) return [];
    return this.decode();
  }

  /** Decodes what is left at the end of the stream; `leftover` then says what could not be. */
  end(): RawMessage[] {
    return this.size > 0 ? this.decode() : [];
  }

  /** Bytes of an unfinished message. */
  get leftover(): number {
    return this.size;
  }

  private decode(): RawMessage[] {
    const buf = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    const out: RawMessage[] = [];
    // Where the last whole message ended. msgpackr's own error.lastPosition is a
    // module-level variable that is stale when the first message is incomplete.
    let consumed = 0;
    try {
      this.unpackr.unpackMultiple(buf, (value: unknown, _start?: number, end?: number) => {
        const msg = value as RawMessage | null;
        if (typeof msg !== 'object' || msg === null || !(Array.isArray(msg.results) || typeof msg.error === 'string')) {
          throw new InfluxError(this.endpoint, 'undecodable answer: a message without results or error', {
            retriable: true,
            role: this.role,
          });
        }
        out.push(value as RawMessage);
        consumed = end ?? consumed;
      });
      this.retryAt = 0;
    } catch (err) {
      if (err instanceof InfluxError) throw err;
      const e = err as { incomplete?: boolean };
      if (!e.incomplete) {
        throw new InfluxError(this.endpoint, `undecodable answer: ${(err as Error).message}`, { retriable: true, role: this.role });
      }
      const rest = buf.subarray(consumed);
      this.parts.push(rest);
      this.size = rest.length;
      this.retryAt = rest.length * 2;
    }
    return out;
  }
}
