import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { REDIS_ENCODING_ARGS, freePort } from './private-redis.ts';

const run = promisify(execFile);

export interface PrivateClusterNode {
  port: number;
  /** the cluster bus port (cluster-port), chosen free as well */
  busPort: number;
  process: ChildProcess;
}

export interface PrivateCluster {
  /** `127.0.0.1:<port>` of every master, as REDIS_NODES takes them */
  nodes: string[];
  members: PrivateClusterNode[];
  stop(): Promise<void>;
}

export interface PrivateClusterOptions {
  /** masters (no replicas); Redis Cluster needs at least 3 */
  masters?: number;
  /** kept after stop() when given; otherwise a temporary directory, removed at stop() */
  dataDir?: string;
  /** how long to wait for the cluster to form */
  timeoutMs?: number;
}

/** Starts one cluster-enabled redis-server and resolves once it accepts connections. */
async function startNode(dataDir: string): Promise<PrivateClusterNode> {
  const port = await freePort();
  // the bus port is port + 10000 unless given, which may be past 65535 for an ephemeral port
  let busPort = await freePort();
  while (busPort === port) busPort = await freePort();
  const dir = join(dataDir, String(port));
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes',
      '--cluster-port', String(busPort),
      '--cluster-config-file', `nodes-${port}.conf`,
      // a lone test cluster: failures are to be seen at once, not waited out
      '--cluster-node-timeout', '2000',
      '--dir', dir,
      '--appendonly', 'yes',
      '--appendfsync', 'everysec',
      '--maxmemory-policy', 'noeviction',
      ...REDIS_ENCODING_ARGS,
      '--save', '',
      '--daemonize', 'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`redis-server on ${port} exited (${code}) before it was ready:\n${output}`));
    child.once('exit', onExit);
    child.once('error', (error) => reject(new Error(`redis-server could not start: ${error.message}`)));
    const check = () => {
      if (output.includes('Ready to accept connections')) {
        child.off('exit', onExit);
        child.stdout.off('data', check);
        resolve();
      }
    };
    child.stdout.on('data', check);
    check();
  });
  return { port, busPort, process: child };
}

async function stopNode(node: PrivateClusterNode): Promise<void> {
  if (node.process.exitCode !== null || node.process.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => node.process.once('exit', () => resolve()));
  // SIGTERM: redis-server flushes its AOF and exits
  node.process.kill('SIGTERM');
  await exited;
}

/** Resolves once every node sees all 16384 slots served and every other node known. */
async function waitForClusterOk(members: PrivateClusterNode[], timeoutMs: number): Promise<void> {
  const clients = members.map((member) => new Redis(member.port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: true }));
  const deadline = Date.now() + timeoutMs;
  try {
    await Promise.all(clients.map((client) => client.connect()));
    for (;;) {
      const infos = await Promise.all(clients.map((client) => client.cluster('INFO')));
      const ok = infos.every(
        (info) =>
          info.includes('cluster_state:ok') &&
          info.includes('cluster_slots_ok:16384') &&
          info.includes(`cluster_known_nodes:${members.length}`),
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`cluster not ok after ${timeoutMs} ms:\n${infos.join('\n')}`);
      // nothing announces convergence: CLUSTER INFO is polled, briefly
      await delay(50);
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
}

/**
 * A Redis Cluster of our own on loopback: `masters` cluster-enabled redis-server
 * processes (AOF, no eviction, as private-redis.ts runs a single one), joined by
 * `redis-cli --cluster create --cluster-replicas 0`. Resolves once CLUSTER INFO
 * says `cluster_state:ok` on every node.
 */
export async function startPrivateCluster(options: PrivateClusterOptions = {}): Promise<PrivateCluster> {
  const masters = options.masters ?? 3;
  if (masters < 3) throw new Error('Redis Cluster needs at least 3 masters');
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'zzgw-cluster-'));
  mkdirSync(dataDir, { recursive: true });
  const members: PrivateClusterNode[] = [];
  const stop = async () => {
    await Promise.all(members.map((member) => stopNode(member)));
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const started = await Promise.allSettled(Array.from({ length: masters }, () => startNode(dataDir)));
    for (const result of started) if (result.status === 'fulfilled') members.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const nodes = members.map((member) => `127.0.0.1:${member.port}`);
    try {
      await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: options.timeoutMs ?? 20_000 });
    } catch (error) {
      const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
      if (failure.code === 'ENOENT') throw new Error('redis-cli not found: install Debian package redis-tools (redis-server depends on it)', { cause: error });
      throw new Error(`redis-cli --cluster create failed: ${failure.message}\n${failure.stdout ?? ''}${failure.stderr ?? ''}`, { cause: error });
    }
    await waitForClusterOk(members, options.timeoutMs ?? 20_000);
    return { nodes, members, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
