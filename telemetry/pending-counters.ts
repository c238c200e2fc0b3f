import type { Redis } from 'ioredis';

/** how long a count may wait in the process before it is written */
const FLUSH_AFTER_MS = 1000;

/**
 * Counters of one process that are not in Redis yet. Every answer and delivery
 * used to write its own pipeline, one write per request (a sixth of the api's
 * Redis traffic, bench/README.md); counted here, they go out at most a second
 * later, all in one pipeline. A process that dies loses that second of counts,
 * never a message.
 */
export class PendingCounters {
  readonly #redis: Redis;
  readonly #onError: (error: unknown) => void;
  /** key -> field -> increment */
  #increments = new Map<string, Map<string, number>>();
  /** key -> seconds to live, set again at each flush */
  #ttls = new Map<string, number>();
  /** key -> field -> latest epoch ms */
  #latest = new Map<string, Map<string, number>>();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(redis: Redis, onError: (error: unknown) => void) {
    this.#redis = redis;
    this.#onError = onError;
  }

  /** adds to a field of a hash; with `ttlSeconds`, the hash expires that long after its last write */
  increment(key: string, field: string, options: { by?: number; ttlSeconds?: number } = {}): void {
    const fields = this.#increments.get(key) ?? new Map<string, number>();
    fields.set(field, (fields.get(field) ?? 0) + (options.by ?? 1));
    this.#increments.set(key, fields);
    if (options.ttlSeconds !== undefined) this.#ttls.set(key, options.ttlSeconds);
    this.#schedule();
  }

  /** keeps the latest of the times given for a field (a hash of epoch ms) */
  latest(key: string, field: string, at: number): void {
    const fields = this.#latest.get(key) ?? new Map<string, number>();
    fields.set(field, Math.max(at, fields.get(field) ?? 0));
    this.#latest.set(key, fields);
    this.#schedule();
  }

  /** Writes what is pending; resolves when it and every earlier flush are written (or failed). Never rejects. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const increments = this.#increments;
    const latest = this.#latest;
    const ttls = this.#ttls;
    this.#increments = new Map();
    this.#latest = new Map();
    this.#ttls = new Map();
    if (increments.size === 0 && latest.size === 0) return this.#inFlight;
    const pipeline = this.#redis.pipeline();
    for (const [key, fields] of increments) {
      for (const [field, by] of fields) pipeline.hincrby(key, field, by);
      const ttl = ttls.get(key);
      if (ttl !== undefined) pipeline.expire(key, ttl);
    }
    for (const [key, fields] of latest) {
      for (const [field, at] of fields) pipeline.hset(key, field, String(at));
    }
    const written = pipeline.exec().then((results) => {
      const failed = results?.find(([error]) => error)?.[0];
      if (failed) this.#onError(failed);
    }, this.#onError);
    this.#inFlight = Promise.all([this.#inFlight, written]).then(() => undefined);
    return this.#inFlight;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => void this.flush(), FLUSH_AFTER_MS);
    // pending counts never keep a process alive: close() flushes them
    this.#timer.unref();
  }
}
