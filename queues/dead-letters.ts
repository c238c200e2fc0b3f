import type { Redis } from 'ioredis';
import { ulid } from 'ulid';
import type { Keys } from '../gateway/core/keys.ts';

export interface DeadLetter {
  id: string;
  queue: string;
  jobName: string;
  jobId: string;
  /** the original job payload, replayed as it was */
  data: unknown;
  partner: string;
  trackingNo: string;
  reason: string;
  attempts: number;
  at: string;
  replayedAt?: string;
  replayJobId?: string;
}

/**
 * Messages the gateway could not deliver or process: a permanent refusal or
 * exhausted retries. Kept whole so that an operator can inspect and replay them.
 */
export class DeadLetterStore {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #now: () => number;

  constructor(redis: Redis, keys: Keys, now: () => number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#now = now;
  }

  async add(letter: Omit<DeadLetter, 'id' | 'at'>): Promise<DeadLetter> {
    const now = this.#now();
    const entry: DeadLetter = { ...letter, id: ulid(now), at: new Date(now).toISOString() };
    await this.#redis
      .multi()
      .hset(this.#keys.deadLetters.entry(entry.id), 'json', JSON.stringify(entry))
      .zadd(this.#keys.deadLetters.byTime, now, entry.id)
      .exec();
    return entry;
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const json = await this.#redis.hget(this.#keys.deadLetters.entry(id), 'json');
    return json === null ? undefined : (JSON.parse(json) as DeadLetter);
  }

  async list(limit = 100): Promise<DeadLetter[]> {
    const ids = await this.#redis.zrevrange(this.#keys.deadLetters.byTime, 0, limit - 1);
    const letters = await Promise.all(ids.map((id) => this.get(id)));
    return letters.filter((letter): letter is DeadLetter => letter !== undefined);
  }

  async markReplayed(id: string, replayJobId: string): Promise<void> {
    const letter = await this.get(id);
    if (!letter) return;
    const updated: DeadLetter = { ...letter, replayedAt: new Date(this.#now()).toISOString(), replayJobId };
    await this.#redis.hset(this.#keys.deadLetters.entry(id), 'json', JSON.stringify(updated));
  }
}
