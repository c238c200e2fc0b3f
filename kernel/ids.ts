import { decodeTime, monotonicFactory } from 'ulid';
import { randomFraction } from './crypto/random.ts';

/**
 * A ULID factory: sortable by time, increasing within one millisecond. Each
 * use keeps its own, so that one kind of id never skips values of another.
 */
export function idFactory(): (seedTime?: number) => string {
  return monotonicFactory(randomFraction);
}

/**
 * The time (epoch ms) a ULID was made, found anywhere in `id` (a tracking
 * number is one, a seat request id carries one after its prefix); undefined
 * when it holds none. Retention dates by it what has no time index.
 */
export function ulidTime(id: string): number | undefined {
  const found = /[0-7][0-9A-HJKMNP-TV-Z]{25}$/.exec(id);
  if (!found) return undefined;
  try {
    return decodeTime(found[0]);
  } catch {
    return undefined;
  }
}
