import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Encodings production sets (docs/scaling.md, *What Redis holds*): a hash whose
 * values are all at most this long stays one compact listpack. Redis's default
 * (64 bytes) turns a record (its sealed body), a finished job (its options)
 * and a ledger decision (its seat list) into hash tables, whose per-field
 * entries cost about 700 bytes a message more than the values themselves.
 */
export const REDIS_ENCODING_ARGS: readonly string[] = ['--hash-max-listpack-value', '1024'];

/**
 * A Redis of our own on loopback, as production runs it: AOF with fsync every
 * second, no eviction (a queue must never lose a job to memory pressure).
 */
export async function startPrivateRedis(dataDir: string, port?: number): Promise<PrivateRedis> {
  mkdirSync(dataDir, { recursive: true });
  const chosenPort = port ?? (await freePort());
  const child = spawn(
    'redis-server',
    [
      '--port', String(chosenPort),
      '--bind', '127.0.0.1',
      '--dir', dataDir,
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
  child.stdout.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const url = `redis://127.0.0.1:${chosenPort}`;
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    child.once('exit', onExit);
    const check = () => {
      if (output.includes('Ready to accept connections')) {
        child.off('exit', onExit);
        resolve();
      }
    };
    child.stdout.on('data', check);
    check();
  });
  return {
    url,
    port: chosenPort,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await client.connect();
        // SHUTDOWN flushes the AOF before exit; the connection drops as it does.
        await client.shutdown().catch(() => undefined);
      } catch {
        child.kill('SIGTERM');
      } finally {
        client.disconnect();
      }
      await exited;
    },
  };
}
