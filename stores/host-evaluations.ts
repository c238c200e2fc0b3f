import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';
import { JsonDocumentStore } from './json-documents.ts';

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
   * A change moves the window: the index follows the document. Called after
   * each update that may have moved it (idempotent).
   */
  async reindex(evaluation: T): Promise<void> {
    await this.redis.zadd(this.#keys.hostEvaluationsByStart, evaluation.plan.start, evaluation.id);
  }
}
