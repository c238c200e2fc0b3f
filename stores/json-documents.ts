import type { Redis } from 'ioredis';

/** Sets a key only while it still holds what the caller read: the change of one read-modify-write. */
const COMPARE_AND_SET = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0`;

interface Scripted {
  documentCompareAndSet(key: string, expected: string, next: string): Promise<number>;
}

/**
 * Records kept as one JSON value a key and changed by compare-and-set, so that
 * concurrent events (two workers, a partner's answer racing an operator's
 * cancel) never lose a step: a change computed from a stale copy is computed
 * again from the current one.
 */
export abstract class JsonDocumentStore<T> {
  protected readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
    if (!('documentCompareAndSet' in redis)) redis.defineCommand('documentCompareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET });
  }

  protected abstract keyOf(id: string): string;

  /** Stores a new document; false when one with that id exists already (it is left as it is). */
  async createDocument(id: string, document: T): Promise<boolean> {
    return (await this.redis.set(this.keyOf(id), JSON.stringify(document), 'NX')) === 'OK';
  }

  async get(id: string): Promise<T | undefined> {
    const json = await this.redis.get(this.keyOf(id));
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  /**
   * Applies `change` by compare-and-set, computing it again when another
   * process changed the document in between. `change` returning undefined
   * leaves it as it is; the result is the document as it now stands.
   */
  async update(id: string, change: (current: T) => T | undefined): Promise<T | undefined> {
    const key = this.keyOf(id);
    const scripted = this.redis as unknown as Scripted;
    for (;;) {
      const json = await this.redis.get(key);
      if (json === null) return undefined;
      const next = change(JSON.parse(json) as T);
      if (!next) return JSON.parse(json) as T;
      if ((await scripted.documentCompareAndSet(key, json, JSON.stringify(next))) === 1) return next;
    }
  }
}
