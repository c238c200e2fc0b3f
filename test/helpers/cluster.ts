import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import axios from 'axios';
import type { Cluster } from 'ioredis';

export interface GatewayProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` of an api process */
  url?: string;
}

/**
 * A gateway process (server/main.ts, a real OS process) with one role. An api
 * process binds a free loopback port and reports it over IPC (`listening`); a
 * worker process reports `ready` once its BullMQ workers are connected.
 */
export async function spawnGateway(role: 'api' | 'worker', env: Record<string, string>): Promise<GatewayProcess> {
  const child = fork(join(import.meta.dirname, '..', '..', 'server', 'main.ts'), [], {
    env: { ...process.env, ...env, GATEWAY_ROLE: role, PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const started = await new Promise<GatewayProcess>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`gateway ${role} process exited with ${code} before it was up`));
    const onMessage = (message: { type?: string; port?: number }) => {
      if (message.type === 'listening' || message.type === 'ready') {
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve(message.type === 'listening' ? { child, url: `http://127.0.0.1:${message.port}` } : { child });
      }
    };
    child.once('exit', onExit);
    child.on('message', onMessage);
  });
  if (started.url) await untilReady(started.url);
  return started;
}

/**
 * server.ts reports `listening` without waiting for its Redis connections; a
 * fail-fast connection answers 503 until the cluster's slot map is known. This
 * asks /readyz again each time it answers 503, until it answers 200.
 */
async function untilReady(url: string): Promise<void> {
  for (;;) {
    const response = await axios.get(`${url}/readyz`, { validateStatus: () => true });
    if (response.status === 200) return;
  }
}

export async function stopGateway(gateway: GatewayProcess): Promise<void> {
  const { child } = gateway;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** How many keys each master of the cluster holds (DBSIZE is per node). */
export async function keysPerMaster(cluster: Cluster): Promise<number[]> {
  return Promise.all(cluster.nodes('master').map((node) => node.dbsize()));
}
