import type { Redis } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import { WORKER_FORGET_MS } from './ttl.js';

export interface WorkerSeen {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  lastSeen: string;
  jobsDone: number;
  jobsFailed: number;
  /** Set when the worker shut down gracefully. */
  stoppedAt?: string;
  /** A long-running `worker`, or the workers inside one `run` (absent in records of older versions: a worker). */
  role?: 'worker' | 'run';
  /** The process's resident memory at its last heartbeat (MB). */
  rssMb?: number;
}

/** The processes that copy, as their heartbeats report them; one hash field each, forgotten a week after the last. */
export class WorkerRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StoreKeys,
  ) {}

  async heartbeat(w: WorkerSeen): Promise<void> {
    await this.redis.hset(this.keys.workers, w.id, JSON.stringify(w));
  }

  /** The workers seen in the last week, the most recently seen first. */
  async list(): Promise<WorkerSeen[]> {
    const all = await this.redis.hgetall(this.keys.workers);
    const seen: WorkerSeen[] = [];
    const forget: string[] = [];
    for (const [id, v] of Object.entries(all)) {
      const w = JSON.parse(v) as WorkerSeen;
      if (Date.now() - Date.parse(w.lastSeen) > WORKER_FORGET_MS) forget.push(id);
      else seen.push(w);
    }
    if (forget.length > 0) await this.redis.hdel(this.keys.workers, ...forget);
    return seen.sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
  }
}
