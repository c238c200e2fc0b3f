import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';

/** What a store stands on: its Redis connection, the key names, and the clock its entries are stamped by. */
export abstract class RedisStore {
  protected readonly redis: Redis;
  protected readonly keys: Keys;
  protected readonly now: () => number;

  constructor(redis: Redis, keys: Keys, now: () => number) {
    this.redis = redis;
    this.keys = keys;
    this.now = now;
  }
}
