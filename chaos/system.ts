/**
 * The system under test: a private Redis (AOF) on a fixed port, so that it can
 * be killed and started again on the same data, and gateway processes
 * (server/main.ts, real OS processes) with one role each.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ENV_SETTINGS } from '../config/env.ts';
import { readLaunchEnvironment } from '../config/launch.ts';
import { startPrivateRedis, type PrivateRedis } from '../scripts/lib/private-redis.ts';

const SERVER = join(import.meta.dirname, '..', 'server', 'main.ts');

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A gateway process: its role, its pid, and for an api process the URL it listens on. */
export interface GatewayProcess {
  name: string;
  role: 'api' | 'worker' | 'scheduler';
  child: ChildProcess;
  pid: number;
  url?: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SystemOptions {
  dir: string;
  env: Record<string, string>;
  appendfsync: 'everysec' | 'always';
  log: (line: string) => void;
}

/** process.env without any gateway setting, so that the caller's shell cannot change the run. */
function baseEnvironment(): Record<string, string> {
  const names = new Set([...ENV_SETTINGS.map((setting) => setting.name), 'GATEWAY_CONFIG']);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !names.has(name)) env[name] = value;
  return env;
}

export class System {
  readonly options: SystemOptions;
  redis: PrivateRedis | undefined;
  redisPort = 0;
  readonly processes = new Map<string, GatewayProcess>();
  #generation = 0;

  constructor(options: SystemOptions) {
    this.options = options;
  }

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  get redisDir(): string {
    return join(this.options.dir, 'redis');
  }

  /** Starts Redis (again, on the same port and AOF when it ran before). */
  async startRedis(): Promise<void> {
    this.redis = await startPrivateRedis(this.redisDir, this.redisPort === 0 ? undefined : this.redisPort);
    this.redisPort = this.redis.port;
    if (this.options.appendfsync !== 'everysec') {
      const client = new Redis(this.redisUrl, { maxRetriesPerRequest: 1 });
      try {
        await client.config('SET', 'appendfsync', this.options.appendfsync);
      } finally {
        client.disconnect();
      }
    }
  }

  /** kill -9 of redis-server: no SHUTDOWN, no final AOF flush. */
  async killRedis(): Promise<void> {
    const child = this.redis?.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async stopRedis(): Promise<void> {
    await this.redis?.stop();
  }

  /** Forks server/main.ts with one role; resolves once it reports listening (api) or ready (worker, scheduler). */
  async start(name: string, role: 'api' | 'worker' | 'scheduler'): Promise<GatewayProcess> {
    const logPath = join(this.options.dir, `${name}.${++this.#generation}.log`);
    const fd = openSync(logPath, 'a');
    const child = fork(SERVER, [], {
      // as npm start runs it
      execArgv: readLaunchEnvironment().nodeOptions,
      env: { ...baseEnvironment(), ...this.options.env, GATEWAY_ROLE: role, PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', fd, fd, 'ipc'],
    });
    closeSync(fd);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${name} has no pid`);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const port = await new Promise<number | undefined>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s (log: ${logPath})`)), 30_000);
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) before it was up (log: ${logPath})`));
      });
      child.on('message', (message: { type?: string; port?: number }) => {
        if (message.type === 'listening' || message.type === 'ready') {
          clearTimeout(timer);
          resolve(message.port);
        }
      });
    });
    const started: GatewayProcess = { name, role, child, pid, exited, ...(port === undefined ? {} : { url: `http://127.0.0.1:${port}` }) };
    if (started.url) await this.#untilReady(started.url);
    this.processes.set(name, started);
    this.options.log(`${name} (${role}) started, pid ${pid}${started.url ? `, ${started.url}` : ''}`);
    return started;
  }

  /** /readyz answers 200 once Redis answers and an inbound worker is known. */
  async #untilReady(url: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (response.status === 200) return;
      } catch {
        // not yet
      }
      await sleep(100);
    }
    throw new Error(`${url} not ready within 30 s`);
  }

  get(name: string): GatewayProcess {
    const found = this.processes.get(name);
    if (!found) throw new Error(`no process ${name}`);
    return found;
  }

  /** Sends a signal; for SIGKILL and SIGTERM resolves once the process has exited. */
  async signal(name: string, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    const target = this.get(name);
    process.kill(target.pid, signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') return undefined;
    const result = await target.exited;
    this.processes.delete(name);
    return result;
  }

  apiUrls(): { name: string; url: string }[] {
    return [...this.processes.values()].filter((p) => p.url !== undefined).map((p) => ({ name: p.name, url: p.url ?? '' }));
  }

  /** SIGTERM to every gateway process (SIGKILL after `graceMs`), then Redis. */
  async stopAll(graceMs = 15_000): Promise<void> {
    await Promise.all(
      [...this.processes.values()].map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        try {
          process.kill(p.pid, 'SIGCONT');
          p.child.kill('SIGTERM');
        } catch {
          return;
        }
        const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
        await p.exited;
        clearTimeout(timer);
      }),
    );
    this.processes.clear();
    await this.stopRedis();
  }
}
