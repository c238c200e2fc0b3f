import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';
import { RedisStore } from './redis-store.ts';

const MINUTE_MS = 60_000;

export type ThrottleVerdict =
  | { ok: true }
  /** `first`: the first refusal of this address in this minute, the one worth an audit entry */
  | { ok: false; first: boolean; retryAfterSeconds: number };

/**
 * Dashboard logins per client address and clock minute, counted in Redis so that
 * every api process shares one count. The account lockout protects one account;
 * this bounds how fast one address may guess across all of them, and how much
 * password hashing (slow on purpose) it can make the gateway do.
 */
export class LoginThrottle extends RedisStore {
  readonly #perMinute: number;

  constructor(redis: Redis, keys: Keys, now: () => number, perMinute: number) {
    super(redis, keys, now);
    this.#perMinute = perMinute;
  }

  async admit(address: string): Promise<ThrottleVerdict> {
    const now = this.now();
    const minute = Math.floor(now / MINUTE_MS);
    const key = this.keys.opsLoginRate(address, minute);
    // two minutes: the key outlives its minute whatever the skew between our clock and Redis'
    const [[, count] = [null, 0]] = ((await this.redis.multi().incr(key).pexpire(key, 2 * MINUTE_MS).exec()) ?? []) as [unknown, number][];
    if (count <= this.#perMinute) return { ok: true };
    return { ok: false, first: count === this.#perMinute + 1, retryAfterSeconds: Math.max(1, Math.ceil(((minute + 1) * MINUTE_MS - now) / 1000)) };
  }
}
