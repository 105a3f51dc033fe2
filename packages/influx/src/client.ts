import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Unpackr } from 'msgpackr';
import { Backoff, withRetry } from './backoff.js';
import { InfluxError, isTransientServerMessage, networkError } from './errors.js';
import { quoteIdent, type FieldType, FIELD_TYPES } from './escape.js';
import { errorText, MessageDecoder, readBody, type RawMessage, type SeriesPiece } from './message-decoder.js';
import { createDatabaseStatement, createRetentionPolicyStatement, parseGoDuration, type RetentionPolicyInfo } from './retention-policy.js';

export interface InfluxConnectionOptions {
  host: string;
  port: number;
  username?: string | undefined;
  password?: string | undefined;
  ssl?: boolean;
  verifySsl?: boolean;
  /** PEM file of the CA that signed the server's certificate. */
  caFile?: string | undefined;
  /** Socket idle timeout for one request. */
  timeoutMs?: number;
  /** Extra tries of one request after a transient failure (the seed's `retries`). */
  retries?: number;
  /** Compress write bodies at least this large; by default only for non-loopback hosts. */
  gzipMinBytes?: number;
  /** What this server is to the program ("source InfluxDB"); every error message starts with it. */
  role?: string | undefined;
  /** A socket pool shared with other clients of the same server (InfluxPool); closed by its owner, not by close(). */
  agent?: http.Agent | undefined;
}

/** How InfluxDB names its types in SHOW FIELD KEYS. */
export interface FieldKey {
  field: string;
  type: FieldType;
}

/** Sockets kept per server: the bound on connections to one server, however many clients (sources) share it. */
export const MAX_SOCKETS_PER_SERVER = 64;

/** The keep-alive socket pool of one server: its host, port and TLS settings, never its credentials. */
export function influxAgent(options: Pick<InfluxConnectionOptions, 'ssl' | 'verifySsl' | 'caFile'>): http.Agent {
  const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS_PER_SERVER };
  if (!options.ssl) return new http.Agent(agentOptions);
  agentOptions.rejectUnauthorized = options.verifySsl ?? true;
  if (options.caFile) agentOptions.ca = readFileSync(options.caFile);
  return new https.Agent(agentOptions);
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/i;

/**
 * InfluxDB 1.x over HTTP, for a source or a backup server.
 *
 * Why not the `influx` npm package: it sends credentials as `u`/`p` query
 * parameters (so they land in proxy and server logs) and parses JSON answers
 * into JavaScript numbers, which loses int64 values past 2^53 and nanosecond
 * times. Here answers are MessagePack: int64 values arrive whole (as decimal
 * strings), and credentials travel in an Authorization header.
 */
export class InfluxClient {
  /** host:port; part of every checkpoint's identity, so never decorated. */
  readonly endpoint: string;
  readonly role: string | undefined;
  private readonly target: { protocol: string; hostname: string; port: number };
  private readonly agent: http.Agent;
  private readonly ownsAgent: boolean;
  private readonly transport: typeof http | typeof https;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly requestBackoff: Backoff;
  private readonly gzipMinBytes: number;
  private readonly unpackr = new Unpackr({ int64AsType: 'string', useRecords: false, mapsAsObjects: true });

  constructor(options: InfluxConnectionOptions) {
    if (!options.host) throw new TypeError('InfluxClient needs a host');
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new RangeError(`InfluxClient port must be 1-65535, got ${options.port}`);
    }
    this.endpoint = `${options.host}:${options.port}`;
    this.role = options.role;
    const ssl = options.ssl ?? false;
    this.transport = ssl ? https : http;
    // An IPv6 address goes bare in request options (the brackets belong to URLs only).
    const hostname = options.host.replace(/^\[(.*)\]$/, '$1');
    this.target = { protocol: ssl ? 'https:' : 'http:', hostname, port: options.port };
    this.ownsAgent = options.agent === undefined;
    this.agent = options.agent ?? influxAgent(options);
    this.headers = {};
    if (options.username) {
      const token = Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64');
      this.headers.authorization = `Basic ${token}`;
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.requestBackoff = new Backoff({ attempts: (options.retries ?? 3) + 1, baseMs: 250, factor: 2, maxMs: 4_000 });
    this.gzipMinBytes = options.gzipMinBytes ?? (LOOPBACK.test(options.host) ? Number.POSITIVE_INFINITY : 64 * 1024);
  }

  close(): void {
    if (this.ownsAgent) this.agent.destroy();
  }

  async ping(): Promise<string> {
    return withRetry(this.requestBackoff, async () => {
      const res = await this.send('GET', '/ping', {});
      res.resume();
      if (res.statusCode !== 204) throw this.statusError(res.statusCode ?? 0, 'ping failed');
      return String(res.headers['x-influxdb-version'] ?? 'unknown');
    });
  }

  /** Runs statements and returns every result, whole. For small answers (SHOW, COUNT). */
  async query(q: string, db?: string): Promise<SeriesPiece[][]> {
    return withRetry(this.requestBackoff, async () => {
      const results: SeriesPiece[][] = [];
      for await (const { index, piece } of this.stream(q, db, undefined)) {
        (results[index] ??= []).push(piece);
      }
      return results;
    });
  }

  /**
   * Streams the answer of one SELECT in pieces of at most `chunkSize` rows, so the
   * whole answer is never in memory. A failure before the first piece is retried;
   * a failure after it is thrown, and the caller starts the piece of work again.
   */
  async *select(q: string, db: string, chunkSize: number): AsyncGenerator<SeriesPiece> {
    // Retried up to the first piece: the request, the status and the first message.
    const { pieces, first } = await withRetry(this.requestBackoff, async () => {
      const it = this.stream(q, db, chunkSize)[Symbol.asyncIterator]();
      return { pieces: it, first: await it.next() };
    });
    try {
      for (let next = first; !next.done; next = await pieces.next()) yield next.value.piece;
    } finally {
      // The caller stopped early: close the response.
      await pieces.return?.(undefined);
    }
  }

  /** Writes line protocol (nanosecond times). Any answer but 204 is a failure. */
  async write(db: string, body: string, retentionPolicy?: string): Promise<void> {
    const params: Record<string, string> = { db, precision: 'ns' };
    if (retentionPolicy) params.rp = retentionPolicy;
    let payload: Buffer | string = body;
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (body.length >= this.gzipMinBytes) {
      payload = gzipSync(body, { level: 1 });
      headers['content-encoding'] = 'gzip';
    }
    await withRetry(this.requestBackoff, async () => {
      const res = await this.send('POST', '/write', params, payload, headers);
      if (res.statusCode === 204) {
        res.resume();
        return;
      }
      const text = await readBody(res, this.endpoint, this.role);
      throw this.statusError(res.statusCode ?? 0, errorText(text));
    });
  }

  async databases(): Promise<string[]> {
    const [series = []] = await this.query('SHOW DATABASES');
    return series.flatMap((s) => s.values.map((row) => String(row[0])));
  }

  async createDatabase(db: string): Promise<void> {
    // CREATE DATABASE is idempotent in 1.x, but needs admin: callers look first.
    await this.query(createDatabaseStatement(db));
  }

  /** The retention policies of `db`; READ on the database is privilege enough to ask. */
  async retentionPolicies(db: string): Promise<RetentionPolicyInfo[]> {
    const [series = []] = await this.query(`SHOW RETENTION POLICIES ON ${quoteIdent(db)}`);
    const out: RetentionPolicyInfo[] = [];
    for (const s of series) {
      const col = (name: string): number => {
        const i = s.columns.indexOf(name);
        if (i < 0) throw this.error(`SHOW RETENTION POLICIES answered without a ${name} column`, { retriable: false });
        return i;
      };
      const [name, duration, shard, replicaN, isDefault] = ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'].map(col);
      for (const row of s.values) {
        out.push({
          name: String(row[name!]),
          durationNs: parseGoDuration(String(row[duration!])),
          shardGroupDurationNs: parseGoDuration(String(row[shard!])),
          replicaN: Number(row[replicaN!]),
          isDefault: row[isDefault!] === true,
        });
      }
    }
    return out;
  }

  async createRetentionPolicy(db: string, policy: RetentionPolicyInfo): Promise<void> {
    await this.query(createRetentionPolicyStatement(db, policy));
  }

  async setDefaultRetentionPolicy(db: string, name: string): Promise<void> {
    await this.query(`ALTER RETENTION POLICY ${quoteIdent(name)} ON ${quoteIdent(db)} DEFAULT`);
  }

  async measurements(db: string): Promise<string[]> {
    const [series = []] = await this.query('SHOW MEASUREMENTS', db);
    return series.flatMap((s) => s.values.map((row) => String(row[0])));
  }

  /** Field keys of a measurement (in one policy, or the default) with their types; a field may appear once per type it has. */
  async fieldKeys(db: string, measurement: string, retentionPolicy?: string): Promise<FieldKey[]> {
    const from = retentionPolicy === undefined ? quoteIdent(measurement) : `${quoteIdent(retentionPolicy)}.${quoteIdent(measurement)}`;
    const [series = []] = await this.query(`SHOW FIELD KEYS FROM ${from}`, db);
    const out: FieldKey[] = [];
    for (const s of series) {
      for (const [field, type] of s.values) {
        if (!FIELD_TYPES.includes(type as FieldType)) {
          throw this.error(`unknown field type ${String(type)} for ${measurement}.${String(field)}`, { retriable: false });
        }
        out.push({ field: String(field), type: type as FieldType });
      }
    }
    return out;
  }

  private async *stream(
    q: string,
    db: string | undefined,
    chunkSize: number | undefined,
  ): AsyncGenerator<{ index: number; piece: SeriesPiece }> {
    const params: Record<string, string> = { epoch: 'ns' };
    if (db !== undefined) params.db = db;
    if (chunkSize !== undefined) {
      params.chunked = 'true';
      params.chunk_size = String(chunkSize);
    }
    const form = new URLSearchParams({ q }).toString();
    const res = await this.send('POST', '/query', params, form, {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/x-msgpack',
    });
    if (res.statusCode !== 200) {
      const text = await readBody(res, this.endpoint, this.role);
      throw this.statusError(res.statusCode ?? 0, this.decodeError(res, text));
    }
    let lastPartial = false;
    let sawMessage = false;
    const decoder = new MessageDecoder(this.unpackr, this.endpoint, this.role);
    try {
      const body = res as AsyncIterable<Buffer>;
      const handle = function* (this: InfluxClient, msgs: RawMessage[]): Generator<{ index: number; piece: SeriesPiece }> {
        for (const msg of msgs) {
          sawMessage = true;
          if (msg.error) throw this.messageError(msg.error);
          for (const result of msg.results ?? []) {
            if (result.error) throw this.messageError(result.error);
            lastPartial = result.partial === true;
            for (const piece of result.series ?? []) {
              if (piece.partial === true) lastPartial = true;
              yield { index: result.statement_id ?? 0, piece };
            }
          }
        }
      };
      for await (const chunk of body) yield* handle.call(this, decoder.push(chunk));
      // The last message may still wait in the decoder for more bytes.
      yield* handle.call(this, decoder.end());
    } catch (err) {
      if (err instanceof InfluxError) throw err;
      throw networkError(this.endpoint, err, this.role);
    } finally {
      // A consumer that stops early leaves the rest unread: drop the socket
      // rather than hand a half-read one back to the pool.
      if (!res.complete) res.destroy();
    }
    if (decoder.leftover > 0 || lastPartial || !sawMessage) {
      throw this.error('the answer was cut off before its end', { retriable: true });
    }
  }

  private error(message: string, options: { retriable: boolean; status?: number }): InfluxError {
    return new InfluxError(this.endpoint, message, { ...options, role: this.role });
  }

  private messageError(message: string): InfluxError {
    return this.error(message, { retriable: isTransientServerMessage(message) });
  }

  private statusError(status: number, message: string): InfluxError {
    const retriable = status >= 500 || status === 408 || status === 429 || status === 0;
    // 401: the credentials are wrong; 403: they are right, and the user lacks a privilege.
    // An operator fixes these in different places, so the two never share a message.
    let text = message ? `HTTP ${status}: ${message}` : `HTTP ${status}`;
    if (status === 401) text = `authentication failed (HTTP 401): wrong user name or password (${message || 'no reason given'})`;
    else if (status === 403) text = `permission denied (HTTP 403): ${message || 'the user lacks a privilege'}`;
    // A 5xx "partial write" or a type conflict will fail again however often it is sent.
    const permanent = /partial write|field type conflict|unable to parse|database not found|retention policy not found|invalid/i.test(
      message,
    );
    return this.error(text, { retriable: retriable && !permanent, status });
  }

  private decodeError(res: http.IncomingMessage, body: Buffer): string {
    if (String(res.headers['content-type']).includes('msgpack')) {
      try {
        const msg = this.unpackr.unpack(body) as RawMessage;
        return msg.error ?? msg.results?.find((r) => r.error)?.error ?? '';
      } catch {
        // fall through to the text form
      }
    }
    return errorText(body);
  }

  private send(
    method: 'GET' | 'POST',
    path: string,
    params: Record<string, string>,
    body?: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      // Options, not a URL string: no URL to parse on every request of every chunk.
      const req = this.transport.request({
        ...this.target,
        path: `${path}?${new URLSearchParams(params).toString()}`,
        method,
        agent: this.agent,
        headers: { ...this.headers, ...headers, ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}) },
      });
      req.setTimeout(this.timeoutMs, () => {
        req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      req.on('error', (err) => reject(networkError(this.endpoint, err, this.role)));
      req.on('response', (res) => {
        // The idle timeout goes on covering the body as it streams.
        res.on('error', () => undefined);
        resolve(res);
      });
      req.end(body);
    });
  }
}
