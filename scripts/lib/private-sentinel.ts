import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { REDIS_ENCODING_ARGS, freePort } from './private-redis.ts';

export interface Address {
  host: string;
  port: number;
}

export interface PrivateSentinelServer {
  port: number;
  process: ChildProcess;
}

export interface PrivateSentinel {
  /** the master name the sentinel watches, as REDIS_SENTINEL_NAME takes it */
  name: string;
  /** `127.0.0.1:<port>` of the sentinel, as REDIS_NODES takes it */
  nodes: string[];
  sentinel: PrivateSentinelServer;
  /** the two data servers: the first started as master, the second as its replica */
  servers: PrivateSentinelServer[];
  /** the master as the sentinel names it now (`SENTINEL get-master-addr-by-name`) */
  master(): Promise<Address>;
  /**
   * Starts a data server that was killed again, on its port and its data, as a
   * crashed server comes back: claiming to be master until the sentinel makes
   * it a replica of the current one (some seconds later). Replaces its entry in `servers`.
   */
  restart(port: number): Promise<PrivateSentinelServer>;
  stop(): Promise<void>;
}

export interface PrivateSentinelOptions {
  /** the master name; `zzgw` unless given */
  name?: string;
  /** kept after stop() when given; otherwise a temporary directory, removed at stop() */
  dataDir?: string;
  /** how long to wait for the replica to sync and the sentinel to know both servers */
  timeoutMs?: number;
}

const HOST = '127.0.0.1';

/** Spawns redis-server and resolves once its log shows `readyLine`. */
async function spawnServer(args: string[], readyLine: string, label: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${label} exited (${code}) before it was ready:\n${output}`));
    child.once('exit', onExit);
    child.once('error', (error) => reject(new Error(`${label} could not start: ${error.message}`)));
    const check = () => {
      if (output.includes(readyLine)) {
        child.off('exit', onExit);
        child.stdout.off('data', check);
        resolve();
      }
    };
    child.stdout.on('data', check);
    check();
  });
  return child;
}

/** A data server (AOF, no eviction, as private-redis.ts runs one); a replica of `replicaOf` when given; on `port` when given. */
async function startDataServer(dataDir: string, replicaOf?: number, port?: number): Promise<PrivateSentinelServer> {
  port ??= await freePort();
  const dir = join(dataDir, String(port));
  mkdirSync(dir, { recursive: true });
  const args = [
    '--port', String(port),
    '--bind', HOST,
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--maxmemory-policy', 'noeviction',
    ...REDIS_ENCODING_ARGS,
    '--save', '',
    '--daemonize', 'no',
    // a full sync (first sync, or the old master rejoining after a failover) starts at once, not after 5 s
    '--repl-diskless-sync-delay', '0',
    // SIGTERM stops at once and for sure: Redis 7 would otherwise wait up to 10 s for a
    // lagging replica, and stay up if it could not write its data (seen after a failover)
    '--shutdown-on-sigterm', 'now force',
    ...(replicaOf === undefined ? [] : ['--replicaof', HOST, String(replicaOf)]),
  ];
  const child = await spawnServer(args, 'Ready to accept connections', `redis-server on ${port}`);
  return { port, process: child };
}

/** A sentinel watching `name` at `masterPort`, with a config file of its own (sentinels rewrite theirs). */
async function startSentinelServer(dataDir: string, name: string, masterPort: number): Promise<PrivateSentinelServer> {
  const port = await freePort();
  const dir = join(dataDir, `sentinel-${port}`);
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'sentinel.conf');
  writeFileSync(
    configFile,
    [
      `port ${port}`,
      `bind ${HOST}`,
      `dir "${dir}"`,
      `sentinel monitor ${name} ${HOST} ${masterPort} 1`,
      // a lone test setup: failures are to be seen at once, not waited out
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  const child = await spawnServer([configFile, '--sentinel'], `+monitor master ${name}`, `sentinel on ${port}`);
  return { port, process: child };
}

async function stopServer(server: PrivateSentinelServer): Promise<void> {
  const child = server.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // SIGTERM: redis-server flushes its AOF and exits; a sentinel saves its config and exits
  child.kill('SIGTERM');
  // a setup for tests and trials: a server that will not stop is killed rather than waited for
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function client(port: number): Redis {
  const redis = new Redis(port, HOST, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => undefined);
  return redis;
}

/** RESP2 field/value array (SENTINEL MASTER, one of SENTINEL REPLICAS) to an object. */
function fields(reply: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (!Array.isArray(reply)) return record;
  for (let i = 0; i + 1 < reply.length; i += 2) record[String(reply[i])] = String(reply[i + 1]);
  return record;
}

/** `field:value` lines of an INFO section to an object. */
function infoFields(info: string): Record<string, string> {
  const record: Record<string, string> = {};
  for (const line of info.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) record[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return record;
}

async function masterAddress(sentinel: Redis, name: string): Promise<Address> {
  const reply = await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name);
  if (!Array.isArray(reply) || reply.length !== 2) throw new Error(`the sentinel knows no master named ${name}`);
  return { host: String(reply[0]), port: Number(reply[1]) };
}

/**
 * Polls (nothing announces these) until `ready` resolves true or `timeoutMs`
 * passes; `describe` says what was last seen, for the error.
 */
async function until(ready: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms: ${describe()}`);
    await delay(50);
  }
}

/**
 * A Redis Sentinel setup of our own on loopback: a master, one replica
 * (`--replicaof`) and one sentinel (quorum 1, down-after 1 s, failover-timeout
 * 5 s) watching the master as `name`. Resolves once the replica is in sync
 * (`master_link_status:up`) and the sentinel names the master, sees it up and
 * knows the replica with its link up, so that `failover()` has a replica to promote.
 */
export async function startPrivateSentinel(options: PrivateSentinelOptions = {}): Promise<PrivateSentinel> {
  const name = options.name ?? 'zzgw';
  const timeoutMs = options.timeoutMs ?? 20_000;
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'zzgw-sentinel-'));
  mkdirSync(dataDir, { recursive: true });
  const servers: PrivateSentinelServer[] = [];
  let sentinel: PrivateSentinelServer | undefined;
  /*
   * Should this process exit without stop() (mocha --exit after a hook timed
   * out, an uncaught error), its servers and temporary directory are not to
   * outlive it: 'exit' listeners run synchronously, and so do kill and rmSync.
   */
  const killAll = () => {
    for (const server of [...servers, ...(sentinel ? [sentinel] : [])]) {
      if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL');
    }
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', killAll);
  const stop = async () => {
    // the sentinel first: it is not to react to the data servers going away
    if (sentinel) await stopServer(sentinel);
    await Promise.all(servers.map((server) => stopServer(server)));
    process.off('exit', killAll);
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const master = await startDataServer(dataDir);
    servers.push(master);
    const replica = await startDataServer(dataDir, master.port);
    servers.push(replica);
    // In sync before the sentinel starts: its first INFO of the master then lists the replica.
    const replicaClient = client(replica.port);
    try {
      let replication = '';
      await until(
        async () => {
          replication = await replicaClient.info('replication');
          return infoFields(replication)['master_link_status'] === 'up';
        },
        timeoutMs,
        () => `replica on ${replica.port}:\n${replication}`,
      );
    } finally {
      replicaClient.disconnect();
    }
    sentinel = await startSentinelServer(dataDir, name, master.port);
    const sentinelClient = client(sentinel.port);
    try {
      let seen = '';
      await until(
        async () => {
          const named = await masterAddress(sentinelClient, name);
          const watched = fields(await sentinelClient.call('SENTINEL', 'MASTER', name));
          const replicas = ((await sentinelClient.call('SENTINEL', 'REPLICAS', name)) as unknown[]).map(fields);
          seen = JSON.stringify({ named, watched, replicas });
          return (
            named.port === master.port &&
            watched['flags'] === 'master' &&
            replicas.some((known) => Number(known['port']) === replica.port && known['flags'] === 'slave' && known['master-link-status'] === 'ok')
          );
        },
        timeoutMs,
        () => `sentinel on ${sentinel?.port}: ${seen}`,
      );
    } finally {
      sentinelClient.disconnect();
    }
    const sentinelPort = sentinel.port;
    return {
      name,
      nodes: [`${HOST}:${sentinelPort}`],
      sentinel,
      servers,
      async master() {
        const asked = client(sentinelPort);
        try {
          return await masterAddress(asked, name);
        } finally {
          asked.disconnect();
        }
      },
      async restart(port: number) {
        const index = servers.findIndex((server) => server.port === port);
        const old = servers[index];
        if (!old) throw new Error(`no data server on ${port}`);
        if (old.process.exitCode === null && old.process.signalCode === null) throw new Error(`the data server on ${port} is still running`);
        const restarted = await startDataServer(dataDir, undefined, port);
        servers[index] = restarted;
        return restarted;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Fails the master over to the replica: waits until the replica has everything
 * the master had written when asked (replication is asynchronous; what is
 * written meanwhile may be lost, as in any failover), runs
 * `SENTINEL FAILOVER <name>`, waits for the sentinel's `+switch-master`, and
 * resolves with the new master once `get-master-addr-by-name` names it.
 *
 * The old master is left as it is: the sentinel makes it a replica of the new
 * one by itself some seconds later (it waits about 8 s before it corrects a
 * server that still claims to be master). Until then it still accepts writes;
 * a client that did not follow the switch would write where nobody reads.
 */
export async function failover(setup: PrivateSentinel, timeoutMs = 20_000): Promise<Address> {
  const sentinelPort = setup.sentinel.port;
  const asked = client(sentinelPort);
  const subscriber = client(sentinelPort);
  try {
    const before = await masterAddress(asked, setup.name);
    const replica = setup.servers.find((server) => server.port !== before.port);
    if (!replica) throw new Error(`no replica of ${before.host}:${before.port} to fail over to`);
    const masterClient = client(before.port);
    const replicaClient = client(replica.port);
    try {
      const written = Number(infoFields(await masterClient.info('replication'))['master_repl_offset']);
      let seen = '';
      await until(
        async () => {
          seen = await replicaClient.info('replication');
          const fieldsSeen = infoFields(seen);
          return fieldsSeen['master_link_status'] === 'up' && Number(fieldsSeen['slave_repl_offset']) >= written;
        },
        timeoutMs,
        () => `replica on ${replica.port} behind offset ${written}:\n${seen}`,
      );
    } finally {
      masterClient.disconnect();
      replicaClient.disconnect();
    }
    await subscriber.subscribe('+switch-master');
    const switched = new Promise<void>((resolve) => {
      // "<name> <old ip> <old port> <new ip> <new port>"
      subscriber.on('message', (_channel: string, message: string) => {
        if (message.split(' ')[0] === setup.name) resolve();
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no +switch-master for ${setup.name} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await asked.call('SENTINEL', 'FAILOVER', setup.name);
      await Promise.race([switched, timedOut]);
    } finally {
      clearTimeout(timer);
    }
    const after = await masterAddress(asked, setup.name);
    if (after.port === before.port) throw new Error(`the sentinel still names ${before.host}:${before.port} after +switch-master`);
    return after;
  } finally {
    asked.disconnect();
    subscriber.disconnect();
  }
}

/**
 * Resolves once the master the sentinel names has a replica online (INFO
 * replication), as after a failover once the sentinel has made the old master,
 * or a restarted one, its replica: until then nothing written can be
 * acknowledged by a replica (REDIS_WAIT_REPLICAS).
 */
export async function untilReplicated(setup: PrivateSentinel, timeoutMs = 30_000): Promise<void> {
  let seen = '';
  await until(
    async () => {
      const master = await setup.master();
      const asked = client(master.port);
      try {
        seen = await asked.info('replication');
      } catch {
        return false;
      } finally {
        asked.disconnect();
      }
      const fieldsSeen = infoFields(seen);
      return fieldsSeen['role'] === 'master' && Object.entries(fieldsSeen).some(([name, value]) => /^slave\d+$/.test(name) && value.includes('state=online'));
    },
    timeoutMs,
    () => `master without an online replica:\n${seen}`,
  );
}
