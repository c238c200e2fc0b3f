import { monotonicFactory } from 'ulid';
import { randomFraction } from './crypto/random.ts';

/**
 * A ULID factory: sortable by time, increasing within one millisecond. Each
 * use keeps its own, so that one kind of id never skips values of another.
 */
export function idFactory(): (seedTime?: number) => string {
  return monotonicFactory(randomFraction);
}
