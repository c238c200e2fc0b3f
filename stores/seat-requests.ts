import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';
import type { HostSeatRequest } from '../schemas/types.generated.ts';
import { ulidTime } from '../kernel/ids.ts';
import { scanKeys } from '../kernel/redis/scan.ts';
import { JsonDocumentStore } from './json-documents.ts';
import { positionsBetween } from './keyset.ts';

/** Keys a SCAN page when requests stored before the time index are looked for. */
const UNINDEXED_BATCH = 500;

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
  /** the SCAN for requests stored before the time index, done once a process (listEndingFrom) */
  #unindexedChecked: Promise<void> | undefined;

  constructor(redis: Redis, keys: Keys) {
    super(redis);
    this.#keys = keys;
  }

  protected keyOf(requestId: string): string {
    return this.#keys.seatRequest(requestId);
  }

  async create(seatRequest: SeatRequest): Promise<void> {
    // indexed first: an index entry without its document is dropped by retention, a document without one is found by its SCAN
    await this.redis.zadd(this.#keys.seatRequestsByEnd, endOf(seatRequest), seatRequest.requestId);
    await this.createDocument(seatRequest.requestId, seatRequest);
  }

  /**
   * Removes the requests whose life ended before `cutoffMs` (their window and
   * every update past), `batch` at a time; hands each batch, with the ids its
   * traces are indexed by, to `removeTogether` first, so that the caller removes
   * those too; returns how many. Requests stored before the time index existed
   * are found by SCAN first and indexed by what they carry (their window, their
   * dates, the ULID in their id): upgraded gateways purge them as well. The
   * index entry goes last, so a purge cut short is picked up by the next run;
   * any number of processes may run it at once (UNLINK and ZREM of what is
   * gone do nothing).
   */
  async purgeBefore(cutoffMs: number, batch: number, removeTogether: (purged: { trackingNo: string; searchIds: Record<string, string> }[]) => Promise<void>): Promise<number> {
    await this.#indexUnindexed(batch);
    let count = 0;
    for (;;) {
      const ids = await this.redis.zrangebyscore(this.#keys.seatRequestsByEnd, '-inf', `(${cutoffMs}`, 'LIMIT', 0, batch);
      if (ids.length === 0) return count;
      const documents = await Promise.all(ids.map((id) => this.get(id)));
      const purged: { trackingNo: string; searchIds: Record<string, string> }[] = [];
      const reindexed: (string | number)[] = [];
      ids.forEach((id, n) => {
        const document = documents[n];
        // changed since it was indexed (an update after the window, say): indexed again, not purged
        if (document && endOf(document) >= cutoffMs) reindexed.push(endOf(document), id);
        else purged.push({ trackingNo: id, searchIds: { requestId: id, ...(document ? { section: document.request.bidSectionCode } : {}) } });
      });
      await removeTogether(purged);
      // documents spread over the cluster: one command each
      await Promise.all(purged.map(({ trackingNo }) => this.redis.unlink(this.keyOf(trackingNo))));
      if (reindexed.length > 0) await this.redis.zadd(this.#keys.seatRequestsByEnd, ...reindexed);
      if (purged.length > 0) await this.redis.zrem(this.#keys.seatRequestsByEnd, ...purged.map(({ trackingNo }) => trackingNo));
      count += purged.length;
    }
  }

  /**
   * Every seat request whose life ends at or after `endingFrom` (every one
   * without it), in no order: the time index read whole, then each document.
   * Requests stored before the index existed are indexed once a process first
   * (as retention does), so that they are listed too.
   */
  async listEndingFrom(endingFrom?: number): Promise<SeatRequest[]> {
    this.#unindexedChecked ??= this.#indexUnindexed(UNINDEXED_BATCH).catch((error: unknown) => {
      this.#unindexedChecked = undefined;
      throw error;
    });
    await this.#unindexedChecked;
    const positions = await positionsBetween(this.redis, this.#keys.seatRequestsByEnd, endingFrom, undefined);
    // documents spread over the cluster: one command each
    const documents = await Promise.all(positions.map(({ id }) => this.get(id)));
    return documents.filter((document): document is SeatRequest => document !== undefined);
  }

  async #indexUnindexed(batch: number): Promise<void> {
    const prefix = this.keyOf('');
    await scanKeys(this.redis, `${prefix}*`, batch, async (keys) => {
      const ids = keys.map((key) => key.slice(prefix.length));
      const scores = await this.redis.zmscore(this.#keys.seatRequestsByEnd, ...ids);
      const missing = ids.filter((_, n) => scores[n] === null);
      if (missing.length === 0) return;
      const documents = await Promise.all(missing.map((id) => this.get(id)));
      const entries: (string | number)[] = [];
      missing.forEach((id, n) => {
        const document = documents[n];
        const end = document ? endOf(document) : ulidTime(id);
        if (end !== undefined) entries.push(end, id);
      });
      // NX: a request created meanwhile keeps the score its create gave it
      if (entries.length > 0) await this.redis.zadd(this.#keys.seatRequestsByEnd, 'NX', ...entries);
    });
  }
}

/** The end of a request's life: the latest of its window's end, its creation and its last update (epoch ms). */
function endOf(seatRequest: SeatRequest): number {
  const times = [seatRequest.request.end, seatRequest.createdAt, seatRequest.updatedAt].map((time) => Date.parse(time)).filter(Number.isFinite);
  return times.length > 0 ? Math.max(...times) : (ulidTime(seatRequest.requestId) ?? 0);
}
