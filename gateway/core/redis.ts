import { Redis, type RedisOptions } from 'ioredis';
import type { GatewayConfig } from '../../config/index.ts';

export type RedisRole = 'command' | 'queue' | 'worker';

/**
 * Connections by use. Commands that answer a partner fail fast (no offline
 * queue, one retry) so that an unreachable Redis becomes a 503, not a hang.
 * BullMQ workers block on Redis and must retry forever (maxRetriesPerRequest: null).
 */
export function createRedis(settings: Readonly<GatewayConfig['redis']>, role: RedisRole): Redis {
  const url = settings.url ?? '';
  const commandTimeoutMs = settings.commandTimeoutMs;
  const common: RedisOptions = {
    lazyConnect: false,
    connectionName: `zzgw-${role}`,
  };
  const options: RedisOptions =
    role === 'worker'
      ? { ...common, maxRetriesPerRequest: null, enableOfflineQueue: true }
      : { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: commandTimeoutMs };
  const redis = new Redis(url, options);
  // Errors surface on the commands that hit them; an unhandled 'error' event would end the process.
  redis.on('error', () => undefined);
  return redis;
}
