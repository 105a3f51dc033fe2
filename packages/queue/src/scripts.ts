import { readdirSync, readFileSync } from 'node:fs';
import type { ChainableCommander, Redis } from 'ioredis';
import type { RunKeys } from './keys.js';

/**
 * The Lua scripts of the store, one file each under commands/, the way BullMQ lays out
 * its own: `name-N.lua` takes N fixed KEYS (some take more, one per watermark, claim
 * or follower, counted with each call), and `--- @include "includes/x"` inlines a
 * shared piece once. Every script is sent with EVALSHA (ioredis's defineCommand sends
 * the body only when Redis does not know it yet: after a restart, a failover or a
 * SCRIPT FLUSH), and every key it touches arrives through KEYS.
 */
const DIR = new URL('./commands/', import.meta.url);
const INCLUDE = /^--- @include "([\w/-]+)"\s*$/gm;

/** A script's source with its includes inlined (each once), as Redis runs it. */
export function scriptSource(file: string, seen = new Set<string>()): string {
  return readFileSync(new URL(file, DIR), 'utf8').replace(INCLUDE, (_line, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    return scriptSource(`${name}.lua`, seen);
  });
}

interface ScriptFile {
  /** The command's name on the connection: ib + the file's name. */
  command: string;
  fixedKeys: number;
  lua: string;
}

const FILES: ReadonlyMap<string, ScriptFile> = new Map(
  readdirSync(DIR)
    .filter((file) => file.endsWith('.lua'))
    .map((file): [string, ScriptFile] => {
      const m = /^(\w+)-(\d+)\.lua$/.exec(file);
      if (!m) throw new Error(`queue script ${file}: expected name-N.lua`);
      const name = m[1]!;
      return [name, { command: `ib${name[0]!.toUpperCase()}${name.slice(1)}`, fixedKeys: Number(m[2]), lua: scriptSource(file) }];
    }),
);

type Arg = string | number;
type Call = (numKeys: number, ...keysAndArgs: Arg[]) => Promise<unknown>;
type Queued = (numKeys: number, ...keysAndArgs: Arg[]) => ChainableCommander;

/** What finishChunk gives back: whether this call counted the job, and the runs following its chunk. */
export interface FinishedChunk {
  counted: boolean;
  /** Run keys of the runs that follow the chunk and are not counted yet (countFollowers). */
  followers: string[];
}

/** The store's scripts on one connection, with their keys and arguments typed. */
export class Scripts {
  constructor(private readonly redis: Redis) {
    for (const s of FILES.values()) {
      if (!(s.command in redis)) redis.defineCommand(s.command, { lua: s.lua });
    }
  }

  private call(name: string, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    const s = script(name, keys);
    return (this.redis as unknown as Record<string, Call>)[s.command]!.call(this.redis, keys.length, ...keys, ...args);
  }

  /** Queues a script on a MULTI or pipeline of this connection. */
  private queue(multi: ChainableCommander, name: string, keys: readonly string[], args: readonly Arg[]): ChainableCommander {
    const s = script(name, keys);
    return (multi as unknown as Record<string, Queued>)[s.command]!.call(multi, keys.length, ...keys, ...args);
  }

  /** The low watermark alone: completeChunk-3.lua. */
  async completeChunk(
    keys: { progress: string; checkpoints: string; meta: string },
    a: { index: number; lastTimeNs: bigint | null; fieldId: string; meta: string; ttlS: number },
  ): Promise<{ frontier: number; checkpoint: string }> {
    const [frontier, checkpoint] = (await this.call(
      'completeChunk',
      [keys.progress, keys.checkpoints, keys.meta],
      [a.index, a.lastTimeNs?.toString() ?? '', a.fieldId, a.meta, a.ttlS],
    )) as [number, string];
    return { frontier: Number(frontier), checkpoint };
  }

  /** finishChunk-11.lua. */
  async finishChunk(
    keys: {
      run: RunKeys;
      checkpoints: string;
      meta: string;
      claim: string;
      totals: string;
      lastSuccess: string;
      /** One progress record per watermark, in the order of `a.watermarks`. */
      progress: readonly string[];
    },
    a: {
      position: number;
      outcome: 'done' | 'failed';
      values: number;
      failure: string;
      ttlS: number;
      failuresKept: number;
      jobId: string;
      nowMs: number;
      fieldIds: readonly string[];
      measurement: string;
      source: string;
      /** The run is a repair: its values also count as values repaired. */
      repair: boolean;
      /** When the attempt began (ms); absent: unknown (a job BullMQ failed itself). */
      startedMs?: number | undefined;
      watermarks: readonly { index: number; lastTimeNs: bigint | null; fieldId: string; meta: string }[];
    },
  ): Promise<FinishedChunk> {
    const r = keys.run;
    const [counted, followers] = (await this.call(
      'finishChunk',
      [
        r.hash,
        r.bits,
        r.fbits,
        r.follow,
        r.failures,
        keys.checkpoints,
        keys.meta,
        keys.claim,
        keys.totals,
        keys.lastSuccess,
        r.byMeasurement,
        ...keys.progress,
      ],
      [
        a.position,
        a.outcome,
        a.values,
        a.failure,
        a.ttlS,
        a.failuresKept,
        a.jobId,
        a.nowMs,
        JSON.stringify(a.fieldIds),
        a.measurement,
        a.source,
        a.repair ? '1' : '0',
        a.startedMs ?? '',
        ...a.watermarks.flatMap((w) => [w.index, w.lastTimeNs?.toString() ?? '', w.fieldId, w.meta]),
      ],
    )) as [number, string];
    return { counted: Number(counted) === 1, followers: followers.split(' ').filter(Boolean) };
  }

  /** countFollowers-1.lua: true once counted, else the followers recorded now (they changed). */
  async countFollowers(
    keys: { follow: string; followers: readonly RunKeys[] },
    a: {
      position: number;
      expected: readonly string[];
      outcome: 'done' | 'failed';
      values: number;
      failure: string;
      failuresKept: number;
      ttlS: number;
      measurement: string;
      nowMs: number;
      startedMs?: number | undefined;
    },
  ): Promise<true | string[]> {
    const [ok, now] = (await this.call(
      'countFollowers',
      [keys.follow, ...keys.followers.flatMap((f) => [f.hash, f.failures, f.byMeasurement])],
      [a.position, a.expected.join(' '), a.outcome, a.values, a.failure, a.failuresKept, a.ttlS, a.measurement, a.nowMs, a.startedMs ?? ''],
    )) as [number, string];
    return Number(ok) === 1 ? true : now.split(' ').filter(Boolean);
  }

  /** splitChunk-6.lua: the first new position, or -1. */
  async splitChunk(
    keys: { run: RunKeys; claim: string },
    a: { position: number; n: number; jobId: string; ttlS: number; measurement: string },
  ): Promise<number> {
    const r = keys.run;
    return Number(
      await this.call(
        'splitChunk',
        [r.hash, r.bits, r.split, r.follow, keys.claim, r.byMeasurement],
        [a.position, a.n, a.jobId, a.ttlS, a.measurement],
      ),
    );
  }

  /** claimChunks-0.lua: per chunk, '' when claimed, else the holder and the claim's age. */
  async claimChunks(
    claims: readonly string[],
    a: { claimTtlS: number; jobIds: readonly string[] },
  ): Promise<({ holder: string; ageMs: number } | null)[]> {
    const out = (await this.call('claimChunks', claims, [a.claimTtlS, ...a.jobIds])) as string[];
    return out.map((v) => {
      if (v === '') return null;
      const at = v.lastIndexOf(' ');
      return { holder: v.slice(0, at), ageMs: Number(v.slice(at + 1)) };
    });
  }

  /** settleClaims-2.lua: per chunk 0 following, 1 claimed, 2 counted at once, 3 the claim changed. */
  async settleClaims(
    keys: { run: RunKeys; chunks: readonly { claim: string; holder: RunKeys }[] },
    a: {
      ttlS: number;
      claimTtlS: number;
      failuresKept: number;
      run: string;
      chunks: readonly { holder: string; position: number; takeover: boolean; jobId: string }[];
    },
  ): Promise<(0 | 1 | 2 | 3)[]> {
    return (await this.call(
      'settleClaims',
      [keys.run.hash, keys.run.failures, ...keys.chunks.flatMap((c) => [c.claim, c.holder.bits, c.holder.fbits, c.holder.follow])],
      [a.ttlS, a.claimTtlS, a.failuresKept, a.run, ...a.chunks.flatMap((c) => [c.holder, c.position, c.takeover ? '1' : '0', c.jobId])],
    )) as (0 | 1 | 2 | 3)[];
  }

  /** adoptCheckpoint-2.lua: the new id's checkpoint, or null. */
  async adoptCheckpoint(keys: { checkpoints: string; meta: string }, a: { from: string; to: string }): Promise<string | null> {
    return (await this.call('adoptCheckpoint', [keys.checkpoints, keys.meta], [a.from, a.to])) as string | null;
  }

  /** runPlanned-1.lua, queued on `multi`. */
  runPlanned(multi: ChainableCommander, run: RunKeys, nowMs: number): ChainableCommander {
    return this.queue(multi, 'runPlanned', [run.hash], [nowMs]);
  }

  /** alertLease-1.lua: true while `holder` holds the lease. */
  async alertLease(lease: string, holder: string, ttlMs: number): Promise<boolean> {
    return Number(await this.call('alertLease', [lease], [holder, Math.ceil(ttlMs)])) === 1;
  }

  /** swapAlert-2.lua: true when `holder` (holding the lease) changed the entry from `read` to `next`, and so sends it. */
  async swapAlert(
    keys: { lease: string; alerts: string },
    a: { holder: string; field: string; read: string; next: string },
  ): Promise<boolean> {
    return Number(await this.call('swapAlert', [keys.lease, keys.alerts], [a.holder, a.field, a.read, a.next])) === 1;
  }

  /** compareAndDelete-1.lua. */
  async compareAndDelete(key: string, value: string): Promise<boolean> {
    return Number(await this.call('compareAndDelete', [key], [value])) === 1;
  }

  /** compareAndDelete-1.lua, queued on `multi`. */
  queueCompareAndDelete(multi: ChainableCommander, key: string, value: string): ChainableCommander {
    return this.queue(multi, 'compareAndDelete', [key], [value]);
  }
}

function script(name: string, keys: readonly string[]): ScriptFile {
  const s = FILES.get(name);
  if (!s) throw new Error(`no queue script ${name}`);
  if (keys.length < s.fixedKeys) throw new RangeError(`script ${name} takes at least ${s.fixedKeys} keys, got ${keys.length}`);
  return s;
}
