/**
 * A small seeded pseudo-random generator (mulberry32), so that a simulator's
 * choices repeat given its seed: a test pins them, a trial prints its seed.
 * Never for secrets or ids that must not be guessed (kernel/crypto/random.ts).
 */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max); `int(n)` is one in [0, n). */
  int(minOrMax: number, max?: number): number {
    const [low, high] = max === undefined ? [0, minOrMax] : [minOrMax, max];
    return low + Math.floor(this.next() * (high - low));
  }

  /** True with probability `p` (0: never, 1: always). */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** `count` distinct items of `items`, in a random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const chosen: T[] = [];
    while (chosen.length < count && pool.length > 0) chosen.push(...pool.splice(this.int(pool.length), 1));
    return chosen;
  }
}

/** A seed for a run that was given none (printed, so the run can be repeated). */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
