import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';
import type { HostSeatRequest } from '../schemas/types.generated.ts';

/** Where a seat request Zhuzhou made as host stands. */
export type SeatRequestState = 'requested' | 'confirmed' | 'declined' | 'released';

export interface SeatRequest {
  requestId: string;
  partner: string;
  state: SeatRequestState;
  request: HostSeatRequest;
  createdAt: string;
  updatedAt: string;
  offer?: { offerId: string; roomId: string; seatIds: string[]; holdExpiresAt: string };
  reason?: string;
}

/**
 * Seat requests of the center's own evaluations (Zhuzhou as host). Each is one
 * JSON value changed by compare-and-set, so concurrent events never lose a step.
 */
const COMPARE_AND_SET = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0`;

export class SeatRequestStore {
  readonly #redis: Redis;
  readonly #keys: Keys;

  constructor(redis: Redis, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
    if (!('seatRequestCas' in redis)) redis.defineCommand('seatRequestCas', { numberOfKeys: 1, lua: COMPARE_AND_SET });
  }

  #key(requestId: string): string {
    return this.#keys.seatRequest(requestId);
  }

  async create(seatRequest: SeatRequest): Promise<void> {
    await this.#redis.set(this.#key(seatRequest.requestId), JSON.stringify(seatRequest), 'NX');
  }

  async get(requestId: string): Promise<SeatRequest | undefined> {
    const json = await this.#redis.get(this.#key(requestId));
    return json === null ? undefined : (JSON.parse(json) as SeatRequest);
  }

  /**
   * Applies `change` by compare-and-set, retrying when another process changed
   * the request in between. `change` returning undefined leaves it as it is.
   */
  async update(requestId: string, change: (current: SeatRequest) => SeatRequest | undefined): Promise<SeatRequest | undefined> {
    const key = this.#key(requestId);
    const scripted = this.#redis as unknown as { seatRequestCas(key: string, expected: string, next: string): Promise<number> };
    for (;;) {
      const json = await this.#redis.get(key);
      if (json === null) return undefined;
      const current = JSON.parse(json) as SeatRequest;
      const next = change(current);
      if (!next) return current;
      if ((await scripted.seatRequestCas(key, json, JSON.stringify(next))) === 1) return next;
    }
  }
}
