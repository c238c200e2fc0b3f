import type { Redis } from 'ioredis';

/**
 * Keyset pages over the stores' lists: an entry's place is its time and its id
 * (epoch ms, then the id as text), so a page continues after the last entry a
 * caller saw, whatever was added meanwhile before or after it. A list is read
 * whole within its time range (ids and times, or the documents when a filter
 * needs them), so that it says how many entries match, not only the page.
 */

/** Where an entry stands in its list: its time (epoch ms) and its id. */
export interface Position {
  at: number;
  id: string;
}

/** `newest-first`: the latest time first (dead letters, messages, runs); `earliest-first`: the earliest first (windows). */
export type Order = 'newest-first' | 'earliest-first';

export interface Page<T> {
  items: T[];
  /** how many entries match, on every page */
  total: number;
  /** the place of the page's last entry when more follow it, else null */
  next: Position | null;
}

/** Earliest first: by time, then by id. */
export function comparePositions(a: Position, b: Position): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * One page of `entries` (every entry that matches, in any order): sorted by
 * `order`, the `limit` entries after `after` (from the first without it).
 */
export function pageOf<T>(entries: readonly T[], positionOf: (entry: T) => Position, order: Order, after: Position | undefined, limit: number): Page<T> {
  const sign = order === 'earliest-first' ? 1 : -1;
  const placed = entries.map((entry) => ({ entry, position: positionOf(entry) }));
  placed.sort((a, b) => sign * comparePositions(a.position, b.position));
  const following = after === undefined ? placed : placed.filter(({ position }) => sign * comparePositions(position, after) > 0);
  const page = following.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(({ entry }) => entry), total: entries.length, next: following.length > limit && last ? last.position : null };
}

/** Members of a sorted set scored by epoch ms read this many at a time. */
const RANGE_CHUNK = 1000;

/**
 * Every member of a sorted set (scored by epoch ms) with `from <= score < to`,
 * as positions, read in chunks; a member read twice (an insert moved the
 * chunks) is kept once.
 */
export async function positionsBetween(redis: Redis, key: string, from: number | undefined, to: number | undefined): Promise<Position[]> {
  const min = from === undefined ? '-inf' : String(from);
  const max = to === undefined ? '+inf' : `(${to}`;
  const seen = new Set<string>();
  const positions: Position[] = [];
  for (let offset = 0; ; offset += RANGE_CHUNK) {
    const flat = await redis.zrangebyscore(key, min, max, 'WITHSCORES', 'LIMIT', offset, RANGE_CHUNK);
    for (let n = 0; n + 1 < flat.length; n += 2) {
      const id = flat[n] as string;
      if (seen.has(id)) continue;
      seen.add(id);
      positions.push({ id, at: Number(flat[n + 1]) });
    }
    if (flat.length < 2 * RANGE_CHUNK) return positions;
  }
}
