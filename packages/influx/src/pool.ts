import type http from 'node:http';
import { InfluxClient, influxAgent, type InfluxConnectionOptions } from './client.js';

/**
 * Clients that share one socket pool per server (host, port and TLS settings), so
 * the connections to a server stay bounded (MAX_SOCKETS_PER_SERVER) however many
 * sources live on it; each client keeps its own credentials and role.
 */
export class InfluxPool {
  private readonly agents = new Map<string, http.Agent>();
  private readonly clients: InfluxClient[] = [];

  client(options: InfluxConnectionOptions): InfluxClient {
    const server = JSON.stringify([options.host, options.port, options.ssl ?? false, options.verifySsl ?? true, options.caFile ?? '']);
    let agent = this.agents.get(server);
    if (!agent) this.agents.set(server, (agent = influxAgent(options)));
    const client = new InfluxClient({ ...options, agent });
    this.clients.push(client);
    return client;
  }

  /** Socket pools open: one per distinct server. */
  get servers(): number {
    return this.agents.size;
  }

  close(): void {
    for (const c of this.clients) c.close();
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}
