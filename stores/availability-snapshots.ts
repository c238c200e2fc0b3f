import type { Availability } from '../schemas/types.generated.ts';
import { RedisStore } from './redis-store.ts';

/** Each partner's latest availability (pushed or polled), one key a partner. */
export class AvailabilitySnapshotStore extends RedisStore {
  async store(availability: Availability): Promise<void> {
    await this.redis.set(this.keys.availability(availability.partner), JSON.stringify({ ...availability, storedAt: new Date(this.now()).toISOString() }));
  }

  async latest(partner: string): Promise<unknown> {
    const json = await this.redis.get(this.keys.availability(partner));
    return json === null ? undefined : (JSON.parse(json) as unknown);
  }
}
