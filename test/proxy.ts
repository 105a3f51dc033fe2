import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real server (InfluxDB or Redis) that a test can pause:
 * while it holds, no byte passes either way, so the requests in flight stay in
 * flight for as long as the test needs (a chunk mid-copy, two planners before their
 * claims). It injects no answer of its own: every byte that passes is the real
 * server's. `close()` makes the port refuse connections, as a stopped server does.
 */
export interface PausingProxy {
  readonly port: number;
  /** Holds every connection, open or to come, until release(). */
  hold(): void;
  /**
   * Holds once a client sends a chunk of bytes (as it arrives, in latin1) for which
   * `match` is true, that chunk included: every connection with `scope` 'all', only
   * that one with 'connection' (the rest keep flowing). Resolves when it holds.
   */
  holdWhen(match: (sent: string) => boolean, scope?: 'all' | 'connection'): Promise<void>;
  /** How many connections hold bytes back now. */
  holding(): number;
  /** Lets everything held through, in order, and stops holding. */
  release(): void;
  /** Stops listening and cuts every connection: connections are refused until reopen(). */
  close(): Promise<void>;
  /** Listens again on the same port. */
  reopen(): Promise<void>;
}

interface Pipe {
  client: Socket;
  upstream: Socket;
  held: boolean;
  queue: { to: Socket; data: Buffer }[];
}

/** The InfluxQL of a request's `q=` parameter (URL-encoded, in the form body or the URL), for holdWhen's match; '' without one. */
export function formQuery(sent: string): string {
  const q = /(?:^|[\s&?])q=([^&\s]*)/.exec(sent)?.[1];
  if (q === undefined) return '';
  try {
    return decodeURIComponent(q.replace(/\+/g, ' '));
  } catch {
    return '';
  }
}

export async function pausingProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<PausingProxy> {
  const pipes = new Set<Pipe>();
  let all = false;
  let trigger: { match: (sent: string) => boolean; scope: 'all' | 'connection'; fire: () => void } | undefined;

  const send = (pipe: Pipe, to: Socket, data: Buffer): void => {
    if (all || pipe.held) pipe.queue.push({ to, data });
    else to.write(data);
  };
  const cut = (pipe: Pipe): void => {
    pipe.client.destroy();
    pipe.upstream.destroy();
    pipes.delete(pipe);
  };

  const onConnection = (client: Socket): void => {
    const upstream = connect(targetPort, targetHost);
    const pipe: Pipe = { client, upstream, held: false, queue: [] };
    pipes.add(pipe);
    client.on('data', (data: Buffer) => {
      if (trigger?.match(data.toString('latin1'))) {
        const { scope, fire } = trigger;
        trigger = undefined;
        if (scope === 'all') all = true;
        else pipe.held = true;
        fire();
      }
      send(pipe, upstream, data);
    });
    upstream.on('data', (data: Buffer) => send(pipe, client, data));
    // A side that ends or fails ends the other: the server stopping cuts its clients.
    for (const s of [client, upstream]) {
      s.on('error', () => cut(pipe));
      s.on('close', () => cut(pipe));
    }
  };

  let server: Server = createServer(onConnection);
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as { port: number }).port;

  return {
    port,
    hold() {
      all = true;
    },
    holdWhen(match, scope = 'all') {
      return new Promise((fire) => {
        trigger = { match, scope, fire };
      });
    },
    holding() {
      return [...pipes].filter((p) => p.queue.length > 0).length;
    },
    release() {
      all = false;
      for (const pipe of pipes) {
        pipe.held = false;
        for (const { to, data } of pipe.queue.splice(0)) to.write(data);
      }
    },
    async close() {
      trigger = undefined;
      all = false;
      for (const pipe of [...pipes]) cut(pipe);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async reopen() {
      server = createServer(onConnection);
      await listen(port);
    },
  };
}
