import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';
import type { HostSeatRequest } from '../schemas/types.generated.ts';
import { JsonDocumentStore } from './json-documents.ts';

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
export class SeatRequestStore extends JsonDocumentStore<SeatRequest> {
  readonly #keys: Keys;

  constructor(redis: Redis, keys: Keys) {
    super(redis);
    this.#keys = keys;
  }

  protected keyOf(requestId: string): string {
    return this.#keys.seatRequest(requestId);
  }

  async create(seatRequest: SeatRequest): Promise<void> {
    await this.createDocument(seatRequest.requestId, seatRequest);
  }
}
