import { ulid } from 'ulid';
import { RedisStore } from './redis-store.ts';
import { pageOf, positionsBetween, type Page, type Position } from './keyset.ts';

export interface DeadLetter {
  id: string;
  queue: string;
  jobName: string;
  jobId: string;
  /** the original job payload, replayed as it was */
  data: unknown;
  partner: string;
  trackingNo: string;
  reason: string;
  attempts: number;
  at: string;
  replayedAt?: string;
  replayJobId?: string;
  /** set by an operator who decided the message is not to be sent */
  discarded?: { at: string; by: string; reason: string };
}

export interface DeadLetterFilter {
  partner?: string;
  queue?: string;
  /** a substring of the reason, e.g. DELIVERY_REFUSED */
  reason?: string;
  /** the error code the reason starts with (`DELIVERY_REFUSED: ...`), whole */
  code?: string;
  /** pending: neither replayed nor discarded */
  status?: 'pending' | 'replayed' | 'discarded';
}

export function matches(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  const status = letter.discarded ? 'discarded' : letter.replayedAt ? 'replayed' : 'pending';
  return (
    (filter.partner === undefined || letter.partner === filter.partner) &&
    (filter.queue === undefined || letter.queue === filter.queue) &&
    (filter.reason === undefined || letter.reason.includes(filter.reason)) &&
    (filter.code === undefined || letter.reason.startsWith(`${filter.code}:`)) &&
    (filter.status === undefined || status === filter.status)
  );
}

/** Letters read in one pipeline when a filter must look at each. */
const LETTERS_READ_AT_ONCE = 500;

/**
 * Messages the gateway could not deliver or process: a permanent refusal or
 * exhausted retries. Kept whole so that an operator can inspect and replay them.
 */
export class DeadLetterStore extends RedisStore {
  async add(letter: Omit<DeadLetter, 'id' | 'at'>): Promise<DeadLetter> {
    const now = this.now();
    const entry: DeadLetter = { ...letter, id: ulid(now), at: new Date(now).toISOString() };
    await this.redis
      .multi()
      .hset(this.keys.deadLetters.entry(entry.id), 'json', JSON.stringify(entry))
      .zadd(this.keys.deadLetters.byTime, now, entry.id)
      .exec();
    return entry;
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const json = await this.redis.hget(this.keys.deadLetters.entry(id), 'json');
    return json === null ? undefined : (JSON.parse(json) as DeadLetter);
  }

  async list(limit = 100): Promise<DeadLetter[]> {
    return (await this.newest(limit)).letters;
  }

  /** The newest `limit` letters, and how many there are in all; an unreadable entry is skipped. */
  async newest(limit: number): Promise<{ letters: DeadLetter[]; total: number }> {
    const { byTime, entry } = this.keys.deadLetters;
    const [ids, total] = await Promise.all([this.redis.zrevrange(byTime, 0, limit - 1), this.redis.zcard(byTime)]);
    const jsons = await Promise.all(ids.map((id) => this.redis.hget(entry(id), 'json')));
    const letters: DeadLetter[] = [];
    for (const json of jsons) {
      if (json === null) continue;
      try {
        letters.push(JSON.parse(json) as DeadLetter);
      } catch {
        // an unreadable entry is skipped, not fatal to the list
      }
    }
    return { letters, total };
  }

  /**
   * One page of the letters written in [from, to) that match `filter`, newest
   * first (by time, then id), after the place `after`, and how many match in
   * all. Without a filter only the page's letters are read; with one, every
   * letter in the range is read (a pipeline of `LETTERS_READ_AT_ONCE`) to count
   * them. An unreadable entry is skipped.
   */
  async page(query: { filter: DeadLetterFilter; from?: number | undefined; to?: number | undefined; after?: Position | undefined; limit: number }): Promise<Page<DeadLetter>> {
    const positions = await positionsBetween(this.redis, this.keys.deadLetters.byTime, query.from, query.to);
    if (Object.values(query.filter).every((value) => value === undefined)) {
      const page = pageOf(positions, (position) => position, 'newest-first', query.after, query.limit);
      const letters = await this.#read(page.items.map(({ id }) => id));
      return { ...page, items: letters.filter((letter): letter is DeadLetter => letter !== undefined) };
    }
    const matching: { letter: DeadLetter; position: Position }[] = [];
    for (let start = 0; start < positions.length; start += LETTERS_READ_AT_ONCE) {
      const chunk = positions.slice(start, start + LETTERS_READ_AT_ONCE);
      const letters = await this.#read(chunk.map(({ id }) => id));
      letters.forEach((letter, n) => {
        const position = chunk[n];
        if (letter && position && matches(letter, query.filter)) matching.push({ letter, position });
      });
    }
    const page = pageOf(matching, ({ position }) => position, 'newest-first', query.after, query.limit);
    return { ...page, items: page.items.map(({ letter }) => letter) };
  }

  /** Letters by id in one pipeline (one hash tag), undefined where gone or unreadable. */
  async #read(ids: readonly string[]): Promise<(DeadLetter | undefined)[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.deadLetters.entry(id), 'json');
    const replies = (await pipeline.exec()) ?? [];
    return ids.map((_, n) => {
      const json = replies[n]?.[1];
      if (typeof json !== 'string') return undefined;
      try {
        return JSON.parse(json) as DeadLetter;
      } catch {
        return undefined;
      }
    });
  }

  /** Removes letters written before `cutoffMs`, `batch` at a time; returns how many. */
  async purgeBefore(cutoffMs: number, batch: number): Promise<number> {
    const { byTime, entry } = this.keys.deadLetters;
    let purged = 0;
    for (;;) {
      const ids = await this.redis.zrangebyscore(byTime, '-inf', String(cutoffMs), 'LIMIT', 0, batch);
      if (ids.length === 0) return purged;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.unlink(entry(id)).zrem(byTime, id);
      await pipeline.exec();
      purged += ids.length;
    }
  }

  async discard(id: string, by: string, reason: string): Promise<DeadLetter | undefined> {
    const letter = await this.get(id);
    if (!letter) return undefined;
    const updated: DeadLetter = { ...letter, discarded: { at: new Date(this.now()).toISOString(), by, reason } };
    await this.redis.hset(this.keys.deadLetters.entry(id), 'json', JSON.stringify(updated));
    return updated;
  }

  async markReplayed(id: string, replayJobId: string): Promise<void> {
    const letter = await this.get(id);
    if (!letter) return;
    const updated: DeadLetter = { ...letter, replayedAt: new Date(this.now()).toISOString(), replayJobId };
    await this.redis.hset(this.keys.deadLetters.entry(id), 'json', JSON.stringify(updated));
  }
}
