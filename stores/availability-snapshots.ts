import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';
import type { Availability } from '../schemas/types.generated.ts';

/** Each partner's latest availability (pushed or polled), one key a partner. */
export class AvailabilitySnapshotStore {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #now: () => number;

  constructor(redis: Redis, keys: Keys, now: () => number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#now = now;
  }

  async store(availability: Availability): Promise<void> {
    await this.#redis.set(this.#keys.availability(availability.partner), JSON.stringify({ ...availability, storedAt: new Date(this.#now()).toISOString() }));
  }

  async latest(partner: string): Promise<unknown> {
    const json = await this.#redis.get(this.#keys.availability(partner));
    return json === null ? undefined : (JSON.parse(json) as unknown);
  }
}
