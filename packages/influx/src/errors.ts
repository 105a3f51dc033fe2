/**
 * Every failure talking to InfluxDB is an InfluxError. `retriable` says whether the
 * same request may succeed later (refused, reset, timeout, 5xx) or never will
 * (a 4xx, a type conflict, an error inside a 200 answer, a cut-off response).
 */
export class InfluxError extends Error {
  override readonly name = 'InfluxError';
  /** host:port of the server that failed. */
  readonly endpoint: string;
  /** What the server is to this program ("source InfluxDB"), when the client was told. */
  readonly role: string | undefined;
  readonly retriable: boolean;
  readonly status: number | undefined;

  constructor(
    endpoint: string,
    message: string,
    { retriable, status, cause, role }: { retriable: boolean; status?: number; cause?: unknown; role?: string | undefined },
  ) {
    super(`${role ? `${role} ` : ''}${endpoint}: ${message}`, cause === undefined ? undefined : { cause });
    this.endpoint = endpoint;
    this.role = role;
    this.retriable = retriable;
    this.status = status;
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);

/** Turns a socket-level error into an InfluxError that names the endpoint. */
export function networkError(endpoint: string, err: unknown, role?: string): InfluxError {
  if (err instanceof InfluxError) return err;
  const code = (err as { code?: string } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  // ENOTFOUND is retried too: a DNS name of a restarting container vanishes briefly.
  const retriable = code === undefined || TRANSIENT_CODES.has(code);
  const what = code === 'ECONNREFUSED' ? 'connection refused' : message;
  return new InfluxError(endpoint, what, { retriable, cause: err, role });
}

/** Errors InfluxDB reports with a 200 or 5xx that go away when asked again. */
export function isTransientServerMessage(message: string): boolean {
  return /timeout|timed out|too many|engine is closed|shard is disabled|server is shutting down|query interrupted/i.test(message);
}
