import session from 'express-session';
import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';

/**
 * express-session's store on the gateway's own Redis connection (connect-redis
 * 10 speaks node-redis only). Each session lives as long as the idle timeout,
 * renewed by every request (`rolling`), so an idle session simply expires.
 */
export class RedisSessionStore extends session.Store {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, keys: Keys, idleMinutes: number) {
    super();
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlSeconds = idleMinutes * 60;
  }

  override get(sid: string, callback: (error: unknown, session?: session.SessionData | null) => void): void {
    this.#redis.get(this.#keys.opsSession(sid)).then(
      (json) => callback(null, json === null ? null : (JSON.parse(json) as session.SessionData)),
      (error: unknown) => callback(error),
    );
  }

  override set(sid: string, data: session.SessionData, callback?: (error?: unknown) => void): void {
    this.#redis.set(this.#keys.opsSession(sid), JSON.stringify(data), 'EX', this.#ttlSeconds).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override destroy(sid: string, callback?: (error?: unknown) => void): void {
    this.#redis.del(this.#keys.opsSession(sid)).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override touch(sid: string, _data: session.SessionData, callback?: () => void): void {
    this.#redis.expire(this.#keys.opsSession(sid), this.#ttlSeconds).then(
      () => callback?.(),
      () => callback?.(),
    );
  }
}
