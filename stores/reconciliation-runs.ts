import type { Redis } from 'ioredis';
import type { Keys } from '../kernel/redis/keys.ts';

/** how many runs are kept, newest first */
const KEPT_RUNS = 100;

export interface Difference {
  requestId: string;
  partner: { start: string; end: string; seats: number };
  gateway: { state: string; start?: string; end?: string; seats?: number; roomId: string };
}

export interface ReconciliationRun {
  runId: string;
  reason: string;
  startedAt: string;
  finishedAt: string;
  partner: string;
  days: string[];
  /** held by the partner, never received here: now recorded and processed as if pushed */
  missed: string[];
  /** held by both, but not alike (window, seats, or not in force here) */
  different: Difference[];
  /** in force here, unknown to the partner */
  extra: string[];
  /** received here, not decided yet: compared again next run */
  pending: string[];
  errors: string[];
}

/** The reconciliation runs (a capped list) and when the last one finished. */
export class ReconciliationRunStore {
  readonly #redis: Redis;
  readonly #keys: Keys;

  constructor(redis: Redis, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async add(run: ReconciliationRun): Promise<void> {
    const { runs } = this.#keys.reconciliation;
    await this.#redis.multi().lpush(runs, JSON.stringify(run)).ltrim(runs, 0, KEPT_RUNS - 1).exec();
  }

  async recent(limit = 20): Promise<ReconciliationRun[]> {
    return (await this.#redis.lrange(this.#keys.reconciliation.runs, 0, limit - 1)).map((json) => JSON.parse(json) as ReconciliationRun);
  }

  /** A reconciliation of every partner finished at `at` (epoch ms). */
  async finished(at: number): Promise<void> {
    await this.#redis.set(this.#keys.reconciliation.last, String(at));
  }

  /** When the last reconciliation finished (epoch ms), if any did. */
  async last(): Promise<number | undefined> {
    const value = await this.#redis.get(this.#keys.reconciliation.last);
    return value === null ? undefined : Number(value);
  }
}
