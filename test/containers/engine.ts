// The container engine the container test drives: Docker or podman, as
// scripts/container-engine.sh chose and prepared it (CONTAINER_ENGINE, CONTAINERS_CONF,
// NODE_IMAGE, INFLUXDB_IMAGE, REDIS_IMAGE in the environment).
import { spawn } from 'node:child_process';
import { waitFor } from '@influx-backup/testkit';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end (killed past `timeoutMs`) and returns what it printed. */
export function run(
  command: string,
  args: readonly string[],
  { timeoutMs = 120_000, env = {} }: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Run> {
  const started = Date.now();
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not be started: ${err.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** What a failed command printed, for an assertion's message. */
export function said(r: Run): string {
  return `exit ${r.code} after ${r.ms} ms\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}

export class Engine {
  readonly name: 'docker' | 'podman';
  /** The base the images are built on: the Dockerfile's default, or the local stand-in. */
  readonly nodeImage: string | undefined;
  readonly influxdbImage: string | undefined;
  readonly redisImage: string | undefined;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const name = env.CONTAINER_ENGINE;
    if (name !== 'docker' && name !== 'podman') {
      throw new Error(
        `CONTAINER_ENGINE is ${JSON.stringify(name)}: run this test through \`pnpm test:containers\`, which prepares Docker or podman`,
      );
    }
    this.name = name;
    this.nodeImage = env.NODE_IMAGE || undefined;
    this.influxdbImage = env.INFLUXDB_IMAGE || undefined;
    this.redisImage = env.REDIS_IMAGE || undefined;
  }

  run(args: readonly string[], opts?: { timeoutMs?: number; env?: Record<string, string> }): Promise<Run> {
    return run(this.name, args, opts);
  }

  /** Runs `args`, and throws with what the engine said unless it exits 0. */
  async ok(args: readonly string[], opts?: { timeoutMs?: number; env?: Record<string, string> }): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(`${this.name} ${args.join(' ')} failed: ${said(r)}`);
    return r.stdout;
  }

  /** The flags of `build`: podman keeps HEALTHCHECK only in the Docker format, and must not pull. */
  buildFlags(): string[] {
    const base = this.nodeImage ? ['--build-arg', `NODE_IMAGE=${this.nodeImage}`] : [];
    return this.name === 'podman' ? ['--pull=never', '--network', 'host', '--format', 'docker', ...base] : base;
  }

  /** The compose command: `docker compose` or `podman-compose`. */
  compose(): { command: string; prefix: string[] } {
    return this.name === 'docker' ? { command: 'docker', prefix: ['compose'] } : { command: 'podman-compose', prefix: [] };
  }

  async imageSize(image: string): Promise<number> {
    return Number((await this.ok(['image', 'inspect', '--format', '{{.Size}}', image])).trim());
  }

  async inspect(container: string, format: string): Promise<string> {
    return (await this.ok(['inspect', '--format', format, container])).trim();
  }

  /**
   * Waits until the engine calls the container healthy. Docker runs the checks itself;
   * podman runs them from systemd timers, which a machine without systemd lacks, so the
   * test asks for each check (`podman healthcheck run`) as the timer would.
   */
  async healthy(container: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${container} healthy`,
      async () => {
        if (this.name === 'podman') await this.run(['healthcheck', 'run', container], { timeoutMs: 15_000 });
        return (await this.inspect(container, '{{.State.Health.Status}}')) === 'healthy';
      },
      { timeoutMs, intervalMs: this.name === 'podman' ? 500 : 1000 },
    );
  }

  /** Runs the image's own HEALTHCHECK command once in the container: true when it passes. */
  async checkHealth(container: string, image: string): Promise<boolean> {
    if (this.name === 'podman') return (await this.run(['healthcheck', 'run', container], { timeoutMs: 15_000 })).code === 0;
    const test = JSON.parse(await this.ok(['image', 'inspect', '--format', '{{json .Config.Healthcheck.Test}}', image])) as string[];
    return (await this.run(['exec', container, ...test.slice(1)], { timeoutMs: 15_000 })).code === 0;
  }

  /** Removes containers, ignoring those already gone. */
  async remove(...containers: string[]): Promise<void> {
    if (containers.length > 0) await this.run(['rm', '-f', ...(this.name === 'podman' ? ['-t', '0'] : []), ...containers]);
  }
}

/** Bytes as megabytes, one decimal. */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
