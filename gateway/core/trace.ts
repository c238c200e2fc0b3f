import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';
import { redact } from './pii.ts';

export interface TraceEntry {
  at: string;
  stage: string;
  [detail: string]: unknown;
}

/** Searchable ids of a message, by kind. */
export type SearchKind = 'dataUuid' | 'series' | 'section' | 'trackingNo' | 'messageId' | 'eventId' | 'requestId';

/**
 * Every message's story: raw as received, canonical, ledger decision, every
 * delivery attempt. Details are redacted before they are written.
 */
export class TraceStore {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #now: () => number;

  constructor(redis: Redis, keys: Keys, now: () => number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#now = now;
  }

  async append(trackingNo: string, stage: string, detail: Record<string, unknown> = {}): Promise<void> {
    const entry = { at: new Date(this.#now()).toISOString(), stage, ...(redact(detail) as Record<string, unknown>) };
    await this.#redis.rpush(this.#keys.trace(trackingNo), JSON.stringify(entry));
  }

  async index(trackingNo: string, ids: Partial<Record<SearchKind, string>>): Promise<void> {
    const pipeline = this.#redis.pipeline();
    for (const [kind, value] of Object.entries(ids)) {
      if (value) pipeline.sadd(this.#keys.index(kind, value), trackingNo);
    }
    await pipeline.exec();
  }

  async find(kind: SearchKind, value: string): Promise<string[]> {
    if (kind === 'trackingNo') return (await this.#redis.exists(this.#keys.trace(value))) ? [value] : [];
    return (await this.#redis.smembers(this.#keys.index(kind, value))).sort();
  }

  async read(trackingNo: string): Promise<TraceEntry[]> {
    const entries = await this.#redis.lrange(this.#keys.trace(trackingNo), 0, -1);
    return entries.map((entry) => JSON.parse(entry) as TraceEntry);
  }
}
