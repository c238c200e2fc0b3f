import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { GatewayConfig } from '../../config/index.ts';

export type RedisRole = 'command' | 'queue' | 'worker';

type RedisSettings = Readonly<GatewayConfig['redis']>;

/** What a role asks of every connection, whatever the topology. */
function roleOptions(settings: RedisSettings, role: RedisRole): RedisOptions {
  const common: RedisOptions = { connectionName: `zzgw-${role}` };
  return role === 'worker'
    ? { ...common, maxRetriesPerRequest: null }
    : // these answer partners: after a Redis restart, reconnect within a second, not ioredis' up-to-5-s backoff
      { ...common, maxRetriesPerRequest: 1, commandTimeout: settings.commandTimeoutMs, retryStrategy: (times: number) => Math.min(100 * times, 1000) };
}

/** `host:port` (as the config schema checks it) to an ioredis node. */
function hostPort(node: string): { host: string; port: number } {
  const colon = node.lastIndexOf(':');
  return { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) };
}

/**
 * In cluster and sentinel modes REDIS_URL names no server; when it is set, its
 * user name, password and `rediss:` scheme are those of the data nodes.
 */
function credentialsOf(url: string | undefined): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  if (!url) return {};
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * Connections by use. Commands that answer a partner fail fast (no offline
 * queue, one retry, commandTimeout) so that an unreachable Redis becomes a 503,
 * not a hang. BullMQ workers block on Redis and must retry forever
 * (maxRetriesPerRequest: null, offline queue on).
 *
 * `settings.mode` picks the topology:
 * - standalone: one server, `settings.url`;
 * - sentinel: the master the sentinels (`settings.nodes`) name `settings.sentinelName`,
 *   found again after a failover;
 * - cluster: Redis Cluster seeded from `settings.nodes`; every key the gateway
 *   writes together carries one hash tag (see keys.ts), so each script, MULTI and
 *   pipeline stays on one slot.
 */
export function createRedis(settings: RedisSettings, role: RedisRole): Redis {
  const perRole = roleOptions(settings, role);
  const offlineQueue = role === 'worker';
  let redis: Redis;
  switch (settings.mode) {
    case 'standalone':
      redis = new Redis(settings.url ?? '', { ...perRole, lazyConnect: false, enableOfflineQueue: offlineQueue });
      break;
    case 'sentinel': {
      const credentials = credentialsOf(settings.url);
      redis = new Redis({
        ...perRole,
        ...credentials,
        ...(credentials.tls ? { enableTLSForSentinelMode: true } : {}),
        sentinels: settings.nodes.map(hostPort),
        name: settings.sentinelName,
        role: 'master',
        // reconnect to the new master as soon as a sentinel announces +switch-master
        failoverDetector: true,
        lazyConnect: false,
        enableOfflineQueue: offlineQueue,
      });
      keepConnecting(redis);
      break;
    }
    case 'cluster': {
      const options: ClusterOptions = {
        // Per node: the role's retry and timeout rules. The cluster client itself
        // queues nothing for a fail-fast role while the slot map is unknown.
        redisOptions: { ...perRole, ...credentialsOf(settings.url) },
        enableOfflineQueue: offlineQueue,
        // Reads go to masters: an answer must see the write that came before it
        // (idempotency, the ledger), which a replica may not have yet.
        scaleReads: 'master',
        lazyConnect: false,
      };
      /*
       * A Cluster is handed out typed as Redis. That is sound for what the gateway
       * and BullMQ do with it: both classes share ioredis' Commander, so every
       * command the code sends (string, hash, set, sorted set and list commands,
       * EXISTS, UNLINK, defineCommand scripts, pipeline() and multi()) exists with
       * the same signature, and so do on/once, status, duplicate(), quit() and
       * disconnect(). BullMQ and rate-limiter-flexible detect a Cluster at run time
       * (`isCluster`) whatever the static type says. What differs, and is not used
       * on the gateway's paths: SCAN, KEYS, INFO, FLUSHDB and the like reach one
       * random master only (a scan over the whole cluster must go node by node,
       * `cluster.nodes('master')`); a multi-key command, a script or a MULTI must
       * name keys of one slot, and a pipeline keys served by one node — keys.ts
       * gives everything written together one hash tag.
       */
      redis = new Cluster(settings.nodes.map(hostPort), options) as unknown as Redis;
      break;
    }
  }
  // Errors surface on the commands that hit them; an unhandled 'error' event would end the process.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * ioredis gives a Sentinel connection up for good ('end') when the failover
 * detector's +switch-master lands while the connection is asking the sentinels
 * for the master (it closes the connector under the pending attempt: seen after
 * a kill -9 of the master, about one run in three). Until the gateway itself
 * closes it, such a connection is opened again, as a reconnect would have.
 */
function keepConnecting(redis: Redis): void {
  let closing = false;
  for (const method of ['disconnect', 'quit'] as const) {
    const original = redis[method].bind(redis) as (...args: unknown[]) => unknown;
    (redis as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      // disconnect(true) is a reconnect, not a close
      if (!(method === 'disconnect' && args[0] === true)) closing = true;
      return original(...args);
    };
  }
  let attempts = 0;
  redis.on('ready', () => {
    attempts = 0;
  });
  redis.on('end', () => {
    if (closing) return;
    setTimeout(() => {
      if (!closing && redis.status === 'end') redis.connect().catch(() => undefined);
    }, Math.min(100 * ++attempts, 1000));
  });
}

/** Resolves once `redis` is connected; fails after `timeoutMs` (for one-shot commands such as scripts). */
export async function whenReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis not reachable within ${timeoutMs} ms`)), timeoutMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** One Redis command: its name, then its arguments. */
export type RedisCommand = [name: string, ...args: (string | number | Buffer)[]];

/**
 * Sends commands that do not depend on each other in one write: a socket write
 * per command was the api's largest cost (bench/README.md). On Redis Cluster
 * their keys may live on different nodes, and a pipeline must stay on one, so
 * there each command goes on its own, all at once. Rejects with the first error.
 * (ioredis' enableAutoPipelining would do this for every command, but threw
 * uncaught TypeErrors from its callbacks in the suite: ioredis issue #1931.)
 */
export async function sendTogether(redis: Redis, commands: readonly RedisCommand[]): Promise<void> {
  if (commands.length === 0) return;
  if (redis.isCluster) {
    await Promise.all(commands.map((command) => redis.call(...command)));
    return;
  }
  const pipeline = redis.pipeline();
  for (const command of commands) pipeline.call(...command);
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error)?.[0];
  if (failed) throw failed;
}
