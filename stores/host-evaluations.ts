import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';
import { DAY_MS } from '../kernel/beijing-time.ts';
import { JsonDocumentStore } from './json-documents.ts';
import { positionsBetween } from './keyset.ts';

/** What the store needs of a host evaluation to find it again: its id and when its window starts. */
export interface HostEvaluationDocument {
  id: string;
  plan: { start: number };
}

/**
 * Host evaluations (Zhuzhou as host), one JSON value each changed by
 * compare-and-set, and an index by the start of their window. The document's
 * shape is the use case's (usecases/hosting): the store only keeps it.
 */
export class HostEvaluationStore<T extends HostEvaluationDocument> extends JsonDocumentStore<T> {
  readonly #keys: Keys;

  constructor(redis: Redis, keys: Keys) {
    super(redis);
    this.#keys = keys;
  }

  protected keyOf(id: string): string {
    return this.#keys.hostEvaluation(id);
  }

  /** Stores a new evaluation; false when its id is taken (a repeated create is answered, not made twice). */
  async create(evaluation: T): Promise<boolean> {
    // indexed first: an index entry without its document is skipped, a document without one is never listed
    await this.redis.zadd(this.#keys.hostEvaluationsByStart, evaluation.plan.start, evaluation.id);
    return this.createDocument(evaluation.id, evaluation);
  }

  /** The evaluations whose window starts in [from, to), earliest first. */
  async startingBetween(from: number, to: number, limit = 500): Promise<T[]> {
    const ids = await this.redis.zrangebyscore(this.#keys.hostEvaluationsByStart, String(from), `(${to}`, 'LIMIT', 0, limit);
    const found = await Promise.all(ids.map((id) => this.get(id)));
    return found.filter((evaluation): evaluation is Awaited<T> => evaluation !== undefined);
  }

  /**
   * Every evaluation whose window starts in [from, to) (either open when not
   * given), in no order: the index read whole, then each document; an index
   * entry without its document is skipped.
   */
  async startingWithin(from: number | undefined, to: number | undefined): Promise<T[]> {
    const positions = await positionsBetween(this.redis, this.#keys.hostEvaluationsByStart, from, to);
    // documents spread over the cluster: one command each
    const found = await Promise.all(positions.map(({ id }) => this.get(id)));
    return found.filter((evaluation): evaluation is Awaited<T> => evaluation !== undefined);
  }

  /**
   * A change moves the window: the index follows the document. Called after
   * each update that may have moved it (idempotent).
   */
  async reindex(evaluation: T): Promise<void> {
    await this.redis.zadd(this.#keys.hostEvaluationsByStart, evaluation.plan.start, evaluation.id);
  }

  /**
   * Retention: removes, `batch` at a time, the evaluations whose window started
   * a day or more before `cutoffMs` (a window lies within a day, so it ended
   * before the cutoff), documents first and index entries last, so a purge cut
   * short is picked up by the next run; returns how many. Idempotent, and safe
   * from several processes at once.
   */
  async purgeBefore(cutoffMs: number, batch: number): Promise<number> {
    let purged = 0;
    for (;;) {
      const ids = await this.redis.zrangebyscore(this.#keys.hostEvaluationsByStart, '-inf', `(${cutoffMs - DAY_MS}`, 'LIMIT', 0, batch);
      if (ids.length === 0) return purged;
      // documents spread over the cluster: one command each
      await Promise.all(ids.map((id) => this.redis.unlink(this.keyOf(id))));
      await this.redis.zrem(this.#keys.hostEvaluationsByStart, ...ids);
      purged += ids.length;
    }
  }
}
